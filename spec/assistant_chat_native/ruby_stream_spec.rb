# frozen_string_literal: true

require "spec_helper"
require "socket"
require "tmpdir"

# RubyStream against LocalProvider: a real HTTP/1.1 server on loopback.
RSpec.describe AssistantChatNative::RubyStream do
  let(:secret) { "sk-ant-api03-secret-value-never-shown" }

  def body_for(provider)
    case provider
    when :anthropic then JSON.generate(model: "claude-sonnet-5-5", max_tokens: 256, stream: true,
      messages: [{role: "user", content: "Hi"}])
    when :openai then JSON.generate(model: "gpt-4o", stream: true, stream_options: {include_usage: true},
      messages: [{role: "user", content: "Hi"}])
    when :gemini then JSON.generate(contents: [{role: "user", parts: [{text: "Hi"}]}])
    end
  end

  def stream(provider = :anthropic, server: local_provider, **options)
    described_class.new(provider: provider, url: server.endpoint_for(provider, model: "gemini-3.8-flash"),
      headers: {"x-api-key" => secret, "anthropic-version" => "2023-06-01"}, body: body_for(provider), **options)
  end

  def monotonic
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  def wait_until(timeout: 1)
    deadline = monotonic + timeout
    sleep 0.01 until yield || monotonic > deadline
    yield
  end

  def reader_threads
    Thread.list.select { |thread| thread.name == "assistant_chat_native-ruby-stream" && thread.alive? }
  end

  after do
    expect(wait_until { reader_threads.empty? }).to be(true), "a reading thread outlived its stream"
  end

  describe "replaying every recorded provider stream" do
    {"whole" => :whole, "in network-sized writes" => 1400, "one byte per write" => 1}.each do |label, chunk_size|
      FixtureStreams.all.each do |provider, name, sse, expected_path|
        it "gives #{provider}/#{name}'s expected Result when sent #{label}" do
          local_provider.enqueue(replay: sse, chunk_size: chunk_size)
          expected = FixtureStreams.expected(expected_path)

          result = stream(provider).run(StreamHandlers::Recording.new)

          expect(FixtureStreams.as_expected(result, expected)).to eq(expected)
          expect(result.stats[:status]).to eq(200)
          # An error event ends the read; otherwise every byte was read.
          expect(result.stats[:bytes]).to eq(File.size(sse)) unless expected["failure"]
        end
      end
    end
  end

  describe "the request" do
    it "posts the body with the caller's headers, asks for SSE and for no compression" do
      local_provider.enqueue(text: "Hello")
      stream.run(StreamHandlers::Recording.new)

      request = local_provider.last_request
      expect(request.method).to eq("POST")
      expect(request.path).to eq("/v1/messages")
      expect(request.header("x-api-key")).to eq(secret)
      expect(request.header("anthropic-version")).to eq("2023-06-01")
      expect(request.header("accept-encoding")).to eq("identity")
      expect(request.header("content-type")).to eq("application/json")
      expect(request.json["model"]).to eq("claude-sonnet-5-5")
    end

    it "keeps the query string (Gemini's alt=sse) on the URL" do
      local_provider.enqueue(text: "Hello")
      result = stream(:gemini).run(StreamHandlers::Recording.new)

      expect(result.text).to eq("Hello")
      expect(local_provider.last_request.query).to include("alt" => "sse")
    end
  end

  describe "streaming a scripted reply" do
    it "hands every text delta to on_text, in order, with the text so far" do
      tokens = %w[The quick brown fox jumps over the lazy dog.].map { |word| "#{word} " }
      local_provider.enqueue(tokens: tokens, usage: {input_tokens: 12, output_tokens: 9})
      handler = StreamHandlers::Recording.new

      result = stream(broadcast_interval: 0).run(handler)

      expect(result.text).to eq(tokens.join)
      expect(result.stop_reason).to eq(:end_turn)
      expect(result.usage).to include(input_tokens: 12, output_tokens: 9)
      expect(handler.texts.map { |flush| flush[:delta] }.join).to eq(tokens.join)
      handler.texts.each { |flush| expect(tokens.join).to start_with(flush[:accumulated]) }
      expect(handler.texts.last[:accumulated]).to eq(tokens.join)
    end

    it "announces each tool call, after flushing the text before it" do
      local_provider.enqueue(text: "Let me look.", tool_calls: [{name: "search", arguments: {q: "ruby"}, id: "toolu_1"},
        {name: "fetch", arguments: {}, id: "toolu_2"}])
      events = []
      handler = StreamHandlers::Recording.new { |accumulated, _| events << [:text, accumulated] }
      handler.define_singleton_method(:on_tool_call) { |name, id| events << [:tool, name, id] }

      result = stream.run(handler)

      first_tool = events.index { |event| event[0] == :tool }
      expect(events[first_tool - 1]).to eq([:text, "Let me look."])
      expect(events[first_tool..]).to eq([[:tool, "search", "toolu_1"], [:tool, "fetch", "toolu_2"]])
      expect(result.stop_reason).to eq(:tool_use)
      expect(result.tool_calls.map(&:to_h)).to eq([
        {id: "toolu_1", name: "search", arguments: {"q" => "ruby"}, server: false, signature: nil},
        {id: "toolu_2", name: "fetch", arguments: {}, server: false, signature: nil}
      ])
    end

    it "hands thinking to on_thinking and keeps it apart from the text" do
      local_provider.enqueue(thinking: "Two and two.", signature: "sig-1", text: "Four.")
      handler = StreamHandlers::Recording.new

      result = stream(broadcast_interval: 0).run(handler)

      expect(result.thinking).to eq("Two and two.")
      expect(result.text).to eq("Four.")
      expect(result.thinking_blocks).to eq([{type: "thinking", thinking: "Two and two.", signature: "sig-1"}])
      expect(handler.thinking.last[:accumulated]).to eq("Two and two.")
      expect(handler.texts.last[:accumulated]).to eq("Four.")
    end

    it "reports the transfer in stats" do
      local_provider.enqueue(tokens: %w[a b c])
      result = stream.run(StreamHandlers::Recording.new)

      expect(result.stats.keys).to contain_exactly(:status, :time_to_first_byte, :time_to_first_token, :duration,
        :bytes, :events, :flushes, :new_connections)
      expect(result.stats).to include(status: 200, new_connections: 1)
      expect(result.stats[:bytes]).to eq(local_provider.last_request.bytes_sent)
      expect(result.stats[:events]).to be >= 5
      expect(result.stats[:flushes]).to be_between(1, 3)
      expect(result.stats[:time_to_first_byte]).to be <= result.stats[:time_to_first_token]
      expect(result.stats[:time_to_first_token]).to be <= result.stats[:duration]
    end
  end

  describe "throttling" do
    let(:tokens) { Array.new(30) { |i| "t#{i} " } }

    it "flushes the first delta at once, then at most once per broadcast interval, and at the end" do
      local_provider.enqueue(tokens: tokens, token_rate: 100) # about 0.3 s of tokens
      handler = StreamHandlers::Recording.new

      result = stream(broadcast_interval: 0.1).run(handler)

      expect(handler.texts.first[:delta]).to eq("t0 ")
      expect(handler.texts.map { |flush| flush[:delta] }.join).to eq(tokens.join)
      expect(handler.texts.size).to be_between(2, 1 + (result.stats[:duration] / 0.1).ceil + 1)
      expect(handler.texts.size).to be < tokens.size
      expect(result.stats[:flushes]).to eq(handler.texts.size)
      gaps = handler.texts.each_cons(2).map { |a, b| b[:at] - a[:at] }
      expect(gaps[0...-1]).to all(be >= 0.08) # the last flush is the stream's end
    end

    it "flushes every delta when the broadcast interval is zero" do
      local_provider.enqueue(tokens: tokens.first(10), token_rate: 200)
      handler = StreamHandlers::Recording.new

      stream(broadcast_interval: 0).run(handler)

      expect(handler.texts.map { |flush| flush[:delta] }).to eq(tokens.first(10))
    end

    it "flushes pending text when the interval passes even though no byte arrives" do
      # Quick tokens, then the server goes quiet until the stall timeout.
      local_provider.enqueue(tokens: %w[a b c d e f g h], token_rate: 1000, stall_after: 7, stall_for: 5)
      handler = StreamHandlers::Recording.new

      result = stream(broadcast_interval: 0.2, stall_timeout: 1.5).run(handler)

      expect(result.failure.kind).to eq(:stalled)
      expect(result.text.size).to be >= 2
      expect(handler.texts.first[:accumulated]).to eq("a")
      expect(handler.texts.last[:accumulated]).to eq(result.text)
      expect(handler.texts.last[:at]).to be < 1.0 # the timer's flush, long before the stall ends the stream
    end
  end

  describe "the end of the response" do
    let(:fixture) { File.join(FixtureStreams::ROOT, "anthropic", "text.sse") }
    let(:event_count) { AssistantChatNative::LocalProvider::Replay.events(fixture, provider: :anthropic, fixtures_dir: nil).size }

    it "takes the reply as whole when the server holds the body open after the terminal event" do
      local_provider.enqueue(replay: fixture, stall_after: event_count, stall_for: 10)
      started = monotonic

      result = stream(stall_timeout: 5).run(StreamHandlers::Recording.new)

      expect(result.failure).to be_nil
      expect(result.stop_reason).to eq(:end_turn)
      expect(monotonic - started).to be < 3
    end

    it "takes the reply as whole when the connection is reset after the terminal event" do
      local_provider.enqueue(replay: fixture, reset_after: File.size(fixture))

      result = stream.run(StreamHandlers::Recording.new)

      expect(result.failure).to be_nil
      expect(result.stop_reason).to eq(:end_turn)
    end
  end

  describe "timers while no byte arrives" do
    it "sends heartbeats while the provider is silent" do
      local_provider.enqueue(text: "Late.", delay: 0.8)
      handler = StreamHandlers::Recording.new

      result = stream(heartbeat_interval: 0.1).run(handler)

      expect(result.text).to eq("Late.")
      silent = handler.heartbeats.select { |beat| beat[:texts].zero? }
      expect(silent.size).to be >= 4
      expect(silent.map { |beat| beat[:elapsed] }).to eq(silent.map { |beat| beat[:elapsed] }.sort)
    end

    it "polls cancelled? while the provider is silent and stops when it answers true" do
      local_provider.enqueue(text: "Never.", delay: 5)
      handler = StreamHandlers::Cancelling.new(after: 0)
      started = monotonic

      result = stream(cancel_poll_interval: 0.05).run(handler)

      expect(result.failure.kind).to eq(:cancelled)
      expect(monotonic - started).to be < 1
      expect(local_provider.last_request.wait_until_finished(timeout: 1)).to be_truthy
    end
  end

  describe "cancellation" do
    it "stops on #cancel from another thread, keeping the text so far" do
      local_provider.enqueue(tokens: Array.new(200) { "x" }, token_rate: 50)
      s = stream
      handler = StreamHandlers::Recording.new { Thread.new { s.cancel } }
      started = monotonic

      result = s.run(handler)

      expect(result.failure.kind).to eq(:cancelled)
      expect(result.stop_reason).to be_nil
      expect(result.text).to start_with("x")
      expect(result.text.size).to be < 200
      expect(monotonic - started).to be < 2
      expect(local_provider.last_request.wait_until_finished(timeout: 1)).to be_truthy
      expect(local_provider.last_request).to be_disconnected
    end

    it "stops when the handler's cancelled? turns true" do
      local_provider.enqueue(tokens: Array.new(200) { "y" }, token_rate: 50)
      handler = StreamHandlers::Cancelling.new(after: 2)

      result = stream(cancel_poll_interval: 0.05, broadcast_interval: 0).run(handler)

      expect(result.failure.kind).to eq(:cancelled)
      expect(handler.polls).to be >= 1
      expect(result.text.size).to be_between(2, 199)
    end
  end

  describe "failures" do
    it "classifies a stall: no byte for stall_timeout" do
      local_provider.enqueue(tokens: %w[a b c d], stall_after: 3, stall_for: 10)
      started = monotonic

      result = stream(stall_timeout: 0.5).run(StreamHandlers::Recording.new)

      expect(result.failure.kind).to eq(:stalled)
      expect(monotonic - started).to be_between(0.5, 2)
      expect(local_provider.last_request.wait_until_finished(timeout: 1)).to be_truthy
    end

    it "classifies the overall timeout" do
      local_provider.enqueue(tokens: Array.new(100) { "z" }, token_rate: 20)

      result = stream(timeout: 0.5).run(StreamHandlers::Recording.new)

      expect(result.failure.kind).to eq(:timeout)
      expect(result.stop_reason).to be_nil
    end

    it "classifies a refused connection" do
      port = TCPServer.open("127.0.0.1", 0) { |server| server.addr[1] }
      s = described_class.new(provider: :anthropic, url: "http://127.0.0.1:#{port}/v1/messages", body: "{}")

      result = s.run(StreamHandlers::Recording.new)

      expect(result.failure.kind).to eq(:connection_failed)
      expect(result.stats[:status]).to be_nil
      expect(result.stats[:new_connections]).to be_nil
    end

    it "gives up connecting after connect_timeout" do
      # A listener whose accept backlog is full: the kernel leaves further connects hanging.
      server = TCPServer.new("127.0.0.1", 0)
      server.listen(0)
      port = server.addr[1]
      fillers = Array.new(4) do
        Socket.new(:INET, :STREAM).tap do |socket|
          socket.connect_nonblock(Socket.sockaddr_in(port, "127.0.0.1"), exception: false)
        end
      end
      sleep 0.1
      s = described_class.new(provider: :anthropic, url: "http://127.0.0.1:#{port}/v1/messages", body: "{}",
        connect_timeout: 0.3)
      started = monotonic

      result = s.run(StreamHandlers::Recording.new)

      expect(result.failure.kind).to eq(:timeout)
      expect(monotonic - started).to be_between(0.3, 2)
    ensure
      fillers&.each(&:close)
      server&.close
    end

    it "reads a non-2xx response's body and classifies it with the provider's words" do
      body = JSON.generate(type: "error", error: {type: "rate_limit_error",
                                                  message: "Number of request tokens has exceeded your per-minute rate limit"})
      local_provider.enqueue(status: 429, headers: {"retry-after" => "7"}, body: body)

      result = stream.run(StreamHandlers::Recording.new)

      expect(result.failure.kind).to eq(:rate_limited)
      expect(result.failure.retry_after).to eq(7)
      expect(result.failure.detail).to include("per-minute rate limit")
      expect(result.failure.status).to eq(429)
      expect(result.stats[:status]).to eq(429)
    end

    it "classifies an error body that is not JSON, keeping what it says" do
      local_provider.enqueue(status: 502, body: "upstream connect error")

      result = stream.run(StreamHandlers::Recording.new)

      expect(result.failure.kind).to eq(:server_error)
      expect(result.failure.detail).to include("upstream connect error")
    end

    it "reads no more of an error body than max_error_body" do
      message = "x" * 50_000
      local_provider.enqueue(status: 400, body: JSON.generate(error: {message: message}))

      result = stream(max_error_body: 1000).run(StreamHandlers::Recording.new)

      expect(result.failure.kind).to eq(:bad_request)
      expect(result.failure.detail.bytesize).to be <= 2048
    end

    it "classifies an error event that comes after HTTP 200, keeping the text before it" do
      local_provider.enqueue(tokens: %w[Half way], error_event: {after: 4})

      result = stream.run(StreamHandlers::Recording.new)

      expect(result.failure.kind).to eq(:overloaded)
      expect(result.stop_reason).to be_nil
      expect(result.text).not_to be_empty
    end

    it "fails as connection lost when the server closes before the terminal event" do
      local_provider.enqueue(tokens: %w[a b c], close_without_terminal: true)

      result = stream.run(StreamHandlers::Recording.new)

      expect(result.text).to eq("abc")
      expect(result.failure.kind).to eq(:connection_lost)
      expect(result.stop_reason).to be_nil
    end

    it "fails as connection lost when the server closes mid-body" do
      local_provider.enqueue(tokens: %w[a b c d e], close_after: 3)

      result = stream.run(StreamHandlers::Recording.new)

      expect(result.failure.kind).to eq(:connection_lost)
    end

    it "fails as connection lost when the connection is reset" do
      local_provider.enqueue(tokens: %w[a b c d e], reset_after: 300)

      result = stream.run(StreamHandlers::Recording.new)

      expect(result.failure.kind).to eq(:connection_lost)
    end

    it "fails as a malformed stream on data that is not the provider's JSON" do
      Dir.mktmpdir do |dir|
        path = File.join(dir, "bad.sse")
        File.write(path, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\"}}\n\n" \
          "event: content_block_delta\ndata: {not json\n\n")
        local_provider.enqueue(replay: path)

        result = stream.run(StreamHandlers::Recording.new)

        expect(result.failure.kind).to eq(:malformed_stream)
      end
    end

    it "fails, with bounded memory, on an event over max_event_bytes" do
      local_provider.enqueue(tokens: ["a" * 20_000])

      result = stream(max_event_bytes: 4096).run(StreamHandlers::Recording.new)

      expect(result.failure.kind).to eq(:malformed_stream)
      expect(result.text).to eq("")
    end

    it "fails once the reply is over max_reply_bytes" do
      local_provider.enqueue(tokens: Array.new(20) { "b" * 100 })

      result = stream(max_reply_bytes: 1000).run(StreamHandlers::Recording.new)

      expect(result.failure.kind).to eq(:malformed_stream)
      expect(result.text.bytesize).to be <= 1000
    end
  end

  describe "exceptions and interrupts" do
    it "re-raises what the handler raises, after closing the connection" do
      local_provider.enqueue(tokens: Array.new(100) { "x" }, token_rate: 50)
      handler = StreamHandlers::Recording.new { raise ArgumentError, "handler broke" }

      expect { stream.run(handler) }.to raise_error(ArgumentError, "handler broke")
      expect(reader_threads).to be_empty
      expect(local_provider.last_request.wait_until_finished(timeout: 1)).to be_truthy
      expect(local_provider.last_request).to be_disconnected
    end

    it "closes the connection when its thread is interrupted by Thread#raise" do
      local_provider.enqueue(tokens: Array.new(100) { "x" }, token_rate: 20)
      started = Queue.new
      runner = Thread.new do
        stream.run(StreamHandlers::Recording.new { started << true })
      rescue Interrupt => e
        e
      end
      started.pop
      runner.raise(Interrupt, "stop now")

      expect(runner.join(1)&.value).to be_a(Interrupt)
      expect(local_provider.last_request.wait_until_finished(timeout: 1)).to be_truthy
      expect(local_provider.last_request).to be_disconnected
    end

    it "closes the connection when its thread is killed" do
      local_provider.enqueue(tokens: Array.new(100) { "x" }, token_rate: 20)
      started = Queue.new
      runner = Thread.new { stream.run(StreamHandlers::Recording.new { started << true }) }
      started.pop
      runner.kill

      expect(runner.join(1)).not_to be_nil
      expect(local_provider.last_request.wait_until_finished(timeout: 1)).to be_truthy
      expect(local_provider.last_request).to be_disconnected
    end
  end

  describe "secrets" do
    it "never shows the request headers, body or URL query in inspect" do
      s = described_class.new(provider: :gemini, url: "http://127.0.0.1:1/v1beta/models/m:streamGenerateContent?key=#{secret}",
        headers: {"x-goog-api-key" => secret}, body: JSON.generate(secret: secret))

      expect(s.inspect).not_to include(secret)
      expect(s.to_s).not_to include(secret)
    end

    it "shows its URL without userinfo or query, and serializes no header, with ActiveSupport loaded" do
      require "active_support"
      require "active_support/json"
      s = described_class.new(provider: :gemini, url: "http://user:#{secret}@127.0.0.1:1/v1beta/m?key=#{secret}",
        headers: {"x-goog-api-key" => secret}, body: "{}")

      expect(s.inspect).to include("url=http://[FILTERED]@127.0.0.1:1/v1beta/m?[FILTERED]")
      expect(s.as_json).to eq("provider" => "gemini", "url" => "http://[FILTERED]@127.0.0.1:1/v1beta/m?[FILTERED]")
      [s.to_json, JSON.generate(s), {stream: s}.to_json].each { |json| expect(json).not_to include(secret) }
    end

    it "never shows the headers of a run or a transfer in inspect or JSON" do
      require "active_support"
      require "active_support/json"
      url = "http://127.0.0.1:1/v1/messages?key=#{secret}"
      inbox = AssistantChatNative::RubyStream::Inbox.new(max_bytes: 1024)
      transfer = AssistantChatNative::RubyStream::Transfer.new(url: url, headers: {"x-api-key" => secret}, body: secret,
        connect_timeout: 1, read_timeout: 1, inbox: inbox)
      options = {provider: :anthropic, url: url, headers: {"x-api-key" => secret}, body: secret,
                 max_event_bytes: 1024, max_reply_bytes: 1024, broadcast_interval: 0.1}
      run = AssistantChatNative::RubyStream::Run.new(stream: stream, options: options,
        handler: StreamHandlers::Recording.new, inbox: inbox)

      expect(transfer.inspect).to eq(%(#<AssistantChatNative::RubyStream::Transfer url=http://127.0.0.1:1/v1/messages?[FILTERED] headers=["x-api-key"]>))
      expect(transfer.as_json).to eq("url" => "http://127.0.0.1:1/v1/messages?[FILTERED]", "headers" => {"x-api-key" => "[FILTERED]"})
      expect(run.inspect).to include("provider=anthropic", "status=0")
      [transfer, run].each do |object|
        [object.inspect, object.to_s, object.to_json, JSON.generate(object)].each { |text| expect(text).not_to include(secret) }
      end
    end

    it "keeps the API key out of a failure" do
      local_provider.enqueue(status: 401)

      result = stream.run(StreamHandlers::Recording.new)

      expect(result.failure.kind).to eq(:authentication)
      expect(result.failure.to_h.values.join(" ")).not_to include(secret)
      expect(result.inspect).not_to include(secret)
    end
  end

  describe "options" do
    it "refuses an unknown provider" do
      expect { described_class.new(provider: :cohere, url: "http://127.0.0.1:1/", body: "{}") }
        .to raise_error(AssistantChatNative::ConfigurationError, /unknown provider/)
    end

    it "refuses a URL that is not http(s), without repeating its query" do
      expect { described_class.new(provider: :gemini, url: "ftp://host/x?key=#{secret}", body: "{}") }
        .to raise_error(AssistantChatNative::ConfigurationError) { |error| expect(error.message).not_to include(secret) }
      expect { described_class.new(provider: :gemini, url: "not a url #{secret}", body: "{}") }
        .to raise_error(AssistantChatNative::ConfigurationError) { |error| expect(error.message).not_to include(secret) }
    end

    it "refuses a header with a line break, naming the header but not its value" do
      expect {
        described_class.new(provider: :anthropic, url: "http://127.0.0.1:1/v1/messages", body: "{}",
          headers: {"x-api-key" => "#{secret}\r\nx-evil: 1"})
      }.to raise_error(AssistantChatNative::ConfigurationError, /x-api-key/) { |error| expect(error.message).not_to include(secret) }
    end

    it "refuses a non-positive interval" do
      expect { described_class.new(provider: :openai, url: "http://127.0.0.1:1/", body: "{}", stall_timeout: 0) }
        .to raise_error(AssistantChatNative::ConfigurationError, /stall_timeout/)
    end
  end

  describe "AssistantChatNative.stream_class" do
    it "is RubyStream when the extension is not loaded" do
      script = 'require "assistant_chat_native"; print AssistantChatNative.stream_class.name'
      output = IO.popen({"ASSISTANT_CHAT_NATIVE_PURE" => "1"}, [RbConfig.ruby, "-Ilib", "-e", script], err: File::NULL, &:read)

      expect(output).to eq("AssistantChatNative::RubyStream")
    end

    it "is Stream exactly when the extension is loaded" do
      expected = AssistantChatNative.native? ? "AssistantChatNative::Stream" : "AssistantChatNative::RubyStream"
      expect(AssistantChatNative.stream_class.name).to eq(expected)
    end
  end
end
