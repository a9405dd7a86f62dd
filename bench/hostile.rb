# frozen_string_literal: true

# rake bench:hostile: every kind of hostile provider input the gem bounds,
# served by LocalProvider in its own process, read by Stream, RubyStream and Turn
# (one round, on Stream; a retryable failure is retried on the same input) the
# way a Sidekiq job reads a reply: in a non-main thread with Ruby's default stack
# (HostileInput.in_worker_thread, as the hostile-input specs run), while a sibling
# Ruby thread sleeps 1 ms at a time and notes how late it wakes.
#
# Per input and client, in a freshly forked worker: the outcome (the failure's
# kind, "ok", an exception that escaped, or the signal that killed the worker),
# the growth of peak RSS over the worker's RSS before the run (VmHWM, reset
# through /proc/self/clear_refs; sampled VmRSS where that is not allowed), and
# the sibling's p99 and max lateness. The acceptance bars are RSS growth <= 64 MiB
# and sibling max <= 50 ms; the table marks each, and the task never fails on
# them. The table goes to stdout and bench/results/hostile.md.
#
#   bundle exec rake bench:hostile
#   ONLY=crafted_500,nul_deltas CLIENTS=Stream bundle exec rake bench:hostile

require "fileutils"
require "logger"
require_relative "streams"
require_relative "../spec/support/hostile_input"

