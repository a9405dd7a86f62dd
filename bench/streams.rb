# frozen_string_literal: true

# rake bench:streams: N concurrent streams (N = 1, 10, 50) of OpenAI chat
# completions from LocalProvider running in its own process, at full speed and
# at 100 events per second per stream, through three clients:
#
#   Stream       this gem's C client (libcurl, off the GVL)
#   Stream/Responses  the same client on the same reply in OpenAI's Responses dialect
#   RubyStream   this gem's plain-Ruby client (Net::HTTP, event_stream_parser, JSON.parse)
#   ruby-openai  ruby-openai 7.4's streaming chat (Faraday), with the handler's text kept
#
# Each (client, N, rate) runs in a freshly forked worker process, so CPU, allocations
# and RSS are that client's alone (the sleeper's own CPU is taken out). Per client it reports: worker CPU per streamed
# event, a sibling Ruby thread's scheduling delay (lateness of a 1 ms sleeper: p50,
# p99, max), Ruby allocations per event, RSS growth per stream, flushes per stream
# (handler calls; ruby-openai calls the block for every chunk), and the delay from
# a token's arrival to the flush that carries it (paced runs only: token i is taken
# to arrive i/rate seconds after token 0, which flushes at once), and how late each
# throttled flush came after its deadline. The table, with
# ratios against Stream, goes to stdout and bench/results/streams.md.
#
#   bundle exec rake bench:streams                 # the full run (a few minutes)
#   STREAMS=1,10 TOKENS=1000 PACED_SECONDS=2 bundle exec rake bench:streams

require "json"
require "time"
require "etc"
require "assistant_chat_native"

