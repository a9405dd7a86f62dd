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
# square. Each short-reply variant runs REPEAT times (fresh processes, native and
# RubyStream taking turns) and the tables show the median with the range. The
# tables go to bench/results/worker.md with the machine and the date, the plot to
# bench/results/worker.svg, the raw figures to bench/results/worker.json; with
# BASELINE=<an earlier worker.json> the tables show that run beside this one (with
# BEFORE_ROOT=<another compiled checkout of the gem> that checkout's worker runs in the
# same run, taking turns with this one, and only the baseline's profile is kept), and
# with PROFILE=1 (rake bench:worker_profile) a native turn is profiled with
# stackprof, in CPU and wall modes, its samples grouped by concern, and with perf
# (when installed) by library, the work done without the GVL included.
#
#   TURNS=200 CONCURRENCY=25 WORDS=300 TOKEN_RATE=200 LONG_WORDS=4000 LONG_TURNS=25 REPEAT=3 bundle exec rake bench:worker
#   TOKEN_RATE=0 ...   # replies at full speed (CPU-bound instead of latency-bound)
#   COUNT=1 TURNS=50 ... # per flush: SQL, Redis, broadcasts, calls into Ruby, allocations,
#                        # context switches, syscalls, paced against full speed (worker_flush.md)

require "json"
require "rbconfig"
require "time"
require "etc"
require "fileutils"
require_relative "worker/report"
require_relative "worker/profile"
require_relative "worker/plot"
require_relative "worker/counts"
require_relative "worker/statements"

