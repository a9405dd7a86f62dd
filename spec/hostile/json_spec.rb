# frozen_string_literal: true

require "spec_helper"
require "logger"
require "tmpdir"

# Untrusted JSON from a provider, a gateway or anyone on the wire, and the limits of
# one reply, through the public API (classify, Stream, RubyStream, Turn) against
# LocalProvider on loopback, in a thread with Ruby's default stack as Sidekiq runs a
# job. Each case ends as a classified failure, and the process goes on: a normal
# stream succeeds afterwards.
RSpec.describe "Hostile JSON and the limits of one reply" do
  include StreamHelpers

  # ~80 KB: a comment holding a quote hides 40,000 nested arrays from a reader that
  # only skips strings; a recursive parser overflows the stack on them.
  let(:comment_bomb) { %({"error": /* " */ #{"[" * 40_000}#{"]" * 40_000}}) }
  let(:bomb_start) { %({"error": /* " */ [[[) }

  stream_classes = [
    (AssistantChatNative::Stream if AssistantChatNative.native?),
    AssistantChatNative::RubyStream
  ].compact

  def run_stream(klass, provider: :anthropic)
    HostileInput.in_worker_thread do
      build_stream(klass: klass, provider: provider).run(StreamHelpers::RecordingHandler.new)
    end
  end

  def expect_healthy(klass, provider: :anthropic)
    local_provider.enqueue(text: "Still here.")
    result = run_stream(klass, provider: provider)
    expect([result.failure&.kind, result.text]).to eq([nil, "Still here."])
  end

  # An .sse file LocalProvider replays byte for byte.
  def replay(bytes)
    path = File.join(@dir, "stream_#{@files += 1}.sse")
    File.binwrite(path, bytes)
    path
  end

  around do |example|
    Dir.mktmpdir("hostile_json") do |dir|
      @dir = dir
      @files = 0
      example.run
    end
  end

  def sse(event, payload)
    "event: #{event}\ndata: #{payload.is_a?(String) ? payload : JSON.generate(payload)}\n\n"
  end

  def anthropic_start
    sse("message_start", {type: "message_start", message: {id: "msg_hostile", type: "message", role: "assistant",
                                                           model: "claude-local", content: [], usage: {input_tokens: 3, output_tokens: 1}}})
  end

  def anthropic_text(text)
    sse("content_block_delta", {type: "content_block_delta", index: 0, delta: {type: "text_delta", text: text}})
  end

  # A tool_use block whose arguments arrive as this raw JSON text.
  def anthropic_call(arguments, index: 1, id: "toolu_hostile", name: "get_weather")
    sse("content_block_start", {type: "content_block_start", index: index,
                                content_block: {type: "tool_use", id: id, name: name, input: {}}}) +
      sse("content_block_delta", {type: "content_block_delta", index: index,
                                  delta: {type: "input_json_delta", partial_json: arguments}}) +
      sse("content_block_stop", {type: "content_block_stop", index: index})
  end

  def anthropic_end(stop_reason = "end_turn")
    sse("message_delta", {type: "message_delta", delta: {stop_reason: stop_reason}, usage: {output_tokens: 5}}) +
      sse("message_stop", {type: "message_stop"})
  end

  def nested_arguments(depth)
    %({"city":"Paris","deep":#{"[" * (depth - 1)}#{"]" * (depth - 1)}})
  end

  describe "AssistantChatNative.classify" do
    it "reads a comment hiding 40,000 nested arrays as text, as an HTTP 500 body and mid-stream" do
      skip "the extension is not loaded" unless AssistantChatNative.native?

      failures = HostileInput.in_worker_thread do
        [AssistantChatNative.classify(provider: :anthropic, status: 500, body: comment_bomb),
          AssistantChatNative.classify(provider: :openai, status: 200, body: comment_bomb, mid_stream: true)]
      end

      expect(failures.map(&:kind)).to eq(%i[server_error server_error])
      failures.each { |failure| expect(failure.detail).to start_with(bomb_start) }
    end

    it "agrees with the fallback classifier, which refuses comments and never raises" do
      fallback = AssistantChatNative::RubyStream::FallbackClassifier
      failures = HostileInput.in_worker_thread do
        [fallback.classify(provider: :anthropic, status: 500, body: comment_bomb),
          fallback.classify(provider: :openai, status: 200, body: comment_bomb, mid_stream: true),
          fallback.classify(provider: :gemini, status: 400, body: "[" * 300 + "]" * 300)]
      end

      expect(failures.map(&:kind)).to eq(%i[server_error server_error bad_request])
      failures.first(2).each { |failure| expect(failure.detail).to start_with(bomb_start) }
    end
  end

  stream_classes.each do |klass|
    describe klass.name do
      it "classifies the comment bomb as an HTTP 500 body by its status, and goes on" do
        local_provider.enqueue(status: 500, body: comment_bomb)
        result = run_stream(klass)

        expect(result.failure.kind).to eq(:server_error)
        expect(result.failure.detail).to start_with(bomb_start)
        expect_healthy(klass)
      end

      it "classifies the comment bomb as a mid-stream error event's payload, and goes on" do
        local_provider.enqueue(replay: replay(anthropic_start + anthropic_text("Hi") + sse("error", comment_bomb)))
        result = run_stream(klass)

        expect(result.failure.kind).to eq(:server_error)
        expect(result.failure.detail).to start_with(bomb_start)
        expect_healthy(klass)
      end

      it "takes tool arguments nested 100 deep and fails 300 deep as a malformed stream" do
        local_provider.enqueue(replay: replay(anthropic_start + anthropic_call(nested_arguments(100)) +
                                              anthropic_end("tool_use")))
        expect(run_stream(klass).failure).to be_nil

        local_provider.enqueue(replay: replay(anthropic_start + anthropic_call(nested_arguments(300)) +
                                              anthropic_end("tool_use")))
        failure = run_stream(klass).failure

        expect(failure.kind).to eq(:malformed_stream)
        expect(failure.detail).to include("get_weather", "nest deeper than 100 levels")
        expect_healthy(klass)
      end

      it "fails a multi-megabyte number in tool arguments as a malformed stream" do
        arguments = %({"n": #{"9" * (2 * 1024 * 1024)}})
        local_provider.enqueue(replay: replay(anthropic_start + anthropic_call(arguments) + anthropic_end("tool_use")))
        failure = run_stream(klass).failure

        expect(failure.kind).to eq(:malformed_stream)
        expect(failure.detail).to include("number longer than 100 characters")
        expect_healthy(klass)
      end

      it "fails tool arguments holding a comment as a malformed stream" do
        local_provider.enqueue(replay: replay(anthropic_start + anthropic_call(%({"city": /* " */ "Paris"})) +
                                              anthropic_end("tool_use")))

        expect(run_stream(klass).failure.kind).to eq(:malformed_stream)
      end

      it "fails a reply of 200,000 tool calls on one reused index at the 129th" do
        call = anthropic_call("{}")
        local_provider.enqueue(replay: replay(anthropic_start + call * 200_000 + anthropic_end("tool_use")))
        result = run_stream(klass)

        expect(result.failure.kind).to eq(:malformed_stream)
        expect(result.failure.detail).to eq("the reply holds more than 128 tool calls")
        expect_healthy(klass)
      end

      it "removes NUL bytes from reply and thinking text" do
        thinking = sse("content_block_delta", {type: "content_block_delta", index: 0,
                                               delta: {type: "thinking_delta", thinking: "pon\u0000der"}})
        stop = sse("content_block_stop", {type: "content_block_stop", index: 0})
        text = sse("content_block_delta", {type: "content_block_delta", index: 1,
                                           delta: {type: "text_delta", text: "a\u0000b\u0000"}})
        local_provider.enqueue(replay: replay(anthropic_start + thinking + stop + text + anthropic_end))
        result = run_stream(klass)

        expect([result.failure, result.text, result.thinking]).to eq([nil, "ab", "ponder"])
      end

      it "saturates Gemini's token sum and refuses negative counts" do
        huge = 2**63 - 1
        chunk = {candidates: [{content: {parts: [{text: "Hi"}], role: "model"}, finishReason: "STOP", index: 0}],
                 usageMetadata: {promptTokenCount: -5, candidatesTokenCount: huge, thoughtsTokenCount: huge},
                 modelVersion: "gemini-local", responseId: "r1"}
        local_provider.enqueue(replay: replay("data: #{JSON.generate(chunk)}\r\n\r\n"))
        result = run_stream(klass, provider: :gemini)

        expect(result.failure).to be_nil
        expect(result.usage).to include(input_tokens: 0, output_tokens: huge)
      end
    end
  end

  describe AssistantChatNative::Turn do
    let(:config) do
      AssistantChatNative::Configuration.new.tap do |config|
        config.retry_base_delay = 0.01
        config.retry_max_delay = 0.02
        config.stall_timeout = 2
        config.logger = Logger.new(nil)
        config.models.register("claude-hostile", provider: :anthropic, model_id: "claude-local", tier: :high,
          base_url: local_provider.base_url_for(:anthropic), api_key: "test-key")
      end
    end
    let(:weather) do
      AssistantChatNative::Tool.new(name: "get_weather", description: "Weather",
        input_schema: {type: "object", properties: {city: {type: "string"}}}) { |_arguments| "sunny" }
    end

    def run_turn
      HostileInput.in_worker_thread do
        AssistantChatNative::Turn.new(model: "claude-hostile", messages: [{role: "user", content: "Weather?"}],
          tools: [weather], config: config).run
      end
    end

    it "ends tool arguments nested 300 deep as a failed outcome, never JSON::NestingError" do
      local_provider.default = {replay: replay(anthropic_start + anthropic_call(nested_arguments(300)) +
                                               anthropic_end("tool_use"))}
      outcome = run_turn

      expect(outcome.status).to eq(:failed)
      expect(outcome.failure.kind).to eq(:malformed_stream)
      expect(outcome.failure.detail).to include("nest deeper than 100 levels")
    end

    it "ends 200 tool calls in one reply as a failed outcome" do
      calls = 200.times.map { |i| anthropic_call(%({"city":"c#{i}"}), index: i + 1, id: "toolu_#{i}") }.join
      local_provider.default = {replay: replay(anthropic_start + calls + anthropic_end("tool_use"))}
      outcome = run_turn

      expect([outcome.status, outcome.failure.kind]).to eq([:failed, :malformed_stream])
      expect(outcome.failure.detail).to eq("the reply holds more than 128 tool calls")
    end

    # Whatever stream class the host configures, Turn reads the tool calls it returns
    # without letting a JSON error out.
    it "fails a round whose stream class hands back arguments JSON cannot hold, or too many calls" do
      deep = {}
      300.times { deep = {"d" => deep} }
      results = [
        [AssistantChatNative::ToolCall.new(id: "t1", name: "get_weather", arguments: deep)],
        129.times.map { |i| AssistantChatNative::ToolCall.new(id: "t#{i}", name: "get_weather", arguments: {}) }
      ]
      outcomes = results.map do |tool_calls|
        stream_class = Class.new do
          define_method(:initialize) { |**_options| }
          define_method(:run) { |_handler| AssistantChatNative::Result.new(tool_calls: tool_calls, stop_reason: :tool_use) }
          define_method(:cancel) {}
        end
        config.stream_class = stream_class
        run_turn
      end

      expect(outcomes.map { |outcome| [outcome.status, outcome.failure.kind] })
        .to eq([[:failed, :malformed_stream], [:failed, :malformed_stream]])
      # A malformed stream is retried (the attempts are noted), too many calls is not.
      expect(outcomes[0].failure.detail).to start_with("the arguments of tool call get_weather (t1) nest deeper than 100 levels")
      expect(outcomes[1].failure.detail).to eq("the reply holds more than 128 tool calls")
    end
  end
end
