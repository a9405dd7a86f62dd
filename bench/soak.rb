# frozen_string_literal: true

# rake soak: TURNS chat turns (default 1000) through a Sidekiq process of its own
# (spec/rails_app/script/worker_process.rb on the spec app, PostgreSQL and Redis),
# with faults injected by LocalProvider in at least one turn in ten (connection
# resets, stalls, 429, 529, mid-stream error events, truncated streams) and KILLS
# process kills (default 10): each phase's worker is killed while turns run, a
# fresh one is started, and the Reaper runs when the gem has one. kill -9 and TERM
# alternate; kill -9 is used only with the Reaper, since basic fetch loses a
# kill -9'd job and only the Reaper puts it back. A kill waits until the queue is
# empty and every job has saved its user message (see killable?).
#
# Checked: every turn ends completed, or failed with copy (an error broadcast
# with text); no user message lost or saved twice; no text the page showed taken
# off it (the chunks replayed as a browser puts them); one assistant row per turn;
# no non-idempotent tool run twice; no lock left; the worker's RSS and open file descriptors flat within a
# process (growth under 10% between samples taken after its first and last
# batch). Results go to bench/results/soak.md (SOAK_RESULTS= to write elsewhere,
# "-" for none); exits 1 when a check fails.
#
#   TURNS=1000 KILLS=10 CONCURRENCY=4 bundle exec rake soak

require "bundler/setup"
require "etc"
require "json"
require "time"
require "timeout"
require "assistant_chat_native"
require "sidekiq/api"
require_relative "../spec/support/services"
require_relative "../spec/support/rails_app"
require_relative "../spec/support/worker_process"
require_relative "../spec/support/page_replay"
require_relative "../spec/support/broadcast_relay"

