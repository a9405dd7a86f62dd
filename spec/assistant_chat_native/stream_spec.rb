# frozen_string_literal: true

require "spec_helper"

# AssistantChatNative::Stream against LocalProvider (a real HTTP/1.1 server on loopback).
RSpec.describe AssistantChatNative::Stream, if: AssistantChatNative.native? do
  include StreamHelpers

  describe ".new" do
    it "rejects an option it does not know, naming the ones it takes" do
      expect { build_stream(broadcast_every: 1) }
        .to raise_error(ArgumentError, /unknown option.*:broadcast_every.*:broadcast_interval/)
    end

    it "rejects an unknown provider" do
      expect { described_class.new(provider: :cohere, url: "http://127.0.0.1:1/", body: "{}") }
        .to raise_error(AssistantChatNative::ConfigurationError, /anthropic.*openai.*gemini/)
    end

    it "rejects a header value with a line break without echoing the value" do
      expect {
        described_class.new(provider: :openai, url: "http://127.0.0.1:1/", body: "{}",
          headers: {"authorization" => "Bearer #{StreamHelpers::SECRET}\r\nx-injected: 1"})
      }
        .to raise_error(ArgumentError) { |error| expect(error.message).not_to include(StreamHelpers::SECRET) }
    end

    it "never shows its headers or the URL's query in inspect" do
      stream = described_class.new(provider: :gemini,
        url: "http://127.0.0.1:9/v1beta/models/m:streamGenerateContent?alt=sse&key=#{StreamHelpers::SECRET}",
        headers: {"x-goog-api-key" => StreamHelpers::SECRET}, body: "{}")

      expect(stream.inspect).to include("gemini", "127.0.0.1:9/v1beta/models/m:streamGenerateContent")
      expect(stream.inspect).not_to include(StreamHelpers::SECRET)
      expect(stream.instance_variables.map { |name| stream.instance_variable_get(name).to_s }.join)
        .not_to include(StreamHelpers::SECRET)
    end

    it "shows a URL's userinfo and query as a marker in inspect and JSON" do
      require "active_support"
      require "active_support/json"
      stream = described_class.new(provider: :openai,
        url: "http://gateway:#{StreamHelpers::SECRET}@127.0.0.1:9/v1/chat/completions?api-key=#{StreamHelpers::SECRET}",
        headers: {"authorization" => "Bearer #{StreamHelpers::SECRET}"}, body: "{}")

      expect(stream.inspect).to include("url=http://[FILTERED]@127.0.0.1:9/v1/chat/completions?[FILTERED]")
      expect(JSON.parse(stream.to_json)).to eq("provider" => "openai",
        "url" => "http://[FILTERED]@127.0.0.1:9/v1/chat/completions?[FILTERED]")
      expect({stream: stream}.to_json).not_to include(StreamHelpers::SECRET)
    end
  end

  describe "#run" do
    it "returns the reply as a Result with transfer stats" do
      local_provider.enqueue(text: "Hello there, friend.", usage: {input_tokens: 12, output_tokens: 5})
      result = build_stream.run(StreamHelpers::RecordingHandler.new)

      expect(result).to be_a(AssistantChatNative::Result)
      expect(result.failure).to be_nil
      expect(result.text).to eq("Hello there, friend.")
      expect(result.stop_reason).to eq(:end_turn)
      expect(result.usage).to include(input_tokens: 12, output_tokens: 5)
      expect(result.stats.keys).to include(:status, :time_to_first_byte, :time_to_first_token, :duration,
        :bytes, :events, :flushes, :new_connections)
      expect(result.stats[:status]).to eq(200)
      expect(result.stats[:bytes]).to be > 0
      expect(result.stats[:events]).to be > 3
      expect(result.stats[:flushes]).to be >= 1
      expect(result.stats[:time_to_first_byte]).to be <= result.stats[:time_to_first_token]
      expect(result.stats[:time_to_first_token]).to be <= result.stats[:duration]
    end

    it "reports a connection it opened as 1 and one it reused as 0" do
      # Connections are kept per native thread, and Ruby may run a new Thread on a native
      # thread it keeps from an earlier one: a provider on a port of its own is what makes
      # sure no open connection can be reused for the first stream.
      first, second = with_local_provider(log: nil) do |server|
        Array.new(2) do
          server.enqueue(text: "ok")
          build_stream(server: server).run(Object.new)
        end
      end

      expect([first.stats[:new_connections], second.stats[:new_connections]]).to eq([1, 0])
      expect([first.failure, second.failure]).to eq([nil, nil])
    end

    it "sends the body and headers it was given, with identity encoding and an event-stream Accept" do
      local_provider.enqueue(text: "ok")
      build_stream.run(Object.new)
      request = local_provider.requests.last

      expect(request.json).to eq(JSON.parse(request_body(:anthropic)))
      expect(request.headers["x-api-key"]).to eq(StreamHelpers::SECRET)
      expect(request.headers["accept-encoding"]).to eq("identity")
      expect(request.headers["accept"]).to eq("text/event-stream")
      expect(request.headers["content-type"]).to eq("application/json")
    end

    it "flushes the first delta at once and then hands on_text the text so far and the new part" do
      local_provider.enqueue(tokens: %w[Hel lo, \ wor ld!], token_rate: 20)
      handler = StreamHelpers::RecordingHandler.new
      result = build_stream(broadcast_interval: 0.001).run(handler)

      expect(handler.texts.first).to eq(%w[Hel Hel])
      handler.texts.each_cons(2) do |(before, _), (after, delta)|
        expect(after).to eq(before + delta)
      end
      expect(handler.texts.last.first).to eq(result.text)
      expect(result.stats[:flushes]).to eq(handler.texts.size)
    end

    it "throttles flushes to the broadcast interval" do
      local_provider.enqueue(text: "word " * 60, token_rate: 200)
      handler = StreamHelpers::RecordingHandler.new
      result = build_stream(broadcast_interval: 0.1).run(handler)

      expect(result.text).to eq("word " * 60)
      # About 0.3 s of tokens at one flush per 0.1 s, plus the first and the last.
      expect(handler.texts.size).to be_between(2, 8)
    end

    it "calls on_tool_call when a tool call starts, after the text before it" do
      local_provider.enqueue(text: "Let me look.", tool_calls: [{name: "search", arguments: {q: "ruby"}, id: "toolu_1"}])
      events = []
      handler = Class.new do
        define_method(:on_text) { |_all, delta| events << [:text, delta] }
        define_method(:on_tool_call) { |name, id| events << [:tool, name, id] }
      end.new
      result = build_stream.run(handler)

      tool_at = events.index([:tool, "search", "toolu_1"])
      expect(tool_at).not_to be_nil
      expect(events[0...tool_at].map(&:last).join).to eq("Let me look.")
      expect(result.tool_calls.map(&:arguments)).to eq([{"q" => "ruby"}])
      expect(result.stop_reason).to eq(:tool_use)
    end

    it "hands thinking to on_thinking" do
      local_provider.enqueue(thinking: "Let me think.", signature: "sig", text: "Done.")
      handler = StreamHelpers::RecordingHandler.new
      result = build_stream.run(handler)

      expect(handler.thinking.last.first).to eq("Let me think.")
      expect(result.thinking).to eq("Let me think.")
    end

    it "works with a handler that responds to none of the callbacks" do
      local_provider.enqueue(text: "quiet")
      expect(build_stream.run(Object.new).text).to eq("quiet")
    end

    it "calls the handler on the thread that called run" do
      local_provider.enqueue(text: "same thread")
      handler = StreamHelpers::RecordingHandler.new
      build_stream.run(handler)

      expect(handler.threads.uniq).to eq([Thread.current])
    end

    it "reports an HTTP error with the provider's words and never the API key" do
      local_provider.enqueue(status: 401)
      result = build_stream.run(Object.new)

      expect(result.failure.kind).to eq(:authentication)
      expect(result.failure.status).to eq(401)
      expect(result.failure.detail).not_to be_empty
      expect([result.failure.message, result.failure.detail, result.failure.inspect, result.inspect].join)
        .not_to include(StreamHelpers::SECRET)
    end

    it "can be cancelled before it runs" do
      local_provider.enqueue(text: "never")
      stream = build_stream
      stream.cancel
      expect(stream.run(Object.new).failure.kind).to eq(:cancelled)
    end

    it "refuses to run twice at once" do
      local_provider.enqueue(text: "one", token_rate: 50)
      stream = build_stream
      handler = Object.new
      handler.define_singleton_method(:on_text) { |*| stream.run(Object.new) }

      expect { stream.run(handler) }.to raise_error(AssistantChatNative::Error, /already running/)
    end

    it "keeps calling its handler after GC.compact moves objects mid-stream" do
      local_provider.enqueue(tokens: Array.new(6) { |i| "p#{i} " }, token_rate: 40)
      compacted = false
      handler = StreamHelpers::RecordingHandler.new(on_text: lambda do |*|
        unless compacted
          compacted = true
          GC.compact
        end
      end)
      result = build_stream(broadcast_interval: 0).run(handler)

      expect(compacted).to be(true)
      expect(handler.texts.size).to be >= 2
      expect(handler.texts.last.first).to eq(result.text)
      expect(result.text).to eq(Array.new(6) { |i| "p#{i} " }.join)
    end

    it "counts its C buffers in ObjectSpace.memsize_of" do
      require "objspace"
      small = described_class.new(provider: :openai, url: "http://127.0.0.1:1/", body: "{}")
      large = described_class.new(provider: :openai, url: "http://127.0.0.1:1/", body: "x" * 100_000)

      expect(ObjectSpace.memsize_of(large) - ObjectSpace.memsize_of(small)).to be >= 99_000
    end

    it "counts the running transfer in ObjectSpace.memsize_of as of its last call into Ruby" do
      require "objspace"
      local_provider.enqueue(tokens: ["a" * 50_000, "b"], token_rate: 20)
      stream = build_stream(broadcast_interval: 0)
      idle = ObjectSpace.memsize_of(stream)
      during = []
      stream.run(StreamHelpers::RecordingHandler.new(on_text: ->(*) { during << ObjectSpace.memsize_of(stream) }))

      expect(during.last).to be >= idle + 50_000
      expect(ObjectSpace.memsize_of(stream)).to eq(idle)
    end

    it "fails a reply whose event is over max_event_bytes as a malformed stream, naming the budget" do
      local_provider.enqueue(text: "x" * 4096)
      result = build_stream(max_event_bytes: 2048).run(StreamHelpers::RecordingHandler.new)

      expect(result.failure.kind).to eq(:malformed_stream)
      expect(result.failure.detail).to include("event budget of 2048 bytes")
    end
  end

  describe "AssistantChatNative.stream_class" do
    it "is Stream when the extension is loaded" do
      expect(AssistantChatNative.stream_class).to eq(described_class)
    end
  end
end
