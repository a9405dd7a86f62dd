# frozen_string_literal: true

require "spec_helper"
require "assistant_chat_native/ruby_stream"

# Each provider's recorded streams, read by the event_stream_parser gem and turned
# into normalized events and a Result by RubyStream's normalizers and accumulator,
# give exactly the Result the fixture expects, however the bytes are split.
RSpec.describe "RubyStream normalizers on the recorded provider streams" do
  def decode(provider, chunks)
    RubyStreamReading.decode(provider, chunks)
  end

  FixtureStreams.all.each do |provider, name, sse, expected_path|
    describe "#{provider}/#{name}" do
      FixtureStreams.chunkings(File.binread(sse)).each do |label, chunks|
        it "gives the expected Result when read #{label}" do
          expected = FixtureStreams.expected(expected_path)
          result = decode(provider, chunks)
          expect(FixtureStreams.as_expected(result, expected)).to eq(expected)
        end
      end
    end
  end
  # Streams the fixtures do not hold, each read as the provider documents it. With
  # the extension loaded the C Decoder, an independent reading, must give the same
  # Result.
  describe "streams the fixtures do not hold" do
    def data(payload)
      "data: #{payload.is_a?(String) ? payload : JSON.generate(payload)}\n\n"
    end

    def event(name, payload)
      "event: #{name}\n#{data(payload)}"
    end

    def chunk(delta, finish: nil, index: 0)
      {id: "chatcmpl-CJb2Rn8Sa4Yl0Uc6Xo3Mq9We5It7K", object: "chat.completion.chunk", created: 1764340100,
       model: "gpt-4.1-2025-04-14", choices: [{index: index, delta: delta, logprobs: nil, finish_reason: finish}]}
    end

    def anthropic_start
      message = {id: "msg_01Tq7Wc3Ne9Rb5Yx2Zk8Lm4P", type: "message", role: "assistant",
                 model: "claude-sonnet-5-5-20250929", content: [], usage: {input_tokens: 12, output_tokens: 1}}
      event("message_start", {type: "message_start", message: message})
    end

    def anthropic_end(stop_reason = "end_turn")
      event("message_delta", {type: "message_delta", delta: {stop_reason: stop_reason}, usage: {output_tokens: 7}}) +
        event("message_stop", {type: "message_stop"})
    end

    def gemini_chunk(parts, finish: nil, extra: {})
      candidate = {content: {parts: parts, role: "model"}, index: 0}
      candidate[:finishReason] = finish if finish
      {candidates: [candidate], modelVersion: "gemini-3.8-flash", responseId: "h7KdaQx3Mv8PnvgPr2sBwQe"}.merge(extra)
    end

    def results(provider, bytes)
      ruby = decode(provider, [bytes])
      c = AssistantChatNative.native? ? AssistantChatNative::Decoder.new(provider).tap { |d| d.feed(bytes) }.finish : nil
      [ruby, c]
    end

    def expect_both(provider, bytes, **fields)
      results(provider, bytes).compact.each do |result|
        fields.each { |field, value| expect([field, result.public_send(field)]).to eq([field, value]) }
      end
    end

    it "ends OpenAI tool calls at [DONE] when no finish_reason came" do
      call = {index: 0, id: "call_Zr4Lk9", type: "function",
              function: {name: "lookup_order", arguments: "{\"order_id\":\"A-7\"}"}}
      bytes = data(chunk({role: "assistant", tool_calls: [call]})) + data("[DONE]")
      expect_both(:openai, bytes, stop_reason: nil, failure: nil,
        tool_calls: [AssistantChatNative::ToolCall.new(id: "call_Zr4Lk9", name: "lookup_order", arguments: {"order_id" => "A-7"})])
    end

    it "ignores an OpenAI event with empty data" do
      bytes = data(chunk({role: "assistant", content: "Hi"})) + "data:\n\n" + data(chunk({}, finish: "stop")) + data("[DONE]")
      expect_both(:openai, bytes, text: "Hi", stop_reason: :end_turn, failure: nil)
    end

    it "reads only the OpenAI choice with index 0" do
      bytes = data(chunk({content: "one"})) + data(chunk({content: "two"}, index: 1)) +
        data(chunk({}, finish: "stop")) + data(chunk({}, finish: "length", index: 1)) + data("[DONE]")
      expect_both(:openai, bytes, text: "one", stop_reason: :end_turn, provider_stop_reason: "stop")
    end

    it "keeps an OpenAI length finish after refusal text as max_tokens" do
      bytes = data(chunk({refusal: "I can't help with that"})) + data(chunk({}, finish: "length")) + data("[DONE]")
      expect_both(:openai, bytes, text: "I can't help with that", stop_reason: :max_tokens, failure: nil)
    end

    it "takes an OpenAI tool call's index from its position when the index is missing" do
      bytes = data(chunk({tool_calls: [{id: "call_Aa1", function: {name: "a", arguments: "{}"}},
        {id: "call_Bb2", function: {name: "b", arguments: "{\"x\":1}"}}]})) +
        data(chunk({}, finish: "tool_calls")) + data("[DONE]")
      expect_both(:openai, bytes, stop_reason: :tool_use,
        tool_calls: [AssistantChatNative::ToolCall.new(id: "call_Aa1", name: "a", arguments: {}),
          AssistantChatNative::ToolCall.new(id: "call_Bb2", name: "b", arguments: {"x" => 1})])
    end

    it "does not read an OpenAI chunk's \"error\": null as an error" do
      bytes = data(chunk({content: "fine"}).merge(error: nil)) + data(chunk({}, finish: "stop")) + data("[DONE]")
      expect_both(:openai, bytes, text: "fine", failure: nil, stop_reason: :end_turn)
    end

    it "ignores Anthropic events of unknown names without parsing their data" do
      bytes = anthropic_start + event("keepalive", "not json at all") + anthropic_end
      expect_both(:anthropic, bytes, failure: nil, stop_reason: :end_turn, message_id: "msg_01Tq7Wc3Ne9Rb5Yx2Zk8Lm4P")
    end

    it "reads an Anthropic payload without a type by its SSE event name" do
      bytes = anthropic_start +
        event("content_block_start", {index: 0, content_block: {type: "text", text: ""}}) +
        event("content_block_delta", {index: 0, delta: {type: "text_delta", text: "named by the event"}}) +
        event("content_block_stop", {index: 0}) + anthropic_end
      expect_both(:anthropic, bytes, text: "named by the event", failure: nil)
    end

    it "keeps a signature that comes with an Anthropic thinking block's start" do
      bytes = anthropic_start +
        event("content_block_start", {type: "content_block_start", index: 0,
          content_block: {type: "thinking", thinking: "Short.", signature: "EqQBCkYIBRgCKkCz"}}) +
        event("content_block_stop", {type: "content_block_stop", index: 0}) + anthropic_end
      expect_both(:anthropic, bytes, thinking: "Short.",
        thinking_blocks: [{type: "thinking", thinking: "Short.", signature: "EqQBCkYIBRgCKkCz"}])
    end

    it "reads an Anthropic error event whose data is JSON but not an object as an error" do
      bytes = anthropic_start + event("error", "\"Overloaded\"")
      expect_both(:anthropic, bytes, stop_reason: nil)
      results(:anthropic, bytes).compact.each { |result| expect(result.failure.kind).to eq(:overloaded) }
    end

    # Past the bound the reply is too large, which the classifier names a malformed stream.
    it "refuses an Anthropic block index past Limits::MAX_INDEX" do
      bytes = anthropic_start +
        event("content_block_start", {type: "content_block_start", index: 4096, content_block: {type: "text", text: ""}}) +
        anthropic_end
      results(:anthropic, bytes).compact.each { |result| expect(result.failure.kind).to eq(:malformed_stream) }
    end

    it "refuses an OpenAI tool call whose index is not an integer as malformed" do
      call = {index: "0", id: "call_Qw3", type: "function", function: {name: "a", arguments: "{}"}}
      bytes = data(chunk({tool_calls: [call]})) + data(chunk({}, finish: "tool_calls")) + data("[DONE]")
      results(:openai, bytes).compact.each { |result| expect(result.failure.kind).to eq(:malformed_stream) }
    end

    it "refuses a token count that is not an integer as malformed" do
      usage = {choices: [], usage: {prompt_tokens: 12.0, completion_tokens: 3}}
      bytes = data(chunk({content: "Hi"})) + data(chunk({}, finish: "stop")) + data(chunk({}).merge(usage)) + data("[DONE]")
      results(:openai, bytes).compact.each { |result| expect(result.failure.kind).to eq(:malformed_stream) }
    end

    it "treats negative token counts as not sent and saturates Gemini's sum, in every dialect" do
      huge = 2**63 - 1
      usage = {usageMetadata: {promptTokenCount: -4, candidatesTokenCount: huge, thoughtsTokenCount: huge}}
      bytes = data(gemini_chunk([{text: "Hi"}], finish: "STOP", extra: usage))
      expect_both(:gemini, bytes, usage: {input_tokens: 0, output_tokens: huge}, failure: nil)
      bytes = anthropic_start + event("message_delta", {type: "message_delta", delta: {stop_reason: "end_turn"},
        usage: {output_tokens: -7, cache_read_input_tokens: -1}}) + event("message_stop", {type: "message_stop"})
      expect_both(:anthropic, bytes, usage: {input_tokens: 12, output_tokens: 1}, failure: nil)
      usage = {choices: [], usage: {prompt_tokens: -12, completion_tokens: 3}}
      bytes = data(chunk({content: "Hi"})) + data(chunk({}, finish: "stop")) + data(chunk({}).merge(usage)) + data("[DONE]")
      expect_both(:openai, bytes, usage: {input_tokens: 0, output_tokens: 3}, failure: nil)
    end

    it "leaves NUL bytes out of text and thinking" do
      bytes = anthropic_start +
        event("content_block_delta", {type: "content_block_delta", index: 0, delta: {type: "text_delta", text: "a\u0000b"}}) +
        anthropic_end
      expect_both(:anthropic, bytes, text: "ab", failure: nil)
    end

    def anthropic_call(arguments, index: 1, id: "toolu_01")
      event("content_block_start", {type: "content_block_start", index: index,
        content_block: {type: "tool_use", id: id, name: "lookup", input: {}}}) +
        event("content_block_delta", {type: "content_block_delta", index: index,
          delta: {type: "input_json_delta", partial_json: arguments}}) +
        event("content_block_stop", {type: "content_block_stop", index: index})
    end

    it "takes tool arguments nested 100 deep and refuses 101 deep as malformed" do
      nested = ->(depth) { %({"a":#{"[" * (depth - 1)}#{"]" * (depth - 1)}}) }
      expect_both(:anthropic, anthropic_start + anthropic_call(nested.call(100)) + anthropic_end("tool_use"), failure: nil)
      results(:anthropic, anthropic_start + anthropic_call(nested.call(101)) + anthropic_end("tool_use")).compact.each do |result|
        expect([result.failure.kind, result.failure.detail]).to match([:malformed_stream, /nest deeper than 100 levels/])
      end
    end

    it "refuses tool arguments with a comment or a number longer than 100 characters as malformed" do
      [%({"q": /* " */ 1}), %({"n": #{"9" * 101}})].each do |arguments|
        results(:anthropic, anthropic_start + anthropic_call(arguments) + anthropic_end("tool_use")).compact.each do |result|
          expect(result.failure.kind).to eq(:malformed_stream)
        end
      end
    end

    it "refuses an event whose data is not UTF-8 as malformed, in text and in tool arguments" do
      invalid = "\xFF\xFE".b
      text = anthropic_start + event("content_block_delta",
        {type: "content_block_delta", index: 0, delta: {type: "text_delta", text: "a@b"}}).b.sub("@", invalid)
      call = anthropic_start + anthropic_call(%({"city": "@"})).b.sub("@", invalid)
      [text + anthropic_end, call + anthropic_end("tool_use")].each do |bytes|
        results(:anthropic, bytes).compact.each do |result|
          expect([result.failure&.kind, result.text, result.tool_calls]).to eq([:malformed_stream, "", []])
        end
      end
    end

    it "reads a lone surrogate escape as U+FFFD rather than refusing the event" do
      lone = data(chunk({content: "Hi"}).merge(system_fingerprint: "@@")).sub("@@") { '\ud800' }
      bytes = lone + data(chunk({}, finish: "stop")) + data("[DONE]")
      expect_both(:openai, bytes, text: "Hi", failure: nil)
      # A lone low surrogate, then an escaped backslash before "ud800", which is no escape.
      text = data(chunk({content: "@@ \\ still"})).sub("@@") { '\udc00 \\\\ud800' }
      bytes = text + data(chunk({}, finish: "stop")) + data("[DONE]")
      expect(decode(:openai, [bytes]).text).to eq("\uFFFD \\ud800 \\ still")
    end

    it "keeps the last value of a key given twice in tool arguments" do
      bytes = anthropic_start + anthropic_call(%({"city": "Oslo", "city": "Bergen"})) + anthropic_end("tool_use")
      expect_both(:anthropic, bytes, failure: nil,
        tool_calls: [AssistantChatNative::ToolCall.new(id: "toolu_01", name: "lookup", arguments: {"city" => "Bergen"})])
    end

    it "leaves out a tool call whose block never stopped, though its arguments are whole" do
      bytes = anthropic_start + anthropic_call(%({"city": "Oslo"})).sub(/event: content_block_stop\n.*\n\n\z/, "") +
        anthropic_end("tool_use")
      expect_both(:anthropic, bytes, tool_calls: [], failure: nil)
    end

    it "keeps a redacted thinking block whose data is not a string, in its place" do
      bytes = anthropic_start +
        event("content_block_start", {type: "content_block_start", index: 0, content_block: {type: "redacted_thinking", data: 1}}) +
        event("content_block_stop", {type: "content_block_stop", index: 0}) + anthropic_end
      expect_both(:anthropic, bytes, thinking_blocks: [{type: "redacted_thinking", data: ""}], failure: nil)
    end

    it "refuses an OpenAI choice whose index is not an integer as malformed" do
      bytes = data(chunk({content: "Hi"}).merge(choices: [{index: 1.5, delta: {content: "Hi"}, finish_reason: nil}])) +
        data(chunk({}, finish: "stop")) + data("[DONE]")
      results(:openai, bytes).compact.each { |result| expect(result.failure.kind).to eq(:malformed_stream) }
    end

    it "refuses more than 128 tool calls in one reply, though they reuse one index" do
      calls = 129.times.map { |i| anthropic_call("{}", id: "toolu_#{i}") }.join
      results(:anthropic, anthropic_start + calls + anthropic_end("tool_use")).compact.each do |result|
        expect([result.failure.kind, result.failure.detail]).to eq([:malformed_stream, "the reply holds more than 128 tool calls"])
      end
    end

    it "refuses an event nested deeper than 100 levels as malformed" do
      chunk = JSON.generate(gemini_chunk([{functionCall: {name: "f", args: "ARGS"}}], finish: "STOP"))
      bytes = data(chunk.sub('"ARGS"', %({"a":#{"[" * 97}#{"]" * 97}})))
      results(:gemini, bytes).compact.each { |result| expect(result.failure.kind).to eq(:malformed_stream) }
    end

    it "lets a Gemini blockReason win over a finishReason in the same chunk" do
      bytes = data(gemini_chunk([{text: ""}], finish: "STOP", extra: {promptFeedback: {blockReason: "PROHIBITED_CONTENT"}}))
      expect_both(:gemini, bytes, stop_reason: :refusal, provider_stop_reason: "PROHIBITED_CONTENT")
    end

    it "names a Gemini reply by the first chunk that carries its id" do
      first = {candidates: [{content: {parts: [{text: "Hel"}], role: "model"}, index: 0}]}
      bytes = data(first) + data(gemini_chunk([{text: "lo"}], finish: "STOP"))
      expect_both(:gemini, bytes, text: "Hello", message_id: "h7KdaQx3Mv8PnvgPr2sBwQe", model: "gemini-3.8-flash")
    end

    it "reads Gemini TOO_MANY_TOOL_CALLS after a function call as tool_use" do
      bytes = data(gemini_chunk([{functionCall: {name: "get_time", args: {zone: "UTC"}}}], finish: "TOO_MANY_TOOL_CALLS"))
      expect_both(:gemini, bytes, stop_reason: :tool_use, provider_stop_reason: "TOO_MANY_TOOL_CALLS",
        tool_calls: [AssistantChatNative::ToolCall.new(id: "call_0", name: "get_time", arguments: {"zone" => "UTC"})])
    end
  end
end
