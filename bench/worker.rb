# frozen_string_literal: true

# rake bench:worker: a Sidekiq process running 25 chat turns at once, with the
# native Stream and with RubyStream, on the same LocalProvider (its own process,
# so its CPU is not the worker's). Each variant runs in a fresh child process:
# the spec Rails app (installed by the generator) on PostgreSQL, Sidekiq's
# embedded launcher on Redis, Action Cable broadcasting. Measured per variant:
# jobs per minute, CPU per turn, and the scheduling delay of a sibling Ruby
# thread that asks to sleep 1 ms over and over (p50/p99/max): how long the
# process keeps other Ruby work waiting while it streams; and what the turns
# broadcast: bytes per turn, reply flushes (chunks) per turn, CPU per flush.
# Then the same, paced, with a long reply (LONG_WORDS, one token a word) against
# the short one: bytes and CPU per turn must grow with the reply's length, not its
# square. The tables go to bench/results/worker.md with the machine and the date.
#
#   TURNS=200 CONCURRENCY=25 WORDS=300 TOKEN_RATE=200 LONG_WORDS=4000 LONG_TURNS=25 bundle exec rake bench:worker
#   TOKEN_RATE=0 ...   # replies at full speed (CPU-bound instead of latency-bound)

require "json"
require "rbconfig"
require "time"
require "etc"
require "fileutils"

