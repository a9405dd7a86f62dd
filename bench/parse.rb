# frozen_string_literal: true

# rake bench:parse: decodes one large Anthropic stream with the C decoder and with
# the path today's Ruby gems take (the event_stream_parser gem plus JSON.parse),
# side by side in one run, fed in network-sized chunks, and prints events per
# CPU-second, MB/s, Ruby allocations per event and the ratios; then the same reply
# in each dialect's own framing (Anthropic, OpenAI Chat Completions, OpenAI
# Responses) through the C decoder, so the dialects' decode speeds compare. The
# tables are also written to bench/results/parse.md with the machine and the date.
#
#   DELTAS=200000 CHUNK=16384 RUNS=3 bundle exec rake bench:parse

require "json"
require "time"
require "event_stream_parser"
require "assistant_chat_native"

module ParseBench
  DELTAS = Integer(ENV.fetch("DELTAS", "200000"))
  CHUNK = Integer(ENV.fetch("CHUNK", "16384"))
  RUNS = Integer(ENV.fetch("RUNS", "3"))
  RESULTS = File.expand_path("results/parse.md", __dir__)

  # Words a reply is made of, some of them multi-byte UTF-8 (2, 3 and 4 bytes).
  WORDS = %w[
    the a to of and in is that for it with as on this be are by you can or from
    stream token reply model Sidekiq worker request Rails database query index
    café naïve résumé déjà – — “quoted” ½ € 日本語 東京 données Zürich ✓ 🚀 😀 🎉
  ].freeze

  module_function

  # A recorded-style stream: message_start, one text block of DELTAS deltas of one
  # to three words each (as Anthropic sends them), a ping now and then, message_delta
  # with usage, message_stop. Returns [bytes, sse_events, expected_text].
  def recording(deltas)
    random = Random.new(20_261_128)
    out = +""
    text = +""
    events = 0
    emit = lambda do |type, payload|
      out << "event: " << type << "\ndata: " << JSON.generate(payload) << "\n\n"
      events += 1
    end
    emit.call("message_start", {type: "message_start", message: {
      id: "msg_01XFDUDYJgAACzvnptvVoYEL", type: "message", role: "assistant", content: [],
      model: "claude-sonnet-4-5-20250929", stop_reason: nil, stop_sequence: nil,
      usage: {input_tokens: 2_113, cache_creation_input_tokens: 0, cache_read_input_tokens: 1_800, output_tokens: 1}
    }})
    emit.call("content_block_start", {type: "content_block_start", index: 0, content_block: {type: "text", text: ""}})
    deltas.times do |i|
      piece = +""
      (1 + random.rand(3)).times { piece << " " << WORDS[random.rand(WORDS.size)] }
      piece << ".\n\n" if random.rand(40).zero?
      text << piece
      emit.call("content_block_delta", {type: "content_block_delta", index: 0, delta: {type: "text_delta", text: piece}})
      emit.call("ping", {type: "ping"}) if (i % 5_000) == 4_999
    end
    emit.call("content_block_stop", {type: "content_block_stop", index: 0})
    emit.call("message_delta", {type: "message_delta", delta: {stop_reason: "end_turn", stop_sequence: nil},
                                usage: {output_tokens: deltas}})
    emit.call("message_stop", {type: "message_stop"})
    [out.freeze, events, text.freeze]
  end

  # The same reply as recording's, framed as each dialect frames it: Chat Completions
  # chunks ending in [DONE], Responses events ending in response.completed. Returns
  # {dialect => [bytes, sse_events, expected_text, stop string]}.
  def dialect_recordings(deltas)
    anthropic, anthropic_events, text = recording(deltas)
    pieces = text_pieces(deltas)
    {anthropic: [anthropic, anthropic_events, text, "end_turn"],
     openai: chat_completions(pieces).push(text, "stop"),
     openai_responses: responses(pieces).push(text, "completed")}
  end

  # recording's text deltas, drawn from the same seed.
  def text_pieces(deltas)
    random = Random.new(20_261_128)
    Array.new(deltas) do
      piece = +""
      (1 + random.rand(3)).times { piece << " " << WORDS[random.rand(WORDS.size)] }
      piece << ".\n\n" if random.rand(40).zero?
      piece
    end
  end

  def chat_completions(pieces)
    out = +""
    chunk = lambda do |delta, finish = nil|
      out << "data: " << JSON.generate({id: "chatcmpl-CHq4k2Lm9Nb8Vc7Xz6As5Df4Gh3Jk", object: "chat.completion.chunk",
                                        created: 1_764_339_000, model: "gpt-4.1-2025-04-14", system_fingerprint: "fp_1",
                                        choices: [{index: 0, delta: delta, logprobs: nil, finish_reason: finish}]}) << "\n\n"
    end
    chunk.call({role: "assistant", content: ""})
    pieces.each { |piece| chunk.call({content: piece}) }
    chunk.call({}, "stop")
    out << "data: [DONE]\n\n"
    [out.freeze, pieces.size + 3]
  end

  def responses(pieces)
    out = +""
    sequence = 0
    emit = lambda do |type, fields|
      out << "event: " << type << "\ndata: " << JSON.generate({type: type, sequence_number: sequence, **fields}) << "\n\n"
      sequence += 1
    end
    response = {id: "resp_68f1c2d3e4b5a6978899aabbccddeeff", object: "response", status: "in_progress",
                model: "gpt-5.1-2025-11-13", output: [], usage: nil}
    emit.call("response.created", {response: response})
    item = {id: "msg_68f1c2d3e4b5a697aa01", type: "message", status: "in_progress", role: "assistant", content: []}
    emit.call("response.output_item.added", {output_index: 0, item: item})
    pieces.each do |piece|
      emit.call("response.output_text.delta", {item_id: item[:id], output_index: 0, content_index: 0, delta: piece,
                                               logprobs: []})
    end
    emit.call("response.completed", {response: response.merge(status: "completed",
      usage: {input_tokens: 2_113, input_tokens_details: {cached_tokens: 1_800}, output_tokens: pieces.size,
              output_tokens_details: {reasoning_tokens: 0}, total_tokens: 2_113 + pieces.size})})
    [out.freeze, sequence]
  end

  # Binary Strings, as Net::HTTP and Faraday hand over a response body.
  def chunks(bytes, size = CHUNK)
    binary = bytes.b
    (0...binary.bytesize).step(size).map { |offset| binary.byteslice(offset, size) }
  end

  # What ruby-openai, anthropic-sdk and friends do with a streamed body today.
  def ruby_path(chunks)
    parser = EventStreamParser::Parser.new
    text = +""
    stop_reason = nil
    chunks.each do |chunk|
      parser.feed(chunk) do |_type, data, _id, _reconnection_time|
        event = JSON.parse(data)
        case event["type"]
        when "content_block_delta"
          delta = event["delta"]
          text << delta["text"] if delta["type"] == "text_delta"
        when "message_delta"
          stop_reason = event.dig("delta", "stop_reason")
        end
      end
    end
    [text, stop_reason]
  end

  # Stream's path: accumulate in C, no Ruby object per event.
  def c_consume(chunks, provider = :anthropic)
    decoder = AssistantChatNative::Decoder.new(provider)
    chunks.each { |chunk| decoder.consume(chunk) }
    result = decoder.finish
    [result.text, result.provider_stop_reason]
  end

  # Decoder#feed: every event also returned to Ruby as a Hash.
  def c_feed(chunks)
    decoder = AssistantChatNative::Decoder.new(:anthropic)
    chunks.each { |chunk| decoder.feed(chunk) }
    result = decoder.finish
    [result.text, result.provider_stop_reason]
  end

  # Best of RUNS: CPU seconds and allocated objects of one pass.
  def measure(chunks, expected_text, expected_stop = "end_turn")
    best = nil
    RUNS.times do
      GC.start
      allocated = GC.stat(:total_allocated_objects)
      cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
      text, stop_reason = yield(chunks)
      cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - cpu
      allocated = GC.stat(:total_allocated_objects) - allocated
      raise "decoded text differs from the recording's" unless text == expected_text
      raise "stop reason #{stop_reason.inspect}, expected #{expected_stop}" unless stop_reason == expected_stop
      best = {cpu: cpu, allocated: allocated} if best.nil? || cpu < best[:cpu]
    end
    best
  end

  def machine
    cpu = File.foreach("/proc/cpuinfo").find { |line| line.start_with?("model name") }
    {
      nproc: Etc.nprocessors,
      cpu: cpu ? cpu.split(":", 2).last.strip : RbConfig::CONFIG["host_cpu"],
      ruby: RUBY_DESCRIPTION
    }
  end

  def run
    require "etc"
    abort "bench:parse needs the C extension: #{AssistantChatNative::Native.load_error}" unless AssistantChatNative.native?

    bytes, events, text = recording(DELTAS)
    parts = chunks(bytes)
    mb = bytes.bytesize / 1_000_000.0
    puts format("Stream: %d SSE events (%d text deltas), %.1f MB, %d chunks of %d bytes; best of %d runs",
      events, DELTAS, mb, parts.size, CHUNK, RUNS)

    # event_stream_parser slices its buffer line by line, so its cost depends on the read
    # size: it also runs on packet-sized reads, to show it at its best.
    small = chunks(bytes, 1400)
    paths = [
      ["Ruby: event_stream_parser + JSON.parse", method(:ruby_path), parts],
      ["Ruby: the same, 1,400-byte reads", method(:ruby_path), small],
      ["C: Decoder#consume (accumulate in C, Stream's path)", method(:c_consume), parts],
      ["C: Decoder#feed (every event as a Ruby Hash)", method(:c_feed), parts]
    ]
    rows = paths.map do |name, path, input|
      figures = measure(input, text) { |chunk_list| path.call(chunk_list) }
      {name: name, cpu: figures[:cpu], events_per_s: events / figures[:cpu], mb_per_s: mb / figures[:cpu],
       allocations: figures[:allocated].fdiv(events)}
    end
    baseline = rows.first(2).map { |row| row[:events_per_s] }.max
    rows.each { |row| row[:ratio] = row[:events_per_s] / baseline }

    table = render(rows, events: events, mb: mb, parts: parts.size) + "\n" + render_dialects(dialect_rows)
    puts table
    write(table)
  end

  # Decoder#consume on the same reply in each dialect's framing.
  def dialect_rows
    dialect_recordings(DELTAS).map do |dialect, (bytes, events, text, stop)|
      figures = measure(chunks(bytes), text, stop) { |chunk_list| c_consume(chunk_list, dialect) }
      mb = bytes.bytesize / 1_000_000.0
      {dialect: dialect, events: events, mb: mb, cpu: figures[:cpu], events_per_s: events / figures[:cpu],
       deltas_per_s: DELTAS / figures[:cpu], mb_per_s: mb / figures[:cpu], allocations: figures[:allocated].fdiv(events)}
    end
  end

  DIALECT_NAMES = {anthropic: "Anthropic Messages (text deltas take the fast path)",
                   openai: "OpenAI Chat Completions", openai_responses: "OpenAI Responses (text deltas take the fast path)"}.freeze

  def render_dialects(rows)
    lines = ["## The C decoder, dialect by dialect", ""]
    lines << format("The same %d text deltas framed as each dialect sends them, fed in chunks of %d bytes to " \
                    "Decoder#consume; best of %d runs. Responses events carry more bytes per delta (item_id, " \
                    "output_index, content_index, sequence_number), so text deltas per CPU-second and MB/s are both shown.",
      DELTAS, CHUNK, RUNS)
    lines << ""
    lines << "| dialect | SSE events | MB | CPU s | text deltas / CPU-s | MB/s | Ruby allocations / event |"
    lines << "|---|---:|---:|---:|---:|---:|---:|"
    rows.each do |row|
      lines << format("| %s | %d | %.1f | %.3f | %s | %.1f | %.3f |", DIALECT_NAMES.fetch(row[:dialect]), row[:events],
        row[:mb], row[:cpu], row[:deltas_per_s].round.to_s.gsub(/(\d)(?=(\d{3})+\z)/, '\1,'), row[:mb_per_s], row[:allocations])
    end
    lines.join("\n") + "\n"
  end

  def render(rows, events:, mb:, parts:)
    info = machine
    lines = []
    lines << "# rake bench:parse"
    lines << ""
    lines << "Measured #{Time.now.utc.iso8601} on #{info[:nproc]} CPUs (#{info[:cpu]}), #{info[:ruby]}."
    lines << ""
    lines << format("One Anthropic stream: %d SSE events (%d text deltas, multi-byte UTF-8 included), %.1f MB, " \
                    "fed in %d chunks of %d bytes. CPU time of the whole process, best of %d runs.",
      events, DELTAS, mb, parts, CHUNK, RUNS)
    lines << ""
    lines << "\"vs Ruby\" compares with the faster of the two Ruby rows. The machine was shared with other " \
             "work while measuring; CPU time (not wall time) is what is compared."
    lines << ""
    lines << "| path | CPU s | events / CPU-s | MB/s | Ruby allocations / event | vs Ruby |"
    lines << "|---|---:|---:|---:|---:|---:|"
    rows.each do |row|
      lines << format("| %s | %.3f | %s | %.1f | %.3f | %.1fx |", row[:name], row[:cpu],
        row[:events_per_s].round.to_s.gsub(/(\d)(?=(\d{3})+\z)/, '\1,'), row[:mb_per_s], row[:allocations], row[:ratio])
    end
    lines.join("\n") + "\n"
  end

  def write(table)
    File.write(RESULTS, table)
    puts "Written to #{RESULTS.sub(Dir.pwd + "/", "")}"
  end
end

ParseBench.run if $PROGRAM_NAME == __FILE__