module Soak
  TURNS = Integer(ENV.fetch("TURNS", "1000"))
  KILLS = Integer(ENV.fetch("KILLS", "10"))
  CONCURRENCY = Integer(ENV.fetch("CONCURRENCY", "4"))
  RESULTS = ENV.fetch("SOAK_RESULTS", File.join(__dir__, "results", "soak.md"))
  API_KEY = "sk-acn-soak-not-a-real-key"
  # The faults, one per faulty turn in turn, on that turn's first request; the
  # retry after each gets the turn's reply.
  FAULTS = [
    {reset_after: 200},
    {stall_after: 2, stall_for: 10},
    {status: 429, headers: {"retry-after" => "0"}},
    {status: 529},
    {error_event: {after: 3}},
    {close_without_terminal: true}
  ].freeze
  FAULT_EVERY = 7 # one turn in 7 (14%)
  TOOL_EVERY = 3

  class << self
    def run
      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      boot
      phases = KILLS + 1
      turns = (0...TURNS).to_a
      batches = turns.each_slice((TURNS.to_f / phases).ceil).to_a
      kills = []
      samples = []
      batches.each_with_index do |batch, index|
        kills << run_phase(batch, kill: (index < KILLS) ? kill_signal(kills.size) : nil, samples: samples)
      end
      wait_for_ends(turns)
      @worker.stop
      report(checks(turns), kills.compact, samples, Process.clock_gettime(Process::CLOCK_MONOTONIC) - started)
    ensure
      @worker&.stop
      @events&.close
      @provider&.stop
    end

    private

    def boot
      TestServices.start
      SpecRailsApp.boot!(database_url: TestServices.postgres_url)
      ActiveRecord::Base.logger = nil
      Sidekiq.configure_client { |config| config.redis = {url: TestServices.redis_url} }
      # The Reaper runs here and tells the user of a turn it cannot resume through
      # this process's Action Cable: relay it as the worker process does.
      BroadcastRelay.install(TestServices.redis_url)
      WorkerProcess.prepare_tables!
      @provider = AssistantChatNative::LocalProvider.start(log: nil)
      @provider.respond_with { |request| reply_for(request) }
      @events = Events.new
      @conversations = {}
      @worker = start_worker
    end

    def start_worker
      WorkerProcess.new(provider: @provider, api_key: API_KEY, timeout: 1, concurrency: CONCURRENCY)
    end

    def reaper?
      defined?(AssistantChatNative::Reaper) ? true : false
    end

    def kill_signal(index)
      (reaper? && index.even?) ? "KILL" : "TERM"
    end

    def marker(turn) = "soak turn #{turn}."

    def reply_text(turn) = "Reply to #{marker(turn)} #{(1..24).map { |word| "word#{word}" }.join(" ")}"

    # The reply for requests no queued script answers: the turn's text, found
    # by the marker in its user message.
    def reply_for(request)
      turn = request.body.to_s[/soak turn (\d+)\./, 1] or return nil
      {text: reply_text(Integer(turn)), token_rate: 150}
    end

    def enqueue_turn(turn)
      conversation = Conversation.create!
      @conversations[turn] = conversation
      @events.watch(stream_for(conversation), turn)
      match = ->(request) { request.body.to_s.include?(marker(turn)) }
      @provider.enqueue(match: match, **FAULTS[(turn / FAULT_EVERY) % FAULTS.size]) if (turn % FAULT_EVERY).zero?
      if (turn % TOOL_EVERY).zero?
        @provider.enqueue(match: match, tool_calls: [{name: "query_database", id: "toolu_#{turn}", arguments: {"sql" => "SELECT #{turn}"}}])
      end
      AssistantChatWorker.perform_async(conversation.id, "Question #{marker(turn)}", "claude-sonnet", ["app_db"], {})
    end

    def stream_for(record) = record.try(:to_gid_param) || record.to_param

    # One phase: half its turns, a resource sample, the rest, another sample;
    # with kill, the worker is killed while the rest stream, then a fresh one
    # starts and the Reaper runs.
    def run_phase(batch, kill:, samples:)
      first, second = batch.each_slice((batch.size / 2.0).ceil).to_a
      first.each { |turn| enqueue_turn(turn) }
      wait_for_ends(first)
      before = @worker.resources
      second ||= []
      second.each { |turn| enqueue_turn(turn) }
      if kill
        wait_until(30, "a turn to be streaming with every fetched job started") { killable?(second) }
        samples << {pid: @worker.pid, before: before, after: @worker.resources}
        @worker.kill(kill)
        @worker.wait
        @worker = start_worker
        AssistantChatNative::Reaper.new(stale_after: 0).call if reaper?
      end
      wait_for_ends(second)
      samples << {pid: @worker.pid, before: before, after: @worker.resources} unless kill
      kill && {signal: kill}
    end

    # A kill lands while a turn streams, and only once Sidekiq's queue is empty
    # and every turn of the phase has saved its user message. Basic fetch takes a
    # job out of Redis before the job runs, so a job fetched and not yet at its
    # first write dies with the process whatever the gem does (Sidekiq Pro's
    # super_fetch keeps it); the soak holds the gem to what it can keep: every
    # turn whose job had started.
    def killable?(turns)
      return false unless @events.streaming?(turns)
      return false unless Sidekiq::Queue.new(AssistantChatWorker.get_sidekiq_options["queue"]).size.zero?

      ids = turns.map { |turn| @conversations.fetch(turn).id }
      Message.where(conversation_id: ids, role: "user").distinct.count(:conversation_id) == ids.size
    end

    def wait_for_ends(turns)
      wait_until(120, "turns to end") { turns.all? { |turn| @events.ended?(turn) && !locked?(turn) } }
    rescue Timeout::Error
      nil # reported by the checks
    end

    def locked?(turn)
      !Conversation.where(id: @conversations.fetch(turn).id).where.not(processing_by_id: nil).empty?
    end

    def wait_until(seconds, what)
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + seconds
      until yield
        raise Timeout::Error, "timed out waiting for #{what}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

        sleep 0.05
      end
    end

    def checks(turns)
      ids = turns.map { |turn| @conversations.fetch(turn).id }
      users = Message.where(conversation_id: ids, role: "user").group(:conversation_id).count
      replies = Message.where(conversation_id: ids, role: "assistant").group(:conversation_id).count
      runs = ActiveRecord::Base.connection.select_rows(
        "SELECT count(*) FROM tool_runs GROUP BY conversation_id, tool_call_id HAVING count(*) > 1"
      )
      {
        completed: turns.count { |turn| @events.outcome(turn) == :completed },
        failed_with_copy: turns.count { |turn| @events.outcome(turn) == :failed },
        unfinished: turns.count { |turn| @events.outcome(turn).nil? },
        lost_user_messages: ids.count { |id| users[id].to_i.zero? },
        repeated_user_messages: ids.count { |id| users[id].to_i > 1 },
        text_taken_back: turns.count { |turn| PageReplay.shrinks(@events.chunks(turn)).any? },
        extra_reply_rows: ids.count { |id| replies[id].to_i > 1 },
        repeated_tool_runs: runs.size,
        tool_runs: ActiveRecord::Base.connection.select_value("SELECT count(*) FROM tool_runs").to_i,
        locks_left: Conversation.where(id: ids).where.not(processing_by_id: nil).count,
        faulty_turns: turns.count { |turn| (turn % FAULT_EVERY).zero? }
      }
    end

    def growth(samples, key)
      samples.map { |sample| (sample[:after][key] - sample[:before][key]) * 100.0 / sample[:before][key] }.max || 0.0
    end

    def report(numbers, kills, samples, seconds)
      rss = growth(samples, :rss_kb)
      fds = growth(samples, :fds)
      failures = []
      failures << "#{numbers[:unfinished]} turns unfinished" if numbers[:unfinished].positive?
      %i[lost_user_messages repeated_user_messages text_taken_back extra_reply_rows repeated_tool_runs locks_left].each do |key|
        failures << "#{numbers[key]} #{key.to_s.tr("_", " ")}" if numbers[key].positive?
      end
      failures << format("RSS grew %.1f%%", rss) if rss >= 10
      failures << format("open file descriptors grew %.1f%%", fds) if fds >= 10
      lines = markdown(numbers, kills, samples, rss, fds, seconds, failures)
      puts lines
      write(lines) unless RESULTS == "-"
      exit(1) unless failures.empty?
    end

    def markdown(numbers, kills, samples, rss, fds, seconds, failures)
      signals = kills.map { |kill| kill[:signal] }.tally
      [
        "# Soak: #{TURNS} turns, #{kills.size} process kills",
        "",
        "#{Time.now.utc.iso8601}, #{Etc.nprocessors} CPUs (#{cpu_model}), ruby #{RUBY_VERSION}, " \
          "Sidekiq concurrency #{CONCURRENCY}, #{format("%.0f", seconds)} s.",
        "",
        "| measure | value |", "|---|---|",
        "| turns completed | #{numbers[:completed]} |",
        "| turns failed with copy | #{numbers[:failed_with_copy]} |",
        "| turns unfinished | #{numbers[:unfinished]} |",
        "| turns with an injected fault | #{numbers[:faulty_turns]} (#{FAULTS.size} kinds in turn) |",
        "| process kills | #{signals.map { |signal, count| "#{count} #{signal}" }.join(", ")} |",
        "| Reaper run after each kill | #{reaper? ? "yes" : "no (not in this build: kill -9 not used)"} |",
        "| lost user messages | #{numbers[:lost_user_messages]} |",
        "| user messages saved twice | #{numbers[:repeated_user_messages]} |",
        "| turns whose page had shown text taken off it | #{numbers[:text_taken_back]} |",
        "| turns with more than one assistant row | #{numbers[:extra_reply_rows]} |",
        "| repeated runs of the non-idempotent tool | #{numbers[:repeated_tool_runs]} (of #{numbers[:tool_runs]} runs) |",
        "| locks left | #{numbers[:locks_left]} |",
        "| worker RSS growth within a process, max | #{format("%.1f", rss)}% (#{samples.size} samples) |",
        "| worker open fds growth within a process, max | #{format("%.1f", fds)}% |",
        "",
        *(@events.copies.empty? ? [] : ["Failure copies shown: " + @events.copies.map { |text, count| "#{count} × \"#{text}\"" }.join("; "), ""]),
        failures.empty? ? "Every check passed." : "Failed: #{failures.join("; ")}."
      ]
    end

    def cpu_model
      File.read("/proc/cpuinfo")[/^model name\s*:\s*(.+)$/, 1] || RbConfig::CONFIG["host_cpu"]
    rescue Errno::ENOENT
      RbConfig::CONFIG["host_cpu"]
    end

    def write(lines)
      FileUtils.mkdir_p(File.dirname(RESULTS))
      File.write(RESULTS, lines.join("\n") + "\n")
    end
  end

  # Every broadcast of every worker process, relayed on Redis pubsub: which
  # turns streamed (and their chunks), completed, or failed with copy.
  class Events
    def initialize
      @turns = {}
      @outcomes = {}
      @streaming = {}
      @chunks = Hash.new { |hash, turn| hash[turn] = [] }
      @copies = Hash.new(0)
      @lock = Mutex.new
      @pubsub = RedisClient.new(url: TestServices.redis_url).pubsub
      @pubsub.call("PSUBSCRIBE", "*")
      @open = true
      @thread = Thread.new { listen while @open }
    end

    # How often each failure copy was shown.
    def copies = @lock.synchronize { @copies.dup }

    def watch(stream, turn)
      @lock.synchronize { @turns[stream] = turn }
    end

    def outcome(turn) = @lock.synchronize { @outcomes[turn] }

    def chunks(turn) = @lock.synchronize { @chunks[turn].dup }

    def ended?(turn) = !outcome(turn).nil?

    def streaming?(turns) = @lock.synchronize { turns.any? { |turn| @streaming[turn] && !@outcomes[turn] } }

    def close
      @open = false
      @thread.join(2)
      @pubsub.close
    end

    private

    def listen
      event = @pubsub.next_event(0.1)
      return unless event&.first == "pmessage"

      @lock.synchronize do
        turn = @turns[event[2]] or return # Sidekiq's own channels, say
        message = JSON.parse(event[3])
        case message["type"]
        when "chunk"
          @streaming[turn] = true
          @chunks[turn] << message
        when "complete" then @outcomes[turn] = :completed
        when "error"
          next if message["text"].to_s.empty?

          @outcomes[turn] ||= :failed
          @copies[message["text"]] += 1
        end
      end
    end
  end
end

Soak.run