module WorkerBench
  ROOT = File.expand_path("..", __dir__)
  RESULTS = File.join(__dir__, "results", "worker.md")
  TURNS = Integer(ENV.fetch("TURNS", "200"))
  CONCURRENCY = Integer(ENV.fetch("CONCURRENCY", "25"))
  WORDS = Integer(ENV.fetch("WORDS", "300"))
  TOKEN_RATE = Integer(ENV.fetch("TOKEN_RATE", "200"))
  LONG_WORDS = Integer(ENV.fetch("LONG_WORDS", "4000"))
  LONG_TURNS = Integer(ENV.fetch("LONG_TURNS", "25"))
  VARIANTS = %w[native ruby].freeze

  module_function

  def run
    $LOAD_PATH.unshift(File.join(ROOT, "lib"))
    require "assistant_chat_native"
    require File.join(ROOT, "spec", "support", "services")
    TestServices.start
    runs = [TOKEN_RATE, 0].uniq.map { |rate| [rate, run_variants(words: WORDS, rate: rate, turns: TURNS)] }
    sections = runs.map { |rate, results| section(rate, results) }
    if LONG_WORDS.positive?
      long = run_variants(words: LONG_WORDS, rate: TOKEN_RATE, turns: LONG_TURNS)
      sections << section(TOKEN_RATE, long, words: LONG_WORDS)
      sections << linearity(runs.first.last, long)
    end
    table = ([header] + sections).join("\n")
    puts table
    File.write(RESULTS, table)
    puts "\nwritten to #{RESULTS.delete_prefix("#{ROOT}/")}"
  ensure
    TestServices.stop if defined?(TestServices)
  end

  def run_variants(words:, rate:, turns:)
    provider = AssistantChatNative::LocalProvider.spawn(words: words, token_rate: rate.positive? ? rate : nil)
    VARIANTS.map { |variant| run_child(variant, provider, turns: turns) }
  ensure
    provider&.stop
  end

  def run_child(variant, provider, turns:)
    env = {"BENCH_CHILD" => variant, "TURNS" => turns.to_s, "BENCH_REDIS_URL" => TestServices.redis_url,
           "BENCH_DATABASE_URL" => TestServices.postgres_url, "BENCH_PROVIDER_URL" => provider.base_url_for(:anthropic)}
    env["ASSISTANT_CHAT_NATIVE_PURE"] = "1" if variant == "ruby"
    output = IO.popen(env, [RbConfig.ruby, __FILE__], err: [:child, :out], &:read)
    line = output.lines.reverse.find { |candidate| candidate.start_with?("BENCH_RESULT ") }
    raise "the #{variant} run failed:\n#{output.lines.last(30).join}" unless $?.success? && line

    JSON.parse(line.delete_prefix("BENCH_RESULT "), symbolize_names: true)
  end

  # In the child: one variant, start to finish; prints BENCH_RESULT {json}.
  def child(variant)
    require File.join(ROOT, "spec", "support", "rails_app")
    ENV["ACN_CABLE_ADAPTER"] = "async"
    SpecRailsApp.boot!(database_url: ENV.fetch("BENCH_DATABASE_URL"))
    require "sidekiq/api"
    quiet = Logger.new(File.join(SpecRailsApp.root, "log", "bench.log"))
    stream_class = (variant == "native") ? AssistantChatNative::Stream : AssistantChatNative::RubyStream
    if variant == "native" && !AssistantChatNative.native?
      raise "the C extension is not loaded (#{AssistantChatNative::Native.load_error}); run rake compile"
    end

    AssistantChatNative.configure do |config|
      config.stream_class = stream_class
      config.logger = quiet
      config.models.register("bench", provider: :anthropic, model_id: "claude-sonnet-4-5", tier: :high,
        base_url: ENV.fetch("BENCH_PROVIDER_URL"), api_key: "local-provider")
      config.worker.delivery = counting_delivery
    end
    ActiveRecord::Base.connection.execute("TRUNCATE messages, conversations RESTART IDENTITY")
    conversations = Array.new(TURNS) { Conversation.create!.id }

    sidekiq = Sidekiq.configure_embed do |config|
      config.redis = {url: ENV.fetch("BENCH_REDIS_URL")}
      config.concurrency = CONCURRENCY
      config.queues = %w[default]
      config.logger = Sidekiq::Logger.new(File.join(SpecRailsApp.root, "log", "sidekiq.log"))
    end
    Sidekiq::Queue.new("default").clear
    sidekiq.run
    warm = Conversation.create!.id
    AssistantChatWorker.perform_async(warm, "warm up", "bench")
    wait_for { Message.where(conversation_id: warm, role: "assistant").exists? }

    delays = []
    done = false
    sibling = Thread.new do
      until done
        asked = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        sleep 0.001
        delays << (Process.clock_gettime(Process::CLOCK_MONOTONIC) - asked - 0.001)
      end
    end

    # Connections the streams opened (stats' new_connections; 0 when one was reused).
    connections = Concurrent::AtomicFixnum.new(0)
    ActiveSupport::Notifications.subscribe("stream.assistant_chat_native") do |*, payload|
      connections.increment(payload[:new_connections].to_i)
    end
    BROADCASTS.reset
    cpu_before = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    conversations.each { |id| AssistantChatWorker.perform_async(id, "Tell me about the sales numbers", "bench") }
    wait_for(timeout: 600) do
      Message.where(conversation_id: conversations, role: "assistant", status: "completed").count +
        Conversation.where(id: conversations).where("error_count > 0").count >= TURNS
    end
    wall = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - cpu_before
    done = true
    sibling.join
    sidekiq.stop

    sorted = delays.sort
    bytes, chunks = BROADCASTS.totals
    reply_bytes = Message.where(conversation_id: conversations, role: "assistant").average("octet_length(content)").to_f
    result = {
      variant: variant, stream_class: stream_class.name, turns: TURNS, concurrency: CONCURRENCY,
      failed: Conversation.where(id: conversations).where("error_count > 0").count,
      wall: wall, jobs_per_minute: TURNS / wall * 60, cpu_ms_per_turn: cpu / TURNS * 1000,
      delay_p50_ms: percentile(sorted, 0.50) * 1000, delay_p99_ms: percentile(sorted, 0.99) * 1000,
      delay_max_ms: sorted.last.to_f * 1000, samples: sorted.size,
      reply_bytes: reply_bytes, bytes_per_turn: bytes.to_f / TURNS, chunks_per_turn: chunks.to_f / TURNS,
      cpu_us_per_flush: chunks.zero? ? 0.0 : cpu / chunks * 1_000_000,
      connections_per_100_turns: connections.value * 100.0 / TURNS
    }
    puts "BENCH_RESULT #{JSON.generate(result)}"
    $stdout.flush
  end

  # What the turns broadcast, counted as Action Cable sends it: the JSON is encoded
  # here once and handed over encoded (coder: nil), so counting costs no second encoding.
  class BroadcastCount
    def initialize
      @lock = Mutex.new
      reset
    end

    def reset
      @lock.synchronize { @bytes = @chunks = 0 }
    end

    def add(bytes, chunk)
      @lock.synchronize do
        @bytes += bytes
        @chunks += 1 if chunk
      end
    end

    def totals
      @lock.synchronize { [@bytes, @chunks] }
    end
  end
  BROADCASTS = BroadcastCount.new

  def counting_delivery
    lambda do |stream, payload|
      json = ActiveSupport::JSON.encode(payload)
      BROADCASTS.add(json.bytesize, payload.is_a?(Hash) && payload[:type] == :chunk)
      ActionCable.server.broadcast(stream, json, coder: nil)
    end
  end

  def wait_for(timeout: 60)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    until yield
      raise "timed out after #{timeout}s" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      sleep 0.05
    end
  end

  def percentile(sorted, fraction)
    return 0.0 if sorted.empty?

    sorted[[(sorted.size * fraction).ceil - 1, 0].max]
  end

  def header
    cpu = File.read("/proc/cpuinfo")[/model name\s*:\s*(.+)/, 1] if File.exist?("/proc/cpuinfo")
    <<~TEXT
      # rake bench:worker

      A Sidekiq process running #{CONCURRENCY} chat turns at once (#{TURNS} turns, one round of #{WORDS} words
      each, from LocalProvider in its own process), through AssistantChatWorker with PostgreSQL locks and
      Action Cable broadcasts; the native Stream against RubyStream, each in a fresh process. Then
      #{LONG_TURNS} turns of a #{LONG_WORDS}-token reply (one token a word; fewer turns, as each takes
      #{LONG_WORDS / [TOKEN_RATE, 1].max} s at #{TOKEN_RATE} tokens/s), paced, against the paced #{WORDS}-word run.

      Broadcasts are counted as Action Cable sends them: each payload's JSON, encoded once in a counting
      delivery (config.worker.delivery) that hands it on encoded. A reply flush is one chunk broadcast;
      CPU per flush is the process's CPU over the run (Sidekiq, PostgreSQL, streams and broadcasts alike)
      divided by the chunks sent, so a turn's fixed costs weigh more on short replies.

      Measured #{Time.now.utc.strftime("%Y-%m-%d %H:%M UTC")} on #{cpu || RUBY_PLATFORM} (#{Etc.nprocessors} cores),
      #{RUBY_DESCRIPTION}.

      Sibling delay: how much longer than 1 ms a Ruby thread's `sleep 0.001` took while the turns ran, that is
      the wait any other Ruby work in the process sees. Ratio: how many times better native is (above 1: native
      better; below 1: RubyStream better). Compare within one run: on a machine shared with other work the
      tail figures (p99, max) move by 2x or more from run to run.
    TEXT
  end

  def section(rate, results, words: WORDS)
    native, ruby = results
    ratio = ->(key, better: :lower) {
      a = native[key].to_f
      b = ruby[key].to_f
      return "-" if a.zero? || b.zero?

      format("%.2f", (better == :lower) ? b / a : a / b)
    }
    row = ->(label, key, digits, better: :lower) {
      "| #{label} | #{native[key].round(digits)} | #{ruby[key].round(digits)} | #{ratio.call(key, better: better)} |"
    }
    pace = rate.positive? ? "replies paced at #{rate} tokens/s per stream (like a provider)" : "replies at full speed (CPU-bound)"
    [
      "## #{words} words, #{pace}, #{native[:turns]} turns",
      "",
      "| | native Stream | RubyStream | ratio |",
      "|---|---:|---:|---:|",
      row.call("jobs per minute", :jobs_per_minute, 1, better: :higher),
      row.call("CPU per turn (ms)", :cpu_ms_per_turn, 2),
      row.call("sibling thread delay p50 (ms)", :delay_p50_ms, 3),
      row.call("sibling thread delay p99 (ms)", :delay_p99_ms, 3),
      row.call("sibling thread delay max (ms)", :delay_max_ms, 2),
      "| connections opened per 100 turns | #{native[:connections_per_100_turns]&.round(1)} | " \
        "#{ruby[:connections_per_100_turns]&.round(1)} | |",
      "| wall time (s) | #{native[:wall].round(2)} | #{ruby[:wall].round(2)} | |",
      "| failed turns | #{native[:failed]} | #{ruby[:failed]} | |",
      "| sibling samples | #{native[:samples]} | #{ruby[:samples]} | |",
      "| reply (bytes) | #{native[:reply_bytes].round} | #{ruby[:reply_bytes].round} | |",
      "| bytes broadcast per turn | #{native[:bytes_per_turn].round} | #{ruby[:bytes_per_turn].round} | |",
      "| reply flushes (chunks) per turn | #{native[:chunks_per_turn].round(1)} | #{ruby[:chunks_per_turn].round(1)} | |",
      row.call("CPU per flush (µs)", :cpu_us_per_flush, 1),
      ""
    ].join("\n")
  end

  # Long reply against short, both paced: each figure's ratio next to the ratio of
  # the replies' lengths. Linear: bytes and CPU per turn grow like the length (ratio
  # near it), CPU per flush stays put (ratio near 1). Quadratic growth would show a
  # per-turn ratio near the length ratio's square.
  def linearity(short, long)
    rows = VARIANTS.each_index.flat_map do |index|
      a = short[index]
      b = long[index]
      length = b[:reply_bytes] / a[:reply_bytes]
      [[:bytes_per_turn, "bytes broadcast per turn", 0], [:cpu_ms_per_turn, "CPU per turn (ms)", 2],
        [:chunks_per_turn, "reply flushes per turn", 1], [:cpu_us_per_flush, "CPU per flush (µs)", 1]].map do |key, label, digits|
        "| #{a[:variant]} | #{label} | #{a[key].round(digits)} | #{b[key].round(digits)} | #{format("%.2f", b[key] / a[key])} | #{format("%.2f", length)} |"
      end
    end
    [
      "## linear in the reply's length: #{LONG_WORDS}-token reply against the #{WORDS}-word one, paced",
      "",
      "Reply bytes per turn: #{short.map { |r| r[:reply_bytes].round }.join("/")} against " \
        "#{long.map { |r| r[:reply_bytes].round }.join("/")} (native/RubyStream).",
      "",
      "| stream | figure | #{WORDS} words | #{LONG_WORDS} tokens | ratio | length ratio |",
      "|---|---|---:|---:|---:|---:|",
      *rows,
      ""
    ].join("\n")
  end
end

if ENV["BENCH_CHILD"]
  begin
    WorkerBench.child(ENV["BENCH_CHILD"])
  ensure
    FileUtils.rm_rf(SpecRailsApp.root) if defined?(SpecRailsApp) && SpecRailsApp.root
  end
  # Skips at_exit handlers that would wait on the app's background threads.
  exit!(0)
else
  WorkerBench.run
end