module WorkerBench
  ROOT = File.expand_path("..", __dir__)
  RESULTS = File.join(__dir__, "results", "worker.md")
  PLOT = File.join(__dir__, "results", "worker.svg")
  RAW = ENV.fetch("BENCH_JSON", File.join(__dir__, "results", "worker.json"))
  BASELINE = ENV["BASELINE"]
  # Another checkout of the gem (compiled) whose worker runs beside this one, in the same
  # run, taking turns with it: the fair "before" on a machine whose load moves.
  BEFORE_ROOT = ENV["BEFORE_ROOT"]
  REPEAT = Integer(ENV.fetch("REPEAT", "3"))
  PROFILE = ENV["PROFILE"] == "1"
  # COUNT=1: no tables; paced against full speed, what a turn does counted (Counts).
  COUNT = ENV["COUNT"] == "1"
  PROFILE_TURNS = Integer(ENV.fetch("PROFILE_TURNS", "100"))
  TURNS = Integer(ENV.fetch("TURNS", "200"))
  CONCURRENCY = Integer(ENV.fetch("CONCURRENCY", "25"))
  WORDS = Integer(ENV.fetch("WORDS", "300"))
  TOKEN_RATE = Integer(ENV.fetch("TOKEN_RATE", "200"))
  LONG_WORDS = Integer(ENV.fetch("LONG_WORDS", "4000"))
  LONG_TURNS = Integer(ENV.fetch("LONG_TURNS", "25"))
  VARIANTS = %w[native ruby].freeze

  module_function

  def run
    return write_report(JSON.parse(File.read(RAW)), baseline: BASELINE && JSON.parse(File.read(BASELINE))) if ENV["REPORT_ONLY"] == "1"

    $LOAD_PATH.unshift(File.join(ROOT, "lib"))
    require "assistant_chat_native"
    require File.join(ROOT, "spec", "support", "services")
    TestServices.start
    return profile_again if ENV["PROFILE_ONLY"] == "1"
    return count_modes if COUNT

    modes = []
    before_modes = []
    [TOKEN_RATE, 0].uniq.each do |rate|
      runs, before_runs = run_variants(words: WORDS, rate: rate, turns: TURNS, repeat: REPEAT, before: BEFORE_ROOT)
      mode = {"key" => rate.positive? ? "paced" : "full", "rate" => rate, "words" => WORDS}
      modes << mode.merge("runs" => runs)
      before_modes << mode.merge("runs" => before_runs) if before_runs
    end
    if LONG_WORDS.positive?
      runs, before_runs = run_variants(words: LONG_WORDS, rate: TOKEN_RATE, turns: LONG_TURNS, repeat: 1, before: BEFORE_ROOT)
      mode = {"key" => "long", "rate" => TOKEN_RATE, "words" => LONG_WORDS}
      modes << mode.merge("runs" => runs)
      before_modes << mode.merge("runs" => before_runs) if before_runs
    end
    profiles = PROFILE ? profile_modes(modes) : nil
    measured_at = Time.now.utc.strftime("%Y-%m-%d %H:%M UTC")
    raw = {"measured_at" => measured_at, "machine" => machine,
           "ruby" => RUBY_DESCRIPTION, "modes" => modes, "profile" => profiles}
    File.write(RAW, JSON.pretty_generate(raw))
    baseline = BASELINE && JSON.parse(File.read(BASELINE))
    if BEFORE_ROOT
      # The runs side by side replace the baseline's figures; its profile stays.
      revision = ENV.fetch("BEFORE_REVISION", "")
      baseline = {"measured_at" => "#{measured_at}, in the same run#{", at #{revision}" unless revision.empty?}",
                  "modes" => before_modes, "profile" => baseline&.fetch("profile", nil)}
      File.write(RAW.sub(/\.json\z/, "_before.json"), JSON.pretty_generate(baseline))
    end
    write_report(raw, baseline: baseline)
  ensure
    TestServices.stop if defined?(TestServices)
  end

  # worker.md and worker.svg from raw figures (REPORT_ONLY=1: from worker.json and BASELINE, no run).
  def write_report(raw, baseline:)
    table = Report.new(raw, baseline: baseline).markdown
    puts table
    File.write(RESULTS, table)
    File.write(PLOT, Plot.new(raw, baseline: baseline).svg)
    puts "\nwritten to #{[RESULTS, PLOT, RAW].map { |path| path.delete_prefix("#{ROOT}/") }.join(", ")}"
  end

  # PROFILE_ONLY=1: the profiles again, into the raw figures of the last run (BENCH_JSON).
  def profile_again
    raw = JSON.parse(File.read(RAW))
    raw["profile"] = profile_modes(raw["modes"])
    File.write(RAW, JSON.pretty_generate(raw))
    progress("profiles written to #{RAW}")
  end

  # => [runs, before_runs]: {"native" => [result, ...], "ruby" => [...]} for this
  # checkout and (with before:) for the other one, all taking turns.
  def run_variants(words:, rate:, turns:, repeat:, before: nil)
    provider = AssistantChatNative::LocalProvider.spawn(words: words, token_rate: rate.positive? ? rate : nil)
    roots = [[ROOT, ""]]
    roots << [before, " before"] if before
    runs = roots.to_h { |root, _suffix| [root, VARIANTS.to_h { |variant| [variant, []] }] }
    repeat.times do |round|
      roots.each do |root, suffix|
        VARIANTS.each do |variant|
          label = "#{words} words #{rate.positive? ? "paced" : "full speed"}, #{variant}#{suffix} #{round + 1}/#{repeat}"
          result = run_child(variant, provider, turns: turns, label: label, root: root)
          progress("#{label}: #{result["cpu_ms_per_turn"].round(2)} ms CPU per turn, " \
            "sibling p99 #{result["delay_p99_ms"].round(2)} ms, #{result["jobs_per_minute"].round} jobs/min")
          runs[root][variant] << result
        end
      end
    end
    [runs[ROOT], before && runs[before]]
  ensure
    provider&.stop
  end

  # A native turn under stackprof, paced and at full speed, in CPU and wall modes.
  def profile_modes(modes)
    modes.reject { |mode| mode["key"] == "long" }.to_h do |mode|
      provider = AssistantChatNative::LocalProvider.spawn(words: mode["words"],
        token_rate: mode["rate"].positive? ? mode["rate"] : nil)
      kinds = %w[cpu wall]
      kinds << "perf" if system("perf", "--version", out: File::NULL, err: File::NULL)
      by_kind = kinds.to_h do |kind|
        path = File.join(Dir.tmpdir, "acn-bench-profile-#{Process.pid}-#{kind}.json")
        label = "profile #{mode["key"]} (#{kind})"
        result = run_child("native", provider, turns: PROFILE_TURNS, label: label,
          env: {"BENCH_PROFILE" => kind, "BENCH_PROFILE_OUT" => path})
        progress("#{label}: #{result["cpu_ms_per_turn"].round(2)} ms CPU per turn with the profiler on")
        next [kind, nil] unless File.exist?(path)

        [kind, JSON.parse(File.read(path)).merge("cpu_ms_per_turn" => result["cpu_ms_per_turn"])]
      ensure
        FileUtils.rm_f(path)
      end
      provider.stop
      [mode["key"], by_kind]
    end
  end

  # COUNT=1: native turns paced and at full speed, REPEAT times each (taking turns),
  # without counting (the CPU) and with it (the counts); prints per turn each count,
  # paced against full speed, and what each extra paced flush adds.
  def count_modes
    rows = {}
    [["paced", TOKEN_RATE], ["full", nil]].each do |key, rate|
      rows[key] = {"cpu" => [], "counts" => nil}
      provider = AssistantChatNative::LocalProvider.spawn(words: WORDS, token_rate: rate)
      REPEAT.times do |round|
        plain = run_child("native", provider, turns: TURNS, label: "#{key} #{round + 1}/#{REPEAT}")
        rows[key]["cpu"] << plain["cpu_ms_per_turn"]
        rows[key]["chunks"] = plain["chunks_per_turn"]
      end
      strace = File.join(Dir.tmpdir, "acn-bench-strace-#{Process.pid}-#{key}.txt")
      env = {"BENCH_COUNT" => "1"}
      env["STRACE"] = strace if system("strace", "-V", out: File::NULL, err: File::NULL)
      counted = run_child("native", provider, turns: TURNS, label: "#{key} counted", env: env)
      rows[key]["syscalls"] = Counts.strace_totals(strace) if File.exist?(strace)
      rows[key]["counts"] = counted["counts"].transform_values { |value| value.to_f / TURNS }
      rows[key]["idle"] = counted["idle"]
      rows[key]["pieces"] = counted["pieces"]
      rows[key]["wall"] = counted["wall"]
    ensure
      provider&.stop
    end
    table = <<~TEXT
      # rake bench:worker with COUNT=1: what a paced flush costs

      Native turns through the worker as in worker.md (Sidekiq, PostgreSQL, Action Cable on the
      async adapter, LocalProvider in its own process), #{TURNS} turns of #{WORDS} words, #{CONCURRENCY} at once,
      paced at #{TOKEN_RATE} tokens/s against full speed. CPU per turn: the median over #{REPEAT} runs without
      counting, with the range (the whole process's CPU time, the trustworthy figure on a shared,
      noisy machine). Counts: one more run each with counting on and the process under strace -c -f.
      "Per extra paced flush": (paced - full speed) / (paced flushes - full-speed flushes).

      Measured #{Time.now.utc.strftime("%Y-%m-%d %H:%M UTC")} on #{machine}, #{RUBY_DESCRIPTION}.

      #{Counts.table(rows)}
    TEXT
    puts table
    File.write(File.join(__dir__, "results", "worker_flush.md"), table)
  end

  def run_child(variant, provider, turns:, label:, env: {}, root: ROOT)
    env = env.merge("BUNDLE_GEMFILE" => File.join(root, "Gemfile"), "BENCH_GEM_ROOT" => root,
      "BENCH_CHILD" => variant, "TURNS" => turns.to_s,
      "BENCH_REDIS_URL" => TestServices.redis_url, "BENCH_DATABASE_URL" => TestServices.postgres_url, "BENCH_PROVIDER_URL" => provider.base_url_for(:anthropic),
      "BENCH_LABEL" => label)
    env["ASSISTANT_CHAT_NATIVE_PURE"] = "1" if variant == "ruby"
    # The child's progress lines go to stderr, straight to the terminal. The harness is
    # this checkout's for every root (the same measurement); the gem, its spec app and
    # its generator are root's.
    command = [RbConfig.ruby, File.join(ROOT, "bench", "worker.rb")]
    # STRACE=<path>: the child's syscalls, counted by strace (slows the child; counts only).
    command = ["strace", "-c", "-f", "-o", env.delete("STRACE"), *command] if env["STRACE"]
    output = IO.popen(env, command, chdir: root, &:read)
    line = output.lines.reverse.find { |candidate| candidate.start_with?("BENCH_RESULT ") }
    raise "the #{variant} run failed:\n#{output.lines.last(30).join}" unless $?.success? && line

    JSON.parse(line.delete_prefix("BENCH_RESULT "))
  end

  def progress(text)
    warn "[bench:worker #{Time.now.utc.strftime("%H:%M:%S")}] #{text}"
  end

  def machine
    cpu = File.read("/proc/cpuinfo")[/model name\s*:\s*(.+)/, 1] if File.exist?("/proc/cpuinfo")
    "#{cpu || RUBY_PLATFORM} (#{Etc.nprocessors} cores)"
  end

  # In the child: one variant, start to finish; prints BENCH_RESULT {json}.
  def child(variant)
    require File.join(ENV.fetch("BENCH_GEM_ROOT", ROOT), "spec", "support", "rails_app")
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
      config.server_middleware { |chain| chain.add(JobsDone) }
    end
    Sidekiq::Queue.new("default").clear
    sidekiq.run
    warm = Conversation.create!.id
    AssistantChatWorker.perform_async(warm, "warm up", "bench")
    wait_for { JobsDone.count >= 1 }

    # One turn alone, its SQL recorded (not under a profiler: its turns are the profile's).
    unless ENV["BENCH_PROFILE"]
      probe = Conversation.create!.id
      statements = Statements.of_one_turn do
        AssistantChatWorker.perform_async(probe, "Tell me about the sales numbers", "bench")
        wait_for(timeout: 120) { JobsDone.count >= 2 }
      end
    end

    if ENV["BENCH_COUNT"] == "1"
      pieces = Counts.flush_pieces(Message.where(conversation_id: warm, role: "assistant").last, counting_delivery)
      idle = Counts.idle_cpu_per_second
    end
    delays = []
    sibling = Sampler.new(delays)

    # Connections the streams opened (stats' new_connections; 0 when one was reused).
    connections = Concurrent::AtomicFixnum.new(0)
    ActiveSupport::Notifications.subscribe("stream.assistant_chat_native") do |*, payload|
      connections.increment(payload[:new_connections].to_i)
    end
    Counts.install if ENV["BENCH_COUNT"] == "1"
    BROADCASTS.reset
    label = ENV.fetch("BENCH_LABEL", variant)
    # Counted from the broadcasts (a job's last one unlocks the conversation), so the
    # wait costs the measured process no queries.
    finished = -> { BROADCASTS.ends }
    Counts.reset if ENV["BENCH_COUNT"] == "1"
    cpu_before = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    Profile.around(ENV["BENCH_PROFILE"], ENV["BENCH_PROFILE_OUT"]) do
      conversations.each { |id| AssistantChatWorker.perform_async(id, "Tell me about the sales numbers", "bench") }
      reported = started
      wait_for(timeout: 600, every: 0.01) do
        count = finished.call
        now = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        if now - reported >= 2
          reported = now
          warn "  #{label}: #{count}/#{TURNS} turns"
        end
        count >= TURNS
      end
    end
    wall = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - cpu_before
    sibling.stop
    # The idle cost: the same process (Sidekiq waiting on Redis, a fresh sampler, the
    # same polling wait) with no turn to run, for the same wall time.
    idle_cpu = idle_cpu(wall, finished) unless ENV["BENCH_PROFILE"] || ENV["BENCH_COUNT"] == "1"
    sidekiq.stop

    sorted = delays.sort
    bytes, chunks = BROADCASTS.totals
    reply_bytes = Message.where(conversation_id: conversations, role: "assistant").average("octet_length(content)").to_f
    result = {
      variant: variant, stream_class: stream_class.name, turns: TURNS, concurrency: CONCURRENCY,
      gem: $LOADED_FEATURES.find { |path| path.end_with?("/assistant_chat_native/worker.rb") },
      failed: TURNS - Message.where(conversation_id: conversations, role: "assistant", status: "completed").count,
      wall: wall, jobs_per_minute: TURNS / wall * 60, cpu_ms_per_turn: cpu / TURNS * 1000,
      delay_p50_ms: percentile(sorted, 0.50) * 1000, delay_p99_ms: percentile(sorted, 0.99) * 1000,
      delay_max_ms: sorted.last.to_f * 1000, samples: sorted.size,
      reply_bytes: reply_bytes, bytes_per_turn: bytes.to_f / TURNS, chunks_per_turn: chunks.to_f / TURNS,
      cpu_us_per_flush: chunks.zero? ? 0.0 : cpu / chunks * 1_000_000,
      connections_per_100_turns: connections.value * 100.0 / TURNS,
      delay_cdf: cdf(sorted)
    }
    if idle_cpu
      result[:idle_cpu_ms_per_turn] = idle_cpu / TURNS * 1000
      result[:cpu_ms_per_turn_net] = (cpu - idle_cpu) / TURNS * 1000
    end
    if statements
      result[:statements] = statements
      result[:statements_per_turn] = statements.size
    end
    if ENV["BENCH_COUNT"] == "1"
      result[:counts] = Counts.snapshot
      result[:idle] = idle
      result[:pieces] = pieces
    end
    puts "BENCH_RESULT #{JSON.generate(result)}"
    $stdout.flush
  end

  # Counts the jobs whose perform returned (a Sidekiq server middleware): a job's
  # statements are all issued by then, its advisory unlock included.
  class JobsDone
    @lock = Mutex.new
    @count = 0

    def self.count
      @lock.synchronize { @count }
    end

    def self.add
      @lock.synchronize { @count += 1 }
    end

    def call(_job_instance, _job, _queue)
      yield
    ensure
      self.class.add
    end
  end

  # The sibling thread: asks to sleep 1 ms over and over, and notes how much longer it took.
  class Sampler
    def initialize(delays)
      @done = false
      @thread = Thread.new do
        until @done
          asked = Process.clock_gettime(Process::CLOCK_MONOTONIC)
          sleep 0.001
          delays << (Process.clock_gettime(Process::CLOCK_MONOTONIC) - asked - 0.001)
        end
      end
    end

    def stop
      @done = true
      @thread.join
    end
  end

  # The process's CPU seconds over wall seconds with no turn running: a sampler as
  # during the turns, and the main thread polling as it waits for them.
  def idle_cpu(wall, finished)
    sampler = Sampler.new([])
    before = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + wall
    wait_for(timeout: wall + 60, every: 0.01) do
      finished.call
      Process.clock_gettime(Process::CLOCK_MONOTONIC) >= deadline
    end
    Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - before
  ensure
    sampler&.stop
  end

  # What the turns broadcast, counted as Action Cable sends it: the JSON is encoded
  # here once and handed over encoded (coder: nil), so counting costs no second encoding.
  class BroadcastCount
    def initialize
      @lock = Mutex.new
      reset
    end

    def reset
      @lock.synchronize { @bytes = @chunks = @ends = 0 }
    end

    def add(bytes, payload)
      type = payload.is_a?(Hash) ? payload[:type] : nil
      @lock.synchronize do
        @bytes += bytes
        @chunks += 1 if type == :chunk
        @ends += 1 if type == :lock && !payload[:locked]
      end
    end

    # Jobs that ended: each unlocks its conversation last.
    def ends
      @lock.synchronize { @ends }
    end

    def totals
      @lock.synchronize { [@bytes, @chunks] }
    end
  end
  BROADCASTS = BroadcastCount.new

  def counting_delivery
    lambda do |stream, payload|
      json = ActiveSupport::JSON.encode(payload)
      BROADCASTS.add(json.bytesize, payload)
      Counts.add("broadcast: #{payload[:type]}") if payload.is_a?(Hash)
      ActionCable.server.broadcast(stream, json, coder: nil)
    end
  end

  def wait_for(timeout: 60, every: 0.05)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    until yield
      raise "timed out after #{timeout}s" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      sleep every
    end
  end

  # The sibling delay's distribution for the plot: [fraction, ms] at each percent,
  # and at each tenth of a percent above 99.
  CDF_POINTS = ((1..99).map { |i| i / 100.0 } + (990..1000).map { |i| i / 1000.0 }).uniq.freeze

  def cdf(sorted)
    CDF_POINTS.map { |fraction| [fraction, (percentile(sorted, fraction) * 1000).round(4)] }
  end

  def percentile(sorted, fraction)
    return 0.0 if sorted.empty?

    sorted[[(sorted.size * fraction).ceil - 1, 0].max]
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
