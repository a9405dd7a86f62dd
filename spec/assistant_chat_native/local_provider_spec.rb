# frozen_string_literal: true

require "event_stream_parser"
require "json"
require "net/http"
require "socket"

RSpec.describe AssistantChatNative::LocalProvider do
  # Wire-level client helpers: these read what LocalProvider sends without any
  # of the gem's own parsing, so the assertions hold against the providers'
  # documented formats.

  def post(provider, path, body, headers = {})
    Net::HTTP.start("127.0.0.1", provider.port, read_timeout: 5) do |http|
      http.post(path, body.is_a?(String) ? body : JSON.generate(body),
        {"content-type" => "application/json"}.merge(headers))
    end
  end

  # [[event type, data], ...] as a WHATWG-conforming SSE parser reads them.
  def sse_events(body)
    events = []
    parser = EventStreamParser::Parser.new
    parser.feed(body) { |type, data, _id, _retry| events << [type, data] }
    events
  end

  def json_events(body)
    sse_events(body).map { |type, data| [type, JSON.parse(data)] }
  end

  # Sends raw request bytes and reads until the server closes, resets, or
  # timeout seconds pass. Returns [bytes received, :eof | :reset | :timeout]. The
  # default is generous: a loaded machine must not cut a stream that would end.
  def raw_exchange(port, request, timeout: 30)
    socket = TCPSocket.new("127.0.0.1", port)
    socket.write(request)
    received = +"".b
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    loop do
      remaining = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
      return [received, :timeout] if remaining <= 0
      next unless socket.wait_readable(remaining)
      chunk = socket.read_nonblock(65_536, exception: false)
      next if chunk == :wait_readable
      return [received, :eof] if chunk.nil?
      received << chunk
    end
  rescue Errno::ECONNRESET
    [received, :reset]
  ensure
    socket&.close
  end

  def raw_post(path, body, extra_headers = "")
    json = JSON.generate(body)
    "POST #{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" \
      "Content-Length: #{json.bytesize}\r\nConnection: close\r\n#{extra_headers}\r\n#{json}"
  end

  # Splits a raw response into [head, [chunk payloads], complete?] per RFC 9112 7.1.
  def dechunk(raw)
    head, rest = raw.split("\r\n\r\n", 2)
    chunks = []
    rest = rest.to_s
    loop do
      size_line, rest = rest.split("\r\n", 2)
      return [head, chunks, false] if rest.nil?
      size = Integer(size_line, 16)
      return [head, chunks, true] if size.zero?
      return [head, chunks + [rest.byteslice(0, size)], false] if rest.bytesize < size + 2
      chunks << rest.byteslice(0, size)
      rest = rest.byteslice((size + 2)..)
    end
  end

  def local_provider_threads(port)
    Thread.list.select { |thread| thread.name.to_s.start_with?("local_provider :#{port} ") && thread.alive? }
  end

  def payloads(events, type)
    events.filter_map { |event_type, data| data if event_type == type }
  end

  # The reply text of an Anthropic stream: its text_delta events joined.
  def anthropic_text(events)
    payloads(events, "content_block_delta").sum("") { |data| data["delta"]["text"].to_s }
  end

  def monotonic
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  let(:anthropic_body) { {model: "claude-sonnet-5-5", stream: true, max_tokens: 1024, messages: [{role: "user", content: "Hi"}]} }
  let(:openai_body) { {model: "gpt-4o-mini", stream: true, stream_options: {include_usage: true}, messages: [{role: "user", content: "Hi"}]} }
  let(:gemini_path) { "/v1beta/models/gemini-3.8-flash:streamGenerateContent?alt=sse" }
  let(:gemini_body) { {contents: [{role: "user", parts: [{text: "Hi"}]}]} }

  describe "lifecycle" do
    it "listens on an ephemeral loopback port and reports its URLs" do
      with_local_provider do |provider|
        expect(provider.url).to match(%r{\Ahttp://127\.0\.0\.1:\d+\z})
        expect(provider.port).to be_positive
        expect(provider.base_url_for(:anthropic)).to eq(provider.url)
        expect(provider.base_url_for(:openai)).to eq("#{provider.url}/v1")
        expect(provider.base_url_for(:gemini)).to eq(provider.url)
        expect(provider.endpoint_for(:gemini, model: "gemini-3.1-pro-preview"))
          .to eq("#{provider.url}/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent?alt=sse")
        expect { provider.base_url_for(:cohere) }.to raise_error(AssistantChatNative::ConfigurationError)
      end
    end

    it "refuses connections and leaves no thread behind after stop" do
      provider = described_class.start
      port = provider.port
      expect(post(provider, "/v1/messages", anthropic_body).code).to eq("200")
      provider.stop
      expect(local_provider_threads(port)).to be_empty
      expect { TCPSocket.new("127.0.0.1", port).close }.to raise_error(Errno::ECONNREFUSED)
    end

    it "stops within 2 s while a response is stalled and the client still waits" do
      provider = described_class.start
      provider.enqueue(stall_after: 2, stall_for: 60)
      socket = TCPSocket.new("127.0.0.1", provider.port)
      socket.write(raw_post("/v1/messages", anthropic_body))
      provider.wait_for_requests(1)
      port = provider.port
      expect(local_provider_threads(port).size).to eq(2)
      started = monotonic
      provider.stop
      expect(monotonic - started).to be < 2.5
      expect(local_provider_threads(port)).to be_empty
      expect(provider.requests.first.outcome).to eq(:stopped)
    ensure
      socket&.close
      provider&.stop
    end

    it "closes every socket and pipe it opened when it stops" do
      # What each descriptor is open on (socket:[inode], pipe:[inode], a path), not
      # how many there are. Other threads of this process (the suite's shared
      # LocalProvider, database and Redis clients) open and close their own sockets
      # meanwhile, so a new socket counts only when it is a TCP socket on one of these
      # providers' ports: an accepted connection, a listener, or a client of one.
      open_fds = lambda do
        Dir.children("/proc/self/fd").filter_map do |fd|
          File.readlink("/proc/self/fd/#{fd}")
        rescue Errno::ENOENT # the listing's own descriptor, closed by now
          nil
        end
      end
      tcp_ports = lambda do # socket inode => [local port, remote port]
        %w[/proc/net/tcp /proc/net/tcp6].select { |path| File.exist?(path) }.flat_map { |path| File.readlines(path).drop(1) }
          .to_h do |line|
            fields = line.split
            [fields[9], [fields[1], fields[2]].map { |address| address.split(":").last.to_i(16) }]
          end
      end
      ports = []
      GC.start
      before = open_fds.call
      3.times do
        with_local_provider do |provider|
          ports << provider.port
          provider.enqueue(stall_after: 1)
          socket = TCPSocket.new("127.0.0.1", provider.port)
          socket.write(raw_post("/v1/messages", anthropic_body))
          provider.wait_for_requests(1)
          post(provider, "/v1/messages", anthropic_body)
          socket.close
        end
      end
      GC.start
      opened = open_fds.call - before
      sockets = tcp_ports.call
      leaked = opened.select do |target|
        inode = target[/\Asocket:\[(\d+)\]\z/, 1]
        target.start_with?("pipe:") || (inode && (sockets[inode] || []).intersect?(ports))
      end
      expect(leaked).to eq([])
    end

    it "rejects unknown script options with the list of known ones" do
      expect { local_provider.enqueue(txet: "typo") }
        .to raise_error(AssistantChatNative::ConfigurationError, /unknown LocalProvider script option.*txet/)
    end
  end

  describe "Anthropic Messages stream" do
    it "sends message_start, content blocks for thinking, text and tool use, message_delta and message_stop" do
      local_provider.enqueue(thinking: "Let me think.", signature: "sig-123", text: "Hello there",
        tool_calls: [{id: "toolu_1", name: "get_weather", arguments: {city: "Paris", unit: "celsius"}}],
        usage: {input_tokens: 42, output_tokens: 17, cache_read_tokens: 5})
      response = post(local_provider, "/v1/messages", anthropic_body)

      expect(response.code).to eq("200")
      expect(response["content-type"]).to start_with("text/event-stream")
      expect(response["transfer-encoding"]).to eq("chunked")
      events = json_events(response.body)
      events.each { |type, data| expect(data["type"]).to eq(type) }
      types = events.map(&:first)
      expect(types.first).to eq("message_start")
      expect(types.last(2)).to eq(%w[message_delta message_stop])
      expect(types).to include("ping")

      start = events.first[1]["message"]
      expect(start).to include("role" => "assistant", "model" => "claude-sonnet-5-5", "content" => [])
      expect(start["usage"]).to include("input_tokens" => 42, "cache_read_input_tokens" => 5)

      blocks = payloads(events, "content_block_start")
      expect(blocks.map { |block| [block["index"], block["content_block"]["type"]] })
        .to eq([[0, "thinking"], [1, "text"], [2, "tool_use"]])
      expect(blocks[2]["content_block"]).to include("id" => "toolu_1", "name" => "get_weather", "input" => {})

      deltas = payloads(events, "content_block_delta")
      by_index = deltas.group_by { |delta| delta["index"] }
      expect(by_index[0].select { |d| d["delta"]["type"] == "thinking_delta" }.sum("") { |d| d["delta"]["thinking"] })
        .to eq("Let me think.")
      expect(by_index[0].last["delta"]).to eq("type" => "signature_delta", "signature" => "sig-123")
      expect(by_index[1].map { |d| d["delta"]["type"] }.uniq).to eq(["text_delta"])
      expect(by_index[1].sum("") { |d| d["delta"]["text"] }).to eq("Hello there")
      fragments = by_index[2].map { |d| d["delta"] }
      expect(fragments.map { |f| f["type"] }.uniq).to eq(["input_json_delta"])
      expect(fragments.size).to be > 2
      expect(JSON.parse(fragments.sum("") { |f| f["partial_json"] })).to eq("city" => "Paris", "unit" => "celsius")

      stops = payloads(events, "content_block_stop").map { |data| data["index"] }
      expect(stops).to eq([0, 1, 2])
      message_delta = events[-2][1]
      expect(message_delta["delta"]).to eq("stop_reason" => "tool_use", "stop_sequence" => nil)
      expect(message_delta["usage"]).to eq("output_tokens" => 17)
    end

    it "maps a Symbol stop reason and sends a refusal as text with stop_reason refusal" do
      local_provider.enqueue(text: "Cut", stop_reason: :max_tokens)
      local_provider.enqueue(refusal: "I can't help with that.")
      first = json_events(post(local_provider, "/v1/messages", anthropic_body).body)
      second = json_events(post(local_provider, "/v1/messages", anthropic_body).body)
      expect(first[-2][1]["delta"]["stop_reason"]).to eq("max_tokens")
      expect(second[-2][1]["delta"]["stop_reason"]).to eq("refusal")
      text = anthropic_text(second)
      expect(text).to eq("I can't help with that.")
    end

    it "answers with a short default text when nothing is scripted" do
      events = json_events(post(local_provider, "/v1/messages", anthropic_body).body)
      text = anthropic_text(events)
      expect(text).to eq(described_class::Script::DEFAULT_TEXT)
      expect(events[-2][1]["delta"]["stop_reason"]).to eq("end_turn")
    end
  end

  describe "OpenAI Chat Completions stream" do
    it "sends chat.completion.chunk objects with content, tool calls by index, finish_reason, usage and [DONE]" do
      local_provider.enqueue(text: "Hi you",
        tool_calls: [{id: "call_a", name: "search", arguments: {q: "ruby"}},
          {id: "call_b", name: "lookup", arguments: '{"id":7}'}],
        usage: {input_tokens: 30, output_tokens: 9, cache_read_tokens: 4})
      response = post(local_provider, "/v1/chat/completions", openai_body)

      expect(response["content-type"]).to start_with("text/event-stream")
      events = sse_events(response.body)
      expect(events.map(&:first).uniq).to eq([""]) # data-only events: no "event:" field
      expect(events.last[1]).to eq("[DONE]")
      chunks = events[0...-1].map { |_, data| JSON.parse(data) }
      chunks.each do |chunk|
        expect(chunk).to include("object" => "chat.completion.chunk", "model" => "gpt-4o-mini")
        expect(chunk["id"]).to eq(chunks.first["id"])
      end
      expect(chunks.first["choices"][0]["delta"]).to include("role" => "assistant")

      with_choices = chunks.reject { |chunk| chunk["choices"].empty? }
      deltas = with_choices.map { |chunk| chunk["choices"][0]["delta"] }
      expect(deltas.sum("") { |delta| delta["content"].to_s }).to eq("Hi you")

      calls = deltas.flat_map { |delta| delta["tool_calls"] || [] }
      firsts = calls.select { |call| call["id"] }
      expect(firsts.map { |call| [call["index"], call["id"], call["type"], call["function"]["name"]] })
        .to eq([[0, "call_a", "function", "search"], [1, "call_b", "function", "lookup"]])
      arguments = calls.group_by { |call| call["index"] }
        .transform_values { |parts| parts.sum("") { |part| part["function"]["arguments"].to_s } }
      expect(arguments.transform_values { |json| JSON.parse(json) }).to eq(0 => {"q" => "ruby"}, 1 => {"id" => 7})

      finish = with_choices.map { |chunk| chunk["choices"][0]["finish_reason"] }
      expect(finish.compact).to eq(["tool_calls"])
      expect(finish.last).to eq("tool_calls")

      usage_chunk = chunks.last
      expect(usage_chunk["choices"]).to eq([])
      expect(usage_chunk["usage"]).to include("prompt_tokens" => 30, "completion_tokens" => 9, "total_tokens" => 39)
      expect(usage_chunk["usage"]["prompt_tokens_details"]).to include("cached_tokens" => 4)
    end

    it "sends no usage chunk unless stream_options.include_usage is true" do
      body = openai_body.merge(stream_options: nil)
      events = sse_events(post(local_provider, "/v1/chat/completions", body).body)
      chunks = events[0...-1].map { |_, data| JSON.parse(data) }
      expect(chunks).to all(satisfy { |chunk| chunk["choices"].size == 1 && !chunk.key?("usage") })
      expect(chunks.last["choices"][0]["finish_reason"]).to eq("stop")
    end

    it "streams a refusal in delta.refusal" do
      local_provider.enqueue(refusal: "No.")
      events = sse_events(post(local_provider, "/v1/chat/completions", openai_body).body)
      deltas = events[0...-1].map { |_, data| JSON.parse(data) }.reject { |c| c["choices"].empty? }
        .map { |c| c["choices"][0]["delta"] }
      expect(deltas.sum("") { |delta| delta["refusal"].to_s }).to eq("No.")
    end
  end

  describe "Gemini streamGenerateContent stream" do
    it "sends GenerateContentResponse chunks with thought, text and functionCall parts, finishReason and usageMetadata" do
      local_provider.enqueue(thinking: "Hmm", text: "Sunny today",
        tool_calls: [{name: "get_weather", arguments: {city: "Paris"}}, {name: "get_time", arguments: {}}],
        usage: {input_tokens: 11, output_tokens: 8, cache_read_tokens: 3})
      response = post(local_provider, gemini_path, gemini_body)

      expect(response["content-type"]).to start_with("text/event-stream")
      expect(response.body).to include("\r\n\r\n")
      chunks = sse_events(response.body).map { |_, data| JSON.parse(data) }
      chunks.each do |chunk|
        expect(chunk["candidates"].size).to eq(1)
        expect(chunk["candidates"][0]["content"]["role"]).to eq("model")
        expect(chunk["modelVersion"]).to eq("gemini-3.8-flash")
      end
      parts = chunks.flat_map { |chunk| chunk["candidates"][0]["content"]["parts"] }
      expect(parts.select { |part| part["thought"] }.sum("") { |part| part["text"] }).to eq("Hmm")
      expect(parts.reject { |part| part["thought"] }.sum("") { |part| part["text"].to_s }).to eq("Sunny today")
      expect(parts.filter_map { |part| part["functionCall"] })
        .to eq([{"name" => "get_weather", "args" => {"city" => "Paris"}}, {"name" => "get_time", "args" => {}}])

      reasons = chunks.map { |chunk| chunk["candidates"][0]["finishReason"] }
      expect(reasons.compact).to eq(["STOP"])
      expect(reasons.last).to eq("STOP")
      expect(chunks.last["usageMetadata"]).to include("promptTokenCount" => 11, "cachedContentTokenCount" => 3,
        "thoughtsTokenCount" => 1, "candidatesTokenCount" => 7, "totalTokenCount" => 19)
    end

    it "takes the model from the path and records the alt=sse query" do
      post(local_provider, gemini_path, gemini_body)
      request = local_provider.last_request
      expect(request.provider).to eq(:gemini)
      expect(request.model).to eq("gemini-3.8-flash")
      expect(request.query).to eq("alt" => "sse")
    end
  end

  describe "scripting" do
    it "answers a tool-call round and then a text round from the queue, in order" do
      local_provider.enqueue(tool_calls: [{name: "search", arguments: {q: "x"}}])
      local_provider.enqueue(text: "Done.")
      first = json_events(post(local_provider, "/v1/messages", anthropic_body).body)
      second = json_events(post(local_provider, "/v1/messages", anthropic_body).body)
      expect(first[-2][1]["delta"]["stop_reason"]).to eq("tool_use")
      expect(second[-2][1]["delta"]["stop_reason"]).to eq("end_turn")
      expect(local_provider.pending).to eq(0)
    end

    it "fails with 429 and retry-after, then succeeds" do
      local_provider.enqueue(status: 429, headers: {"retry-after" => "1"})
      local_provider.enqueue(text: "Second try")
      failed = post(local_provider, "/v1/messages", anthropic_body)
      expect(failed.code).to eq("429")
      expect(failed["retry-after"]).to eq("1")
      expect(failed["content-length"].to_i).to eq(failed.body.bytesize)
      expect(JSON.parse(failed.body)).to include("type" => "error",
        "error" => hash_including("type" => "rate_limit_error"))
      expect(post(local_provider, "/v1/messages", anthropic_body).code).to eq("200")
    end

    it "sends the provider's documented error body for a scripted status" do
      local_provider.enqueue(status: 500, times: 3)
      anthropic = JSON.parse(post(local_provider, "/v1/messages", anthropic_body).body)
      openai = JSON.parse(post(local_provider, "/v1/chat/completions", openai_body).body)
      gemini = JSON.parse(post(local_provider, gemini_path, gemini_body).body)
      expect(anthropic["error"]).to include("type" => "api_error")
      expect(openai["error"]).to include("type" => "server_error", "param" => nil)
      expect(gemini["error"]).to include("code" => 500, "status" => "INTERNAL")
    end

    it "answers 400 with an empty body when told to" do
      local_provider.enqueue(provider: :gemini, status: 400, body: "")
      response = post(local_provider, gemini_path, gemini_body)
      expect(response.code).to eq("400")
      expect(response["content-length"]).to eq("0")
      expect(response.body.to_s).to eq("")
    end

    it "picks queued scripts by model and skips those for other models" do
      local_provider.enqueue(model: /haiku/, text: "from haiku")
      local_provider.enqueue(model: "claude-sonnet-5-5", text: "from sonnet")
      sonnet = json_events(post(local_provider, "/v1/messages", anthropic_body).body)
      haiku = json_events(post(local_provider, "/v1/messages", anthropic_body.merge(model: "claude-haiku-5-5")).body)
      expect(anthropic_text(sonnet)).to eq("from sonnet")
      expect(anthropic_text(haiku)).to eq("from haiku")
    end

    it "repeats a queued script `times` times" do
      local_provider.enqueue(status: 503, times: 2)
      codes = Array.new(3) { post(local_provider, "/v1/messages", anthropic_body).code }
      expect(codes).to eq(%w[503 503 200])
    end

    it "lets a respond_with block answer from the request body" do
      local_provider.respond_with do |request|
        {text: "You said #{request.json["messages"].last["content"]}"} if request.provider == :anthropic
      end
      events = json_events(post(local_provider, "/v1/messages", anthropic_body).body)
      text = anthropic_text(events)
      expect(text).to eq("You said Hi")
    end

    it "answers 500 with the error when the respond_with block raises" do
      local_provider.respond_with { |_request| raise ArgumentError, "scripted mistake" }
      response = post(local_provider, "/v1/messages", anthropic_body)
      expect(response.code).to eq("500")
      expect(JSON.parse(response.body)["error"]["message"]).to include("ArgumentError: scripted mistake")
    end

    it "streams tool arguments that are not JSON as Anthropic fragments, and refuses them for Gemini" do
      local_provider.enqueue(tool_calls: [{name: "broken", arguments: '{"q": "unterminated'}], times: 2)
      events = json_events(post(local_provider, "/v1/messages", anthropic_body).body)
      partial = payloads(events, "content_block_delta").sum("") { |data| data["delta"]["partial_json"].to_s }
      expect(partial).to eq('{"q": "unterminated')
      response = post(local_provider, gemini_path, gemini_body)
      expect(response.code).to eq("500")
      expect(JSON.parse(response.body)["error"]["message"]).to include("script them as a Hash")
    end

    it "uses a changed default until reset" do
      local_provider.default = "Changed default"
      events = sse_events(post(local_provider, "/v1/chat/completions", openai_body).body)
      content = events[0...-1].map { |_, d| JSON.parse(d) }.reject { |c| c["choices"].empty? }
        .sum("") { |c| c["choices"][0]["delta"]["content"].to_s }
      expect(content).to eq("Changed default")
      local_provider.reset
      expect(local_provider.requests).to be_empty
    end
  end

  describe "requests that do not ask for a stream" do
    it "answers with the provider's whole JSON response" do
      local_provider.enqueue(text: "Hi", tool_calls: [{id: "t1", name: "search", arguments: {q: "x"}}],
        usage: {input_tokens: 7, output_tokens: 4}, times: 3)
      anthropic = post(local_provider, "/v1/messages", anthropic_body.merge(stream: false))
      openai = post(local_provider, "/v1/chat/completions", openai_body.except(:stream, :stream_options))
      gemini = post(local_provider, "/v1beta/models/gemini-3.8-flash:generateContent", gemini_body)

      [anthropic, openai, gemini].each do |response|
        expect(response["content-type"]).to eq("application/json")
        expect(response["content-length"].to_i).to eq(response.body.bytesize)
      end
      message = JSON.parse(anthropic.body)
      expect(message).to include("type" => "message", "role" => "assistant", "stop_reason" => "tool_use",
        "usage" => {"input_tokens" => 7, "output_tokens" => 4})
      expect(message["content"]).to eq([{"type" => "text", "text" => "Hi"},
        {"type" => "tool_use", "id" => "t1", "name" => "search", "input" => {"q" => "x"}}])

      completion = JSON.parse(openai.body)
      expect(completion["object"]).to eq("chat.completion")
      choice = completion["choices"][0]
      expect(choice["finish_reason"]).to eq("tool_calls")
      expect(choice["message"]).to include("role" => "assistant", "content" => "Hi")
      expect(choice["message"]["tool_calls"]).to eq([{"id" => "t1", "type" => "function",
                                                      "function" => {"name" => "search", "arguments" => '{"q":"x"}'}}])
      expect(completion["usage"]).to include("prompt_tokens" => 7, "completion_tokens" => 4, "total_tokens" => 11)

      candidate = JSON.parse(gemini.body)["candidates"][0]
      expect(candidate["finishReason"]).to eq("STOP")
      expect(candidate["content"]["parts"]).to eq([{"text" => "Hi"},
        {"functionCall" => {"name" => "search", "args" => {"q" => "x"}}}])
    end
  end

  describe "wire control" do
    it "writes one byte per HTTP chunk when chunk_size is 1" do
      local_provider.enqueue(text: "Hi", chunk_size: 1)
      raw, ending = raw_exchange(local_provider.port, raw_post("/v1/messages", anthropic_body))
      head, chunks, complete = dechunk(raw)
      expect(ending).to eq(:eof)
      expect(head.split("\r\n")).to include("transfer-encoding: chunked")
      expect(complete).to be(true)
      expect(chunks.map(&:bytesize).uniq).to eq([1])
      expect(sse_events(chunks.join).map(&:first).last).to eq("message_stop")
    end

    it "writes the whole stream as one chunk with chunk_size :whole" do
      local_provider.enqueue(text: "One two three", chunk_size: :whole)
      raw, = raw_exchange(local_provider.port, raw_post("/v1/messages", anthropic_body))
      _, chunks, complete = dechunk(raw)
      expect(complete).to be(true)
      expect(chunks.size).to eq(1)
    end

    it "draws write sizes from a chunk_size range, the same for the same seed" do
      sizes = Array.new(2) do
        local_provider.enqueue(text: "one two three four", chunk_size: 1..7, seed: 42)
        raw, = raw_exchange(local_provider.port, raw_post("/v1/messages", anthropic_body))
        _, chunks, complete = dechunk(raw)
        expect(complete).to be(true)
        expect(anthropic_text(json_events(chunks.join))).to eq("one two three four")
        chunks.map(&:bytesize)
      end
      expect(sizes[0]).to all(be_between(1, 7))
      expect(sizes[0].uniq.size).to be > 1
      expect(sizes[1]).to eq(sizes[0])
    end

    it "paces tokens at the token rate" do
      local_provider.enqueue(text: "a b c d e f", token_rate: 20)
      started = monotonic
      post(local_provider, "/v1/messages", anthropic_body)
      expect(monotonic - started).to be >= 5 / 20.0
    end

    it "reuses one TCP connection for consecutive requests (keep-alive)" do
      accepted = local_provider.connections_accepted
      Net::HTTP.start("127.0.0.1", local_provider.port) do |http|
        3.times { expect(http.post("/v1/messages", JSON.generate(anthropic_body)).code).to eq("200") }
      end
      expect(local_provider.connections_accepted - accepted).to eq(1)
      expect(local_provider.requests.map(&:connection_id).uniq.size).to eq(1)
    end

    it "answers Expect: 100-continue before reading the body" do
      request = raw_post("/v1/messages", anthropic_body, "Expect: 100-continue\r\n")
      head, body = request.split("\r\n\r\n", 2)
      socket = TCPSocket.new("127.0.0.1", local_provider.port)
      socket.write("#{head}\r\n\r\n")
      expect(socket.wait_readable(2)).to be_truthy
      expect(socket.readpartial(100)).to start_with("HTTP/1.1 100 Continue\r\n\r\n")
      socket.write(body)
      expect(local_provider.wait_for_requests(1).first.json).to include("model" => "claude-sonnet-5-5")
    ensure
      socket&.close
    end
  end

  describe "faults" do
    it "waits `delay` seconds before sending the headers" do
      local_provider.enqueue(delay: 0.3)
      started = monotonic
      expect(post(local_provider, "/v1/messages", anthropic_body).code).to eq("200")
      expect(monotonic - started).to be >= 0.3
    end

    it "stalls after N events, holding the socket, and sees the client give up" do
      local_provider.enqueue(text: "one two three", stall_after: 3, stall_for: 30)
      raw, ending = raw_exchange(local_provider.port, raw_post("/v1/messages", anthropic_body), timeout: 0.5)
      expect(ending).to eq(:timeout)
      _, chunks, complete = dechunk(raw)
      expect(complete).to be(false)
      expect(sse_events(chunks.join).map(&:first)).to eq(%w[message_start content_block_start ping])
      request = local_provider.last_request
      expect(request.wait_until_finished(timeout: 1)).to be(true)
      expect(request).to be_disconnected
    end

    it "ends a stall after stall_for seconds by closing the connection" do
      local_provider.enqueue(stall_after: 1, stall_for: 0.2)
      _, ending = raw_exchange(local_provider.port, raw_post("/v1/messages", anthropic_body))
      expect(ending).to eq(:eof)
      expect(local_provider.last_request.outcome).to eq(:stalled)
    end

    it "resets the TCP connection after N body bytes" do
      local_provider.enqueue(text: "a longer reply to cut", reset_after: 100)
      raw, ending = raw_exchange(local_provider.port, raw_post("/v1/messages", anthropic_body))
      expect(ending).to eq(:reset).or eq(:eof)
      expect(ending).to eq(:reset) if raw.empty?
      request = local_provider.last_request
      expect(request.wait_until_finished).to be(true)
      expect(request.outcome).to eq(:reset)
      expect(request.bytes_sent).to eq(100)
    end

    it "closes without the terminal event, ending the chunked body" do
      local_provider.enqueue(text: "almost done", close_without_terminal: true)
      raw, ending = raw_exchange(local_provider.port, raw_post("/v1/messages", anthropic_body))
      _, chunks, complete = dechunk(raw)
      expect(ending).to eq(:eof)
      expect(complete).to be(true)
      types = sse_events(chunks.join).map(&:first)
      expect(types.last).to eq("message_delta")
      expect(types).not_to include("message_stop")
    end

    it "closes mid-body after N events with close_after" do
      local_provider.enqueue(text: "one two", close_after: 2)
      raw, ending = raw_exchange(local_provider.port, raw_post("/v1/chat/completions", openai_body))
      _, chunks, complete = dechunk(raw)
      expect(ending).to eq(:eof)
      expect(complete).to be(false)
      expect(sse_events(chunks.join).size).to eq(2)
      expect(local_provider.last_request.outcome).to eq(:closed)
    end

    it "sends a mid-stream error event in each provider's format" do
      local_provider.enqueue(error_event: {after: 2}, times: 3)
      anthropic = sse_events(post(local_provider, "/v1/messages", anthropic_body).body)
      expect(anthropic.size).to eq(3)
      expect(anthropic.last[0]).to eq("error")
      expect(JSON.parse(anthropic.last[1]))
        .to eq("type" => "error", "error" => {"type" => "overloaded_error", "message" => "Overloaded"})

      openai = sse_events(post(local_provider, "/v1/chat/completions", openai_body).body)
      expect(openai.map(&:last)).not_to include("[DONE]")
      expect(JSON.parse(openai.last[1])["error"]).to include("type" => "server_error")

      gemini = sse_events(post(local_provider, gemini_path, gemini_body).body)
      expect(JSON.parse(gemini.last[1])["error"]).to include("code" => 503, "status" => "UNAVAILABLE")
    end

    it "records the client disconnecting mid-stream" do
      local_provider.enqueue(text: "slow " * 50, token_rate: 20)
      socket = TCPSocket.new("127.0.0.1", local_provider.port)
      socket.write(raw_post("/v1/messages", anthropic_body))
      expect(socket.wait_readable(2)).to be_truthy
      socket.readpartial(4096)
      socket.close
      request = local_provider.wait_for_requests(1).first
      expect(request.wait_until_finished(timeout: 1)).to be(true)
      expect(request).to be_disconnected
      expect(request).not_to be_completed
    end
  end

  describe "replay" do
    Dir[File.join(__dir__, "..", "fixtures", "{anthropic,openai,gemini}", "*.sse")].sort.each do |path|
      provider_name = File.basename(File.dirname(path)).to_sym
      name = File.basename(path, ".sse")

      it "replays #{provider_name}/#{name}.sse byte for byte, one byte per write" do
        local_provider.enqueue(replay: name, chunk_size: 1)
        path_for = {anthropic: "/v1/messages", openai: "/v1/chat/completions", gemini: gemini_path}
        raw, = raw_exchange(local_provider.port, raw_post(path_for.fetch(provider_name), {}))
        _, chunks, complete = dechunk(raw)
        expect(complete).to be(true)
        expect(chunks.join).to eq(File.binread(path))
      end
    end

    it "replays without the terminal event when asked" do
      local_provider.enqueue(replay: "text", close_without_terminal: true)
      body = post(local_provider, "/v1/messages", anthropic_body).body
      expect(body).to eq(File.binread(File.join(__dir__, "..", "fixtures", "anthropic", "text.sse"))
        .sub(/event: message_stop\r?\ndata: [^\n]*\r?\n\r?\n\z/, ""))
    end

    it "answers 500 naming the missing file when a replay cannot be found" do
      local_provider.enqueue(replay: "no_such_stream")
      response = post(local_provider, "/v1/messages", anthropic_body)
      expect(response.code).to eq("500")
      expect(JSON.parse(response.body)["error"]["message"]).to include("no_such_stream")
    end
  end

  describe "request recording" do
    it "records method, path, query, headers, parsed body, time and connection" do
      before = Time.now
      post(local_provider, "/v1/messages", anthropic_body, "x-api-key" => "sk-test", "anthropic-version" => "2023-06-01")
      request = local_provider.requests.last
      expect(request.method).to eq("POST")
      expect(request.path).to eq("/v1/messages")
      expect(request.query).to eq({})
      expect(request.header("X-Api-Key")).to eq("sk-test")
      expect(request.headers).to include("anthropic-version" => "2023-06-01")
      expect(request.json).to include("model" => "claude-sonnet-5-5", "stream" => true)
      expect(request.model).to eq("claude-sonnet-5-5")
      expect(request.received_at).to be >= before - 1
      expect(request.connection_id).to be_a(Integer)
      expect(request.status).to eq(200)
      expect(request).to be_completed
      expect(request.inspect).not_to include("sk-test")
    end

    it "keeps a UTF-8 body as UTF-8 text" do
      post(local_provider, "/v1/messages", anthropic_body.merge(messages: [{role: "user", content: "Grüße ✓"}]))
      request = local_provider.last_request
      expect(request.body.encoding).to eq(Encoding::UTF_8)
      expect(request.body).to include("Grüße ✓")
      expect(request.json["messages"][0]["content"]).to eq("Grüße ✓")
    end

    it "records requests from many threads at once" do
      local_provider
      threads = Array.new(8) { Thread.new { post(local_provider, "/v1/messages", anthropic_body) } }
      threads.each { |thread| thread.join(5) }
      expect(local_provider.requests.size).to eq(8)
      expect(local_provider.requests.map(&:id).uniq.size).to eq(8)
    end

    it "keeps only the newest max_requests requests" do
      with_local_provider(max_requests: 2) do |provider|
        3.times { post(provider, "/v1/messages", anthropic_body) }
        expect(provider.requests.map(&:id)).to eq([2, 3])
      end
    end

    it "answers 404 for an unknown path and records it" do
      response = post(local_provider, "/v2/unknown", {})
      expect(response.code).to eq("404")
      expect(local_provider.last_request.provider).to be_nil
    end
  end

  describe "bin/local_provider" do
    it "prints its URL, serves the default script from its options, and exits on SIGTERM" do
      bin = File.expand_path("../../bin/local_provider", __dir__)
      reader, writer = IO.pipe
      pid = Process.spawn(RbConfig.ruby, bin, "--text", "From the shell", "--chunk-size", "3",
        out: writer, err: File::NULL)
      writer.close
      expect(reader.wait_readable(10)).to be_truthy
      url = URI(reader.gets.strip)
      expect(url.host).to eq("127.0.0.1")
      server = Struct.new(:port).new(url.port)
      events = json_events(post(server, "/v1/messages", anthropic_body).body)
      expect(anthropic_text(events)).to eq("From the shell")
      Process.kill("TERM", pid)
      deadline = monotonic + 5
      until (status = Process.wait2(pid, Process::WNOHANG)&.last) || monotonic > deadline
        sleep 0.02
      end
      expect(status&.exitstatus).to eq(0)
    ensure
      reader&.close
      if pid && status.nil?
        Process.kill("KILL", pid)
        Process.wait(pid)
      end
    end
  end

  describe ".spawn" do
    it "runs in a child process, takes scripts over its control endpoints, and stops it" do
      provider = described_class.spawn(text: "from the child")
      expect(provider.url).to match(%r{\Ahttp://127\.0\.0\.1:\d+\z})
      provider.enqueue(text: "queued in the child", model: "claude-sonnet-5-5")
      queued = json_events(post(provider, "/v1/messages", anthropic_body).body)
      default = json_events(post(provider, "/v1/messages", anthropic_body).body)
      expect(anthropic_text(queued)).to eq("queued in the child")
      expect(anthropic_text(default)).to eq("from the child")
      expect(provider.requests.map { |request| request["model"] }).to eq(%w[claude-sonnet-5-5 claude-sonnet-5-5])
      # Two requests, one connection each, plus one per control call (enqueue, requests, stats itself).
      expect(provider.stats).to include("connections_accepted" => 5, "requests" => 2, "pending" => 0)
      pid = provider.pid
      provider.stop
      expect { Process.kill(0, pid) }.to raise_error(Errno::ESRCH)
    ensure
      provider&.stop
    end

    it "stops the child when the parent process goes away without stopping it" do
      reader, writer = IO.pipe
      parent = Process.spawn(RbConfig.ruby, "-I", File.expand_path("../../lib", __dir__), "-rassistant_chat_native",
        "-e", "puts AssistantChatNative::LocalProvider.spawn.pid; $stdout.flush; exit!(0)", out: writer, err: File::NULL)
      writer.close
      Process.wait(parent)
      child = Integer(reader.read)
      deadline = monotonic + 5
      alive = true
      while alive && monotonic < deadline
        alive = begin
          Process.kill(0, child)
        rescue Errno::ESRCH
          false
        end
        sleep 0.02 if alive
      end
      expect(alive).to be(false)
    ensure
      reader&.close
    end
  end
end