module StreamsBench
  COUNTS = ENV.fetch("STREAMS", "1,10,50").split(",").map { |n| Integer(n) }
  TOKENS = Integer(ENV.fetch("TOKENS", "2000"))          # per stream at full speed
  RATE = Integer(ENV.fetch("RATE", "100"))               # events per second per paced stream
  PACED_SECONDS = Float(ENV.fetch("PACED_SECONDS", "3")) # length of a paced stream
  BROADCAST_INTERVAL = 0.1
  SLEEP = 0.001
  RESULTS = File.expand_path("results/streams.md", __dir__)
  RESPONSES = "Stream/Responses"
  CLIENTS = ["Stream", RESPONSES, "RubyStream", "ruby-openai"].freeze

  module_function

  def monotonic
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  def cpu
    Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
  end

  def rss_kb
    File.read("/proc/self/status")[/^VmRSS:\s+(\d+)/, 1].to_i
  end

  def percentile(sorted, fraction)
    return 0.0 if sorted.empty?
    sorted[[(sorted.size * fraction).ceil - 1, 0].max]
  end

  def body(tokens)
    JSON.generate(model: "gpt-local", stream: true, stream_options: {include_usage: true},
      messages: [{role: "user", content: "Write #{tokens} words."}])
  end

  # What a broadcaster does with each flush: keeps the text, notes when it came.
  class Handler
    attr_reader :flushes, :lags

    def initialize(rate)
      @rate = rate
      @flushes = 0
      @lags = []
      @first_at = nil
      @flushed_at = []
    end

    def on_text(accumulated, _delta)
      now = StreamsBench.monotonic
      @flushes += 1
      @flushed_at << now if @rate
      note_lag(accumulated, now)
    end

    # How long after the throttle's deadline (the previous flush plus the interval)
    # each interval flush reached the handler. The first flush goes out at once and
    # the last one at the stream's end, so neither has a deadline to keep.
    def lateness(interval)
      @flushed_at[0...-1].each_cons(2).map { |before, after| after - (before + interval) }
    end

    # Token i is "w<i> ": the newest one in the text tells how far the flush got.
    def note_lag(accumulated, now)
      return unless @rate
      newest = accumulated[/w(\d+) \z/, 1]&.to_i or return
      @first_at ||= now - newest.fdiv(@rate)
      @lags << now - (@first_at + newest.fdiv(@rate))
    end
  end

  def responses_body(tokens)
    JSON.generate(model: "gpt-local", stream: true, store: false, input: [{role: "user", content: "Write #{tokens} words."}])
  end

  # The dialect a client speaks: Responses for RESPONSES, Chat Completions for the others.
  def dialect(client)
    (client == RESPONSES) ? :openai_responses : :openai
  end

  def run_one(client, url, base_url, tokens, rate)
    handler = Handler.new(rate)
    case client
    when "Stream", "RubyStream", RESPONSES
      klass = (client == "RubyStream") ? AssistantChatNative::RubyStream : AssistantChatNative::Stream
      request = (client == RESPONSES) ? responses_body(tokens) : body(tokens)
      result = klass.new(provider: dialect(client), url: url, headers: {"authorization" => "Bearer sk-local"},
        body: request, broadcast_interval: BROADCAST_INTERVAL).run(handler)
      raise "#{client} failed: #{result.failure.inspect}" if result.failure
      [result.stats[:events], handler]
    else
      openai = OpenAI::Client.new(access_token: "sk-local", uri_base: base_url, request_timeout: 600)
      text = +""
      events = 0
      stream = proc do |chunk, _bytesize|
        events += 1
        piece = chunk.dig("choices", 0, "delta", "content")
        next unless piece
        text << piece
        handler.on_text(text, piece)
      end
      openai.chat(parameters: JSON.parse(body(tokens), symbolize_names: true).merge(stream: stream))
      [events, handler]
    end
  end

  # In a forked worker: N streams on N threads, a 1 ms sleeper beside them.
  def measure(client, count, paced, server)
    require "openai" if client == "ruby-openai"
    tokens = paced ? (RATE * PACED_SECONDS).to_i : TOKENS
    url = server.endpoint_for(dialect(client))
    base_url = "#{server.url}/"
    run_one(client, url, base_url, 5, nil) # warm up: load code, open nothing that lasts
    GC.start
    lateness = []
    stop = false
    sleeper_cpu = 0.0
    sleeper = Thread.new do
      thread_cpu = Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID)
      until stop
        started = monotonic
        sleep SLEEP
        lateness << monotonic - started - SLEEP
      end
      sleeper_cpu = Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID) - thread_cpu
    end
    rss_before = rss_kb
    allocated = GC.stat(:total_allocated_objects)
    cpu_before = cpu
    started = monotonic
    outcomes = Array.new(count) do
      Thread.new { run_one(client, url, base_url, tokens, paced ? RATE : nil) }
    end.map(&:value)
    wall = monotonic - started
    cpu_used = cpu - cpu_before
    allocations = GC.stat(:total_allocated_objects) - allocated
    rss_growth = rss_kb - rss_before
    stop = true
    sleeper.join
    # The sleeper's own wake-ups are the probe, not the client's cost.
    cpu_used -= sleeper_cpu * [wall / (monotonic - started), 1.0].min
    events = outcomes.sum(&:first)
    lags = outcomes.flat_map { |_, handler| handler.lags }.sort
    # ruby-openai has no throttle: its flushes keep no schedule.
    flush_lateness = outcomes.flat_map { |_, handler| handler.lateness(BROADCAST_INTERVAL) }.sort if client != "ruby-openai"
    late = lateness.sort
    {
      client: client, streams: count, paced: paced, events: events, wall: wall,
      cpu_us_per_event: cpu_used * 1e6 / events,
      sleeper_p50_ms: percentile(late, 0.5) * 1000, sleeper_p99_ms: percentile(late, 0.99) * 1000,
      sleeper_max_ms: (late.last || 0) * 1000,
      allocations_per_event: allocations.fdiv(events),
      rss_kb_per_stream: rss_growth.fdiv(count),
      flushes_per_stream: outcomes.sum { |_, handler| handler.flushes }.fdiv(count),
      lag_p50_ms: paced ? percentile(lags, 0.5) * 1000 : nil,
      lag_p99_ms: paced ? percentile(lags, 0.99) * 1000 : nil,
      late_p50_ms: (paced && flush_lateness) ? percentile(flush_lateness, 0.5) * 1000 : nil,
      late_p99_ms: (paced && flush_lateness) ? percentile(flush_lateness, 0.99) * 1000 : nil
    }
  end

  def in_worker(client, count, paced, server)
    status, row = in_child { measure(client, count, paced, server) }
    return row if status.success? && !row.key?(:error)

    raise "#{client} N=#{count}: #{row[:error] || "the worker ended without a result (#{status.inspect})"}"
  end

  # Runs the block in a forked child, so that each measurement starts from a fresh process
  # and a crash ends only the child. Returns [status, row]: the child's Process::Status
  # (nil when wait gave up on it) and the block's Hash as the child wrote it back,
  # {error: "Class: message"} when the block raised, {} when the child wrote nothing.
  # wait: pid -> Process::Status or nil (HostileBench's kills a child that runs too long).
  def in_child(wait: ->(pid) { Process.wait2(pid).last })
    reader, writer = IO.pipe
    pid = fork do
      reader.close
      writer.write(JSON.generate(yield))
      writer.close
      exit!(0)
    rescue Exception => e # rubocop:disable Lint/RescueException -- report anything from the worker
      writer.write(JSON.generate(error: "#{e.class}: #{e.message}"))
      writer.close
      exit!(1)
    end
    writer.close
    status = wait.call(pid)
    text = reader.read
    [status, text.empty? ? {} : JSON.parse(text, symbolize_names: true)]
  ensure
    reader&.close
  end

  def machine
    model = File.exist?("/proc/cpuinfo") && File.read("/proc/cpuinfo")[/^model name\s*:\s*(.+)$/, 1]
    model ||= "unknown CPU"
    "#{model}, #{Etc.nprocessors} cores, #{`uname -sr`.strip}; #{RUBY_DESCRIPTION}; #{`curl-config --version 2>/dev/null`.strip}"
  end

  def fmt(value, digits = 1)
    value.nil? ? "–" : format("%.#{digits}f", value)
  end

  def table(rows)
    lines = []
    lines << "| streams | rate | client | CPU µs/event | × Stream | sleeper p50 / p99 / max ms | " \
      "allocs/event | RSS KB/stream | flushes/stream | token→flush p50 / p99 ms | flush after deadline p50 / p99 ms |"
    lines << "|---|---|---|---|---|---|---|---|---|---|---|"
    rows.group_by { |row| [row[:streams], row[:paced]] }.each do |(_, _), group|
      base = group.find { |row| row[:client] == "Stream" }
      group.each do |row|
        ratio = base ? row[:cpu_us_per_event] / base[:cpu_us_per_event] : nil
        lines << "| #{row[:streams]} | #{row[:paced] ? "#{RATE}/s" : "full"} | #{row[:client]} | " \
          "#{fmt(row[:cpu_us_per_event])} | #{fmt(ratio)}× | " \
          "#{fmt(row[:sleeper_p50_ms], 2)} / #{fmt(row[:sleeper_p99_ms], 2)} / #{fmt(row[:sleeper_max_ms], 2)} | " \
          "#{fmt(row[:allocations_per_event], 2)} | #{fmt(row[:rss_kb_per_stream])} | " \
          "#{fmt(row[:flushes_per_stream])} | #{fmt(row[:lag_p50_ms])} / #{fmt(row[:lag_p99_ms])} | " \
          "#{fmt(row[:late_p50_ms])} / #{fmt(row[:late_p99_ms])} |"
      end
    end
    lines.join("\n")
  end

  def run
    unless AssistantChatNative.native?
      abort "bench:streams needs the C extension: run `bundle exec rake compile` first"
    end
    server = AssistantChatNative::LocalProvider.spawn
    rows = []
    plan = COUNTS.product([false, true], CLIENTS)
    started = monotonic
    plan.each_with_index do |(count, paced, client), index|
      server.default = paced ? {tokens: Array.new((RATE * PACED_SECONDS).to_i) { |i| "w#{i} " }, token_rate: RATE} :
        {tokens: Array.new(TOKENS) { |i| "w#{i} " }}
      print format("[%2d/%d %5.0fs] %-11s N=%-3d %-5s ", index + 1, plan.size, monotonic - started, client, count,
        paced ? "#{RATE}/s" : "full")
      row = in_worker(client, count, paced, server)
      rows << row
      puts format("%8.1f µs/event  sleeper p99 %6.2f ms  %6.2f allocs/event  (%.1fs)",
        row[:cpu_us_per_event], row[:sleeper_p99_ms], row[:allocations_per_event], row[:wall])
    end
    report = <<~MD
      # Streams benchmark

      `rake bench:streams`, #{Time.now.utc.iso8601}, on #{machine}.

      N concurrent OpenAI chat-completion streams from LocalProvider (its own process), #{TOKENS} tokens
      per stream at full speed, or #{RATE} events/s for #{PACED_SECONDS} s; broadcast interval
      #{BROADCAST_INTERVAL} s for Stream and RubyStream (ruby-openai calls its block for every chunk).
      Each row is a freshly forked worker. CPU is the worker's; "sleeper" is the lateness of a sibling
      thread's 1 ms sleep while the streams run. token→flush is how long after its estimated arrival the
      newest token of each flush reached the handler: token i is taken to arrive i/rate after token 0,
      whose flush goes out at once. It includes the wait the throttle imposes by design (Stream reads a
      trickling stream when the flush is due, so its newest token has waited up to one event period,
      10 ms here; RubyStream flushes on the read that ends the interval) and any lateness of
      LocalProvider itself, which paces from one Ruby process and falls behind with 50 streams (the
      estimate then counts the server's delay as the client's). "Flush after deadline" is what the
      client alone controls: how long after the throttle's deadline (the previous flush plus the
      interval) each interval flush reached the handler, the first and last flushes left out.

      #{table(rows)}
    MD
    File.write(RESULTS, report)
    puts
    puts table(rows)
    puts "\nwritten to #{RESULTS} (#{(monotonic - started).round}s)"
  ensure
    server&.stop
  end
end

StreamsBench.run if $PROGRAM_NAME == __FILE__
