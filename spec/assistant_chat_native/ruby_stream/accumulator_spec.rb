# frozen_string_literal: true

require "spec_helper"
require "assistant_chat_native/ruby_stream"

# How RubyStream's accumulator builds a Result from normalized events, and the
# bounds it holds a reply to.
RSpec.describe AssistantChatNative::RubyStream::Accumulator do
  let(:failures) { AssistantChatNative::RubyStream::FailureBuilder.new(provider: :anthropic) }

  def accumulate(events, max_reply_bytes: 1024 * 1024, thinking_blocks: true)
    accumulator = described_class.new(max_reply_bytes: max_reply_bytes, thinking_blocks: thinking_blocks)
    events.each { |event| accumulator.apply(event) }
    failure = accumulator.finish(failures: failures)
    accumulator.result(failure: failure, stats: {})
  end

  def done
    [{type: :stop, stop_reason: :end_turn, provider_stop_reason: "end_turn"}, {type: :done}]
  end

  it "parses each tool call's joined fragments when it ends, and blank arguments as {}" do
    result = accumulate([
      {type: :tool_call_start, index: 1, id: "a", name: "search"},
      {type: :tool_args_delta, index: 1, text: "{\"q\": "},
      {type: :tool_args_delta, index: 1, text: "\"ruby\"}"},
      {type: :tool_call_end, index: 1},
      {type: :tool_call_start, index: 2, id: "b", name: "now"},
      {type: :tool_args_delta, index: 2, text: "  "},
      {type: :tool_call_end, index: 2},
      *done
    ])

    expect(result.tool_calls.map(&:to_h)).to eq([
      {id: "a", name: "search", arguments: {"q" => "ruby"}, server: false, signature: nil},
      {id: "b", name: "now", arguments: {}, server: false, signature: nil}
    ])
    expect(result.failure).to be_nil
  end

  def one_call(arguments)
    accumulate([
      {type: :tool_call_start, index: 0, id: "call_x", name: "lookup"},
      {type: :tool_args_delta, index: 0, text: arguments},
      {type: :tool_call_end, index: 0},
      *done
    ])
  end

  def nested(depth)
    %({"a":#{"[" * (depth - 1)}#{"]" * (depth - 1)}})
  end

  it "takes arguments nested 100 deep and fails 101 deep as a malformed stream" do
    expect(one_call(nested(100)).failure).to be_nil
    failure = one_call(nested(101)).failure

    expect(failure.kind).to eq(:malformed_stream)
    expect(failure.detail).to include("lookup", "nest deeper than 100 levels")
    expect(one_call(nested(300)).failure.kind).to eq(:malformed_stream)
  end

  it "fails arguments holding a number token longer than 100 characters without converting it" do
    expect(one_call(%({"n": #{"7" * 100}})).failure).to be_nil
    failure = one_call(%({"n": -#{"7" * 100}})).failure

    expect(failure.kind).to eq(:malformed_stream)
    expect(failure.detail).to include("number longer than 100 characters")
    expect(one_call(%({"n": "#{"7" * 500}"})).failure).to be_nil
  end

  it "fails arguments holding a comment, whatever the json gem allows" do
    expect(one_call(%({"q": /* " */ 1})).failure.kind).to eq(:malformed_stream)
    expect(one_call(%({"q": "a /* b */ c // d"})).failure).to be_nil
  end

  it "fails a reply past 128 tool calls even when they reuse one index" do
    accumulator = described_class.new(max_reply_bytes: 1024 * 1024)
    accepted = 200.times.map { |i| accumulator.apply({type: :tool_call_start, index: 3, id: "t#{i}", name: "ping"}) }
    failure = accumulator.finish(failures: failures)

    expect(accepted.count(true)).to eq(128)
    expect(failure.kind).to eq(:malformed_stream)
    expect(failure.detail).to eq("the reply holds more than 128 tool calls")
  end

  it "leaves NUL bytes out of text and thinking" do
    result = accumulate([
      {type: :text_delta, index: 0, text: "a\u0000b"},
      {type: :text_delta, index: 0, text: "\u0000"},
      {type: :thinking_delta, index: 1, text: "h\u0000m"},
      *done
    ])

    expect(result.text).to eq("ab")
    expect(result.thinking).to eq("hm")
  end

  it "fails as a malformed stream when a call that ended holds anything but one JSON object" do
    result = accumulate([
      {type: :tool_call_start, index: 0, id: "a", name: "search"},
      {type: :tool_args_delta, index: 0, text: "[1, 2]"},
      {type: :tool_call_end, index: 0},
      *done
    ])

    expect(result.failure.kind).to eq(:malformed_stream)
    expect(result.stop_reason).to be_nil
  end

  it "drops a call the stream cut off, and fails as connection lost" do
    result = accumulate([
      {type: :text_delta, index: 0, text: "Looking"},
      {type: :tool_call_start, index: 1, id: "a", name: "search"},
      {type: :tool_args_delta, index: 1, text: "{\"q\": \"ru"}
    ])

    expect(result.tool_calls).to be_empty
    expect(result.text).to eq("Looking")
    expect(result.failure.kind).to eq(:connection_lost)
  end

  it "starts a new thinking block at a new index and keeps signatures and redacted data" do
    result = accumulate([
      {type: :thinking_delta, index: 0, text: "Hmm, "},
      {type: :thinking_delta, index: 0, text: "yes."},
      {type: :signature_delta, index: 0, text: "sig"},
      {type: :block_end, index: 0},
      {type: :redacted_thinking, index: 1, text: "opaque"},
      {type: :thinking_delta, index: 2, text: "Again."},
      *done
    ])

    expect(result.thinking).to eq("Hmm, yes.Again.")
    expect(result.thinking_blocks).to eq([
      {type: "thinking", thinking: "Hmm, yes.", signature: "sig"},
      {type: "redacted_thinking", data: "opaque"},
      {type: "thinking", thinking: "Again.", signature: ""}
    ])
  end

  it "keeps no thinking blocks for providers that need none sent back" do
    result = accumulate([{type: :thinking_delta, index: 0, text: "Hmm."}, *done], thinking_blocks: false)

    expect(result.thinking).to eq("Hmm.")
    expect(result.thinking_blocks).to eq([])
  end

  it "reports usage fields only as sent, last value winning, cache counts only when reported" do
    result = accumulate([
      {type: :usage, input_tokens: 10, output_tokens: 1},
      {type: :usage, output_tokens: 7},
      *done
    ])

    expect(result.usage).to eq(input_tokens: 10, output_tokens: 7)
    expect(accumulate(done).usage).to eq(input_tokens: 0, output_tokens: 0)
    expect(accumulate([{type: :usage, cache_read_tokens: 0}, *done]).usage)
      .to eq(input_tokens: 0, output_tokens: 0, cache_read_tokens: 0)
  end

  it "fails a refusal with no text at all, keeping its stop reason" do
    result = accumulate([{type: :stop, stop_reason: :refusal, provider_stop_reason: "SAFETY"}, {type: :done}])

    expect(result.failure.kind).to eq(:refusal)
    expect(result.stop_reason).to eq(:refusal)
    expect(result.provider_stop_reason).to eq("SAFETY")
  end

  it "puts the first error event's failure before every other" do
    result = accumulate([
      {type: :text_delta, index: 0, text: "Half"},
      {type: :error, error_type: "overloaded_error", message: "Overloaded",
       raw: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'}
    ])

    expect(result.failure.kind).to eq(:overloaded)
    expect(result.text).to eq("Half")
  end

  it "refuses events past max_reply_bytes and fails the reply as oversized" do
    accumulator = described_class.new(max_reply_bytes: 10)

    expect(accumulator.apply({type: :text_delta, index: 0, text: "12345"})).to be(true)
    expect(accumulator.apply({type: :text_delta, index: 0, text: "678901"})).to be(false)
    expect(accumulator.apply({type: :text_delta, index: 0, text: "x"})).to be(false)
    failure = accumulator.finish(failures: failures)
    expect(failure.kind).to eq(:malformed_stream)
    expect(accumulator.result(failure: failure, stats: {}).text).to eq("12345")
  end
end