module HostileBench
  MIB = 1024 * 1024
  RSS_BAR_MIB = 64
  WAIT_BAR_MS = 50.0
  SLEEP = 0.001
  TIMEOUT = Float(ENV.fetch("HOSTILE_TIMEOUT", "120")) # seconds per run before the worker is killed
  RSS_CEILING_MIB = Integer(ENV.fetch("HOSTILE_RSS_CEILING_MIB", "2048")) # a worker past it is stopped
  CLIENTS = ENV.fetch("CLIENTS", "Stream,RubyStream,Turn").split(",")
  RESULTS = File.expand_path("results/hostile.md", __dir__)
  WORK_DIR = File.expand_path("../tmp/hostile", __dir__)

  module_function

  def sse(event, payload)
    "event: #{event}\ndata: #{payload.is_a?(String) ? payload : JSON.generate(payload)}\n\n"
  end

  MESSAGE_START = {type: "message_start", message: {id: "msg_hostile", type: "message", role: "assistant",
                                                    model: "claude-local", content: [], stop_reason: nil,
                                                    usage: {input_tokens: 1, output_tokens: 1}}}.freeze

  # An Anthropic stream as a file LocalProvider replays, written once per run.
  def replay(name)
    path = File.join(WORK_DIR, "#{name}.sse")
    File.open(path, "wb") { |file| yield file }
    path
  end

  # The crafted error body: a JSON comment holding a quote, then 40,000 nested arrays (about 80 KB).
  def crafted_body
    "{\"error\": /* \" */ #{HostileInput.nested_arrays(40_000)}}"
  end

  def tool_call_stream(file, count)
    file << sse("message_start", MESSAGE_START)
    count.times do |i|
      # Anthropic may reuse a block index: every call is block 0 here.
      file << sse("content_block_start", {type: "content_block_start", index: 0,
                                          content_block: {type: "tool_use", id: "toolu_#{i}", name: "lookup", input: {}}})
      file << sse("content_block_delta", {type: "content_block_delta", index: 0,
                                          delta: {type: "input_json_delta", partial_json: "{\"q\":#{i}}"}})
      file << sse("content_block_stop", {type: "content_block_stop", index: 0})
    end
    file << sse("message_delta", {type: "message_delta", delta: {stop_reason: "tool_use"}, usage: {output_tokens: count}})
    file << sse("message_stop", {type: "message_stop"})
  end

  # Each input: a LocalProvider script (replay: a file written by the block given the path).
  INPUTS = {
    "crafted_500" => ["crafted error body as an HTTP 500 body",
      -> { {status: 500, body: crafted_body} }],
    "crafted_event" => ["crafted error body as a mid-stream `event: error`",
      -> { {text: "partial reply", error_event: {after: 3, data: crafted_body}} }],
    "tool_calls_200k" => ["200,000 tool calls in one reply (block index reused)",
      -> { {replay: replay("tool_calls_200k") { |file| tool_call_stream(file, 200_000) }, chunk_size: 65_536} }],
    "args_nested_300" => ["tool arguments nested 300 deep",
      -> { {tool_calls: [{name: "lookup", arguments: "{\"q\":#{HostileInput.nested_arrays(300)}}"}]} }],
    "args_number_8mib" => ["an 8 MiB number in tool arguments",
      -> { {tool_calls: [{name: "lookup", arguments: "{\"n\":#{"7" * (8 * MIB)}}"}], args_fragment: 65_536} }],
    "event_line_64mib" => ["a 64 MiB `event:` line",
      lambda do
        path = replay("event_line") do |file|
          file << "event: " << ("e" * (64 * MIB)) << "\ndata: {}\n\n"
        end
        {replay: path, chunk_size: 65_536}
      end],
    "id_line_64mib" => ["a 64 MiB `id:` line",
      lambda do
        path = replay("id_line") do |file|
          file << sse("message_start", MESSAGE_START).sub("event:", "id: #{"i" * (64 * MIB)}\nevent:")
        end
        {replay: path, chunk_size: 65_536}
      end],
    "data_line_endless" => ["an endless `data:` line (96 MiB with no newline)",
      lambda do
        path = replay("data_line") do |file|
          file << sse("message_start", MESSAGE_START) << "data: "
          chunk = "d" * MIB
          96.times { file << chunk }
        end
        {replay: path, chunk_size: 65_536}
      end],
    "every_buffer_15mib" => ["event, id and data lines of 15 MiB each, then a 15 MiB text delta",
      lambda do
        path = replay("every_buffer") do |file|
          file << sse("message_start", MESSAGE_START)
          file << sse("content_block_start", {type: "content_block_start", index: 0, content_block: {type: "text", text: ""}})
          file << "id: " << ("i" * (15 * MIB)) << "\n" << "event: " << ("e" * (15 * MIB)) << "\n"
          file << "data: " << ("d" * (15 * MIB)) << "\n\n"
          file << sse("content_block_delta", {type: "content_block_delta", index: 0,
                                              delta: {type: "text_delta", text: "t" * (15 * MIB)}})
          file << sse("content_block_stop", {type: "content_block_stop", index: 0})
          file << sse("message_delta", {type: "message_delta", delta: {stop_reason: "end_turn"}, usage: {output_tokens: 1}})
          file << sse("message_stop", {type: "message_stop"})
        end
        {replay: path, chunk_size: 65_536}
      end],
    # 48 MiB: what LocalProvider's control endpoint takes in one script (64 MiB with its JSON).
    "error_body_48mib" => ["a 48 MiB error body (HTTP 500)",
      -> { {status: 500, body: "{\"error\":{\"type\":\"api_error\",\"message\":\"#{"m" * (48 * MIB)}\"}}"} }],
    "nul_deltas" => ["NUL (\\u0000) in text and thinking deltas",
      -> { {thinking: "think\u0000ing hard", tokens: Array.new(200) { |i| "w#{i}\u0000 " }} }]
  }.freeze

  class Handler
    def on_text(_accumulated, _delta)
    end

    def on_thinking(_accumulated, _delta)
    end
  end

  def klass(client)
    (client == "Stream") ? AssistantChatNative::Stream : AssistantChatNative::RubyStream
  end

  # For Turn: both models on LocalProvider, quick retries, the stall bound Stream gets.
  def turn_config(server)
    AssistantChatNative::Configuration.new.tap do |config|
      config.retry_base_delay = 0.01
      config.retry_max_delay = 0.05
      config.stall_timeout = 60
      config.logger = Logger.new(nil)
      ["claude-local", HOSTILE_MODEL].each do |model|
        config.models.register(model, provider: :anthropic, model_id: model,
          base_url: server.base_url_for(:anthropic), api_key: "sk-ant-local")
      end
    end
  end

  LOOKUP = AssistantChatNative::Tool.new(name: "lookup", description: "Looks a thing up",
    input_schema: {type: "object", properties: {q: {type: "string"}}}) { |_arguments| "found" }

  # One run of a client: [outcome, detail, what the note reads (a Result, or an Outcome's text)].
  def read(client, server, model)
    if client == "Turn"
      turn = AssistantChatNative::Turn.new(model: model, messages: [{role: "user", content: "Hello"}],
        tools: [LOOKUP], handler: Handler.new, max_rounds: 1, config: turn_config(server))
      outcome = turn.run
      [outcome.failure ? outcome.failure.kind.to_s : outcome.status.to_s, outcome.failure&.detail.to_s, outcome]
    else
      result = build(client, server, model).run(Handler.new)
      [result.failure ? result.failure.kind.to_s : "ok", result.failure&.detail.to_s, result]
    end
  end

  # The hostile script answers only this model; the warm-up asks for another.
  HOSTILE_MODEL = "claude-hostile"

  def request_body(model)
    JSON.generate(model: model, max_tokens: 1024, stream: true,
      messages: [{role: "user", content: "Hello"}])
  end

  def build(client, server, model)
    klass(client).new(provider: :anthropic, url: server.endpoint_for(:anthropic),
      headers: {"x-api-key" => "sk-ant-local", "anthropic-version" => "2023-06-01"},
      body: request_body(model), broadcast_interval: 0.1, stall_timeout: 60)
  end

  def vm_kb(field)
    File.read("/proc/self/status")[/^#{field}:\s+(\d+)/, 1].to_i
  end

  # Resets VmHWM to the current RSS (Linux 4.0+); false where that is not allowed.
  def reset_peak
    File.write("/proc/self/clear_refs", "5")
    true
  rescue SystemCallError
    false
  end

  def note(name, read)
    return nil unless read
    case name
    when "nul_deltas"
      texts = read.is_a?(AssistantChatNative::Result) ? [read.text, read.thinking] : [read.text]
      (texts.any? { |text| text.to_s.include?("\0") }) ? "NUL reaches the reply" : "no NUL in the reply"
    when "tool_calls_200k", "args_nested_300", "args_number_8mib"
      "#{read.tool_calls.size} tool call(s) returned" if read.is_a?(AssistantChatNative::Result)
    end
  end

  # In a forked worker: one run of one input, beside the sleeper.
  def measure(name, client, server)
    read(client, server, "claude-local") # warm up: code loaded, libcurl ready
    GC.start
    lateness = []
    sampled_kb = 0
    stop = false
    peak_reset = reset_peak
    rss_before = vm_kb("VmRSS")
    sleeper = Thread.new do
      until stop
        started = StreamsBench.monotonic
        sleep SLEEP
        lateness << StreamsBench.monotonic - started - SLEEP
        sampled_kb = [sampled_kb, vm_kb("VmRSS")].max
        if sampled_kb - rss_before > RSS_CEILING_MIB * 1024
          warn "worker RSS grew past #{RSS_CEILING_MIB} MiB: stopped"
          exit!(3)
        end
      end
    end
    started = StreamsBench.monotonic
    outcome = detail = value = error = nil
    begin
      outcome, detail, value = HostileInput.in_worker_thread { read(client, server, HOSTILE_MODEL) }
    rescue Exception => e # rubocop:disable Lint/RescueException -- SystemStackError and NoMemoryError are findings
      error = e
    end
    seconds = StreamsBench.monotonic - started
    stop = true
    sleeper.join
    peak_kb = peak_reset ? vm_kb("VmHWM") : sampled_kb
    late = lateness.sort
    {
      input: name, client: client, seconds: seconds,
      outcome: error ? "raised #{error.class}" : outcome,
      detail: (error ? error.message : detail).to_s[0, 160],
      note: note(name, value),
      rss_growth_mib: (peak_kb - rss_before) / 1024.0, rss_source: peak_reset ? "VmHWM" : "VmRSS sampled",
      wait_p99_ms: StreamsBench.percentile(late, 0.99) * 1000, wait_max_ms: (late.last || 0) * 1000
    }
  end

  def in_worker(name, client, server)
    status, row = StreamsBench.in_child(wait: method(:wait)) { measure(name, client, server) }
    return row if status&.success? && !row.key?(:error)
    verdict = if status.nil? then "timeout after #{TIMEOUT.round} s"
    elsif status.signaled? then "crashed (#{Signal.signame(status.termsig)})"
    elsif status.exitstatus == 3 then "RSS over #{RSS_CEILING_MIB} MiB (stopped)"
    else "worker failed: #{row[:error]}"
    end
    {input: name, client: client, outcome: verdict}
  end

  # Waits for the worker at most TIMEOUT seconds; kills it past that and returns nil.
  def wait(pid)
    deadline = StreamsBench.monotonic + TIMEOUT
    loop do
      _, status = Process.waitpid2(pid, Process::WNOHANG)
      return status if status
      if StreamsBench.monotonic > deadline
        Process.kill(:KILL, pid)
        Process.waitpid(pid)
        return nil
      end
      sleep 0.05
    end
  end

  # A LocalProvider with no response in progress and nothing queued: the last input's
  # response may still be going out (or its replay still being read) after the client
  # left. One that does not get there in time is replaced.
  def ready(server)
    deadline = StreamsBench.monotonic + 60
    begin
      server.reset
      # The stats request's own connection is one of the open ones.
      sleep 0.2 while server.stats["open_connections"] > 1 && StreamsBench.monotonic < deadline
      return server if server.stats["open_connections"] <= 1
    rescue => e
      warn "LocalProvider did not answer (#{e.class}); starting another"
    end
    server.stop
    AssistantChatNative::LocalProvider.spawn
  end

  # A classified failure or a normal end, not an exception, a crash, a timeout or a stopped worker.
  def ended_well?(row)
    !row[:outcome].match?(/\A(?:raised|crashed|timeout|RSS over|worker failed|bench error)/)
  end

  def bar(value, limit)
    return "–" if value.nil?
    (value <= limit) ? "pass" : "FAIL"
  end

  def table(rows)
    lines = ["| input | client | outcome | no raise or crash | RSS growth MiB | ≤ #{RSS_BAR_MIB} MiB | sibling p99 / max ms | " \
             "≤ #{WAIT_BAR_MS.round} ms | time s | note |",
      "|---|---|---|---|---|---|---|---|---|---|"]
    rows.each do |row|
      lines << "| #{row[:input]} | #{row[:client]} | #{row[:outcome]} | #{ended_well?(row) ? "pass" : "FAIL"} | " \
        "#{StreamsBench.fmt(row[:rss_growth_mib])} | " \
        "#{bar(row[:rss_growth_mib], RSS_BAR_MIB)} | " \
        "#{StreamsBench.fmt(row[:wait_p99_ms], 2)} / #{StreamsBench.fmt(row[:wait_max_ms], 2)} | " \
        "#{bar(row[:wait_max_ms], WAIT_BAR_MS)} | #{StreamsBench.fmt(row[:seconds])} | #{row[:note]} |"
    end
    lines.join("\n")
  end

  def run
    unless AssistantChatNative.native?
      abort "bench:hostile needs the C extension: run `bundle exec rake compile` first"
    end
    FileUtils.mkdir_p(WORK_DIR)
    names = ENV["ONLY"] ? ENV["ONLY"].split(",") : INPUTS.keys
    unknown = names - INPUTS.keys
    abort "bench:hostile: unknown input(s) #{unknown.join(", ")}; known: #{INPUTS.keys.join(", ")}" unless unknown.empty?
    server = AssistantChatNative::LocalProvider.spawn
    rows = []
    started = StreamsBench.monotonic
    plan = names.product(CLIENTS)
    scripts = {}
    plan.each_with_index do |(name, client), index|
      # Built (replay files written) once per input, in this process: the worker measures only the read.
      scripts[name] ||= INPUTS.fetch(name).last.call
      print format("[%2d/%d %5.0fs] %-20s %-10s ", index + 1, plan.size, StreamsBench.monotonic - started, name, client)
      server = ready(server)
      row = begin
        # Turn retries a retryable failure: each attempt gets the same input.
        server.enqueue(model: HOSTILE_MODEL, times: 3, **scripts[name])
        in_worker(name, client, server)
      rescue => e
        {input: name, client: client, outcome: "bench error: #{e.class}: #{e.message[0, 80]}"}
      end
      rows << row
      puts format("%-28s RSS +%7.1f MiB  sibling max %8.2f ms", row[:outcome], row[:rss_growth_mib] || Float::NAN,
        row[:wait_max_ms] || Float::NAN)
    end
    inputs = names.map { |name| "- `#{name}`: #{INPUTS[name].first}" }.join("\n")
    report = <<~MD
      # Hostile input benchmark

      `rake bench:hostile`, #{Time.now.utc.iso8601}, on #{StreamsBench.machine}; commit #{`git rev-parse --short HEAD 2>/dev/null`.strip}.

      Each input is served by LocalProvider (its own process) as an Anthropic stream or error response,
      and read by the client in a non-main thread with Ruby's default stack, in a freshly forked worker:
      `Stream`, `RubyStream`, or a one-round `Turn` (on `Stream`, with a tool; a retryable failure is
      retried on the same input). Outcome: the failure's kind, "ok" (a stream without failure), the
      Turn's status, an exception that escaped `run`, or how the worker died ("no raise or crash": anything but
      the last two). RSS growth: the worker's peak RSS during the run (VmHWM, reset before it) over its
      RSS before. Sibling: how late a 1 ms sleep in another Ruby thread woke, p99 and max. Bars: RSS
      growth ≤ #{RSS_BAR_MIB} MiB, sibling max ≤ #{WAIT_BAR_MS.round} ms.

      #{inputs}

      #{table(rows)}
    MD
    File.write(RESULTS, report)
    puts
    puts table(rows)
    puts "\nwritten to #{RESULTS} (#{(StreamsBench.monotonic - started).round}s)"
  ensure
    server&.stop
  end
end

HostileBench.run if $PROGRAM_NAME == __FILE__
