# frozen_string_literal: true

require "spec_helper"

# The C Decoder and RubyStream read each provider's stream independently, the
# one from the dialect tables, the other from the providers' documented formats.
# On every recorded stream broken the ways a network or a buggy gateway breaks
# one (an event lost, an event sent twice, the stream cut after any event, the
# events out of order) the two readings must still give the same Result.
RSpec.describe "The C Decoder and RubyStream on broken recorded streams", if: AssistantChatNative.native? do
  # The stream's events, each with the blank line that ends it.
  def events(bytes)
    bytes.split(/(?<=\n\n)|(?<=\r\n\r\n)/)
  end

  def breakages(events)
    random = Random.new(20_261_203)
    broken = {}
    events.each_index do |i|
      broken["event #{i} lost"] = events[0...i] + events[i + 1..]
      broken["event #{i} sent twice"] = events[0..i] + events[i..]
      broken["cut after event #{i}"] = events[0...i]
    end
    8.times { |n| broken["shuffled (#{n})"] = events.shuffle(random: random) }
    broken
  end

  def c_result(provider, bytes)
    decoder = AssistantChatNative::Decoder.new(provider)
    decoder.feed(bytes)
    decoder.finish
  end

  # The Result as data; of the failure only its kind (the copy is the classifier's).
  def comparable(result)
    hash = FixtureStreams.result_hash(result)
    hash[:failure] = hash[:failure]&.slice(:kind)
    hash.except(:stats)
  end

  FixtureStreams.all.each do |provider, name, sse, _expected_path|
    it "gives the same Result from both on #{provider}/#{name} with any event lost, repeated or out of order" do
      disagreements = breakages(events(File.binread(sse))).filter_map do |label, broken|
        bytes = broken.join
        c_side = comparable(c_result(provider, bytes))
        ruby_side = comparable(RubyStreamReading.decode(provider, [bytes], max_reply_bytes: 8 * 1024 * 1024))
        next if c_side == ruby_side

        fields = c_side.keys.reject { |key| c_side[key] == ruby_side[key] }
        "#{label}: " + fields.map { |key| "#{key} C #{c_side[key].inspect} Ruby #{ruby_side[key].inspect}" }.join("; ")
      end

      expect(disagreements).to eq([])
    end
  end
end

# Payloads the recorded streams do not hold, each read by both and held to what
# the providers' formats and JSON (RFC 8259) say it means.
RSpec.describe "The C Decoder and RubyStream on the same payloads", if: AssistantChatNative.native? do
  def sse(*payloads)
    payloads.map { |payload| "data: #{payload}\n\n" }.join + "data: [DONE]\n\n"
  end

  def both(provider, bytes)
    decoder = AssistantChatNative::Decoder.new(provider)
    decoder.feed(bytes)
    [decoder.finish, RubyStreamReading.decode(provider, [bytes])]
  end

  it "turns unpaired surrogate escapes into U+FFFD and keeps the text valid UTF-8" do
    content = 'a\udc00b\ud800c\\\\ud800\ud83d\ude00\uD800\u0041'
    results = both(:openai, sse(%({"choices":[{"index":0,"delta":{"content":"#{content}"},"finish_reason":"stop"}]})))

    expect(results.map(&:text)).to eq(["a\u{FFFD}b\u{FFFD}c\\ud800\u{1F600}\u{FFFD}A"] * 2)
    expect(results.map { |result| result.text.valid_encoding? }).to eq([true, true])
  end

  it "reads a choice by its index wherever the index stands among its keys" do
    bytes = sse('{"choices":[{"delta":{"content":"one"},"index":0}]}',
      '{"choices":[{"delta":{"content":"two","tool_calls":[{"function":{"name":"g","arguments":"{}"},"index":0}]},' \
      '"finish_reason":"length","index":1}]}',
      '{"choices":[{"delta":{"tool_calls":[{"function":{"name":"f","arguments":"{}"},"id":"call_f","index":2}]},' \
      '"finish_reason":"tool_calls","index":0}]}')
    results = both(:openai, bytes)

    expect(results.map(&:text)).to eq(%w[one one])
    expect(results.map { |result| result.tool_calls.map(&:name) }).to eq([%w[f], %w[f]])
    expect(results.map(&:provider_stop_reason)).to eq(%w[tool_calls tool_calls])
  end

  it "reads the choice with index 0 wherever it stands in choices, and only the first such" do
    bytes = sse('{"choices":[{"index":1,"delta":{"content":"B","tool_calls":[{"index":0,"id":"x","function":' \
      '{"name":"g","arguments":"{}"}}]}},{"delta":{"content":"A","tool_calls":[{"index":0,"id":"y","function":' \
      '{"name":"f","arguments":"{}"}}]},"index":0,"finish_reason":"tool_calls"},' \
      '{"index":0,"delta":{"content":"C"},"finish_reason":"stop"}]}')
    results = both(:openai, bytes)

    expect(results.map(&:text)).to eq(%w[A A])
    expect(results.map { |result| result.tool_calls.map(&:name) }).to eq([%w[f], %w[f]])
    expect(results.map(&:provider_stop_reason)).to eq(%w[tool_calls tool_calls])
  end

  it "reads a choice without an index as the one its position names" do
    results = both(:openai, sse('{"choices":[{"index":2,"delta":{"content":"B"}},{"delta":{"content":"X"}}]}',
      '{"choices":[{"delta":{"content":"A"},"finish_reason":"stop"}]}'))

    expect(results.map(&:text)).to eq(%w[A A])
    expect(results.map(&:stop_reason)).to eq(%i[end_turn end_turn])
  end

  it "refuses a negative choice index, wherever the choice stands" do
    ['{"choices":[{"index":-1,"delta":{"content":"N"},"finish_reason":"stop"}]}',
      '{"choices":[{"index":0,"delta":{"content":"A"},"finish_reason":"stop"},{"index":-1,"delta":{}}]}'].each do |payload|
      results = both(:openai, sse(payload))

      expect(results.map { |result| [result.text, result.failure&.kind] }).to eq([["", :malformed_stream]] * 2), payload
    end
  end

  # WHATWG: only CR, LF and CRLF end a line, and only one space after the colon is
  # dropped; a form feed is data, and JSON (RFC 8259) does not take it as whitespace.
  {"a form feed after the colon" => "data:\f%s\n\n",
   "a form feed ending the line" => "data: %s\f\n\n",
   "a form feed between two fields" => "data: %s\fdata: {}\n\n"}.each do |label, line|
    it "reads #{label} as data, so the payload is no JSON" do
      bytes = format(line, '{"choices":[{"index":0,"delta":{"content":"x"}}]}') +
        sse('{"choices":[{"index":0,"delta":{"content":"A"},"finish_reason":"stop"}]}')
      results = both(:openai, bytes)

      expect(results.map { |result| [result.text, result.failure&.kind] }).to eq([["", :malformed_stream]] * 2)
    end
  end

  it "keeps a tab after the colon as data, where JSON reads it as whitespace" do
    bytes = "data:\t{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n" +
      sse('{"choices":[{"index":0,"delta":{"content":"A"},"finish_reason":"stop"}]}')

    expect(both(:openai, bytes).map(&:text)).to eq(%w[xA xA])
  end

  # Every provider documents its token counts as integers: a count that is a JSON
  # integer within 64 bits is read, a negative one is not sent, anything else is
  # malformed.
  usage_streams = {
    openai: ->(count) {
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"A\"},\"finish_reason\":\"stop\"}]}\n\n" \
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":#{count},\"completion_tokens\":3}}\n\ndata: [DONE]\n\n"
    },
    anthropic: ->(count) {
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\"," \
        "\"usage\":{\"input_tokens\":#{count},\"output_tokens\":3}}}\n\n" \
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"}}\n\n" \
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
    },
    gemini: ->(count) {
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"A\"}]},\"finishReason\":\"STOP\"}]," \
        "\"usageMetadata\":{\"promptTokenCount\":#{count},\"candidatesTokenCount\":3}}\n\n"
    }
  }
  {"12" => [12, nil], "0" => [0, nil], "9223372036854775807" => [9_223_372_036_854_775_807, nil],
   "-1" => [0, nil], "-5" => [0, nil], "null" => [0, nil],
   "12.0" => [0, :malformed_stream], '"12"' => [0, :malformed_stream], "1e20" => [0, :malformed_stream],
   "12e0" => [0, :malformed_stream], "9223372036854775808" => [0, :malformed_stream]}.each do |count, (input, kind)|
    usage_streams.each do |provider, stream|
      it "reads #{provider}'s input token count #{count} as #{kind || input}" do
        results = both(provider, stream.call(count))

        expect(results.map { |result| [result.usage[:input_tokens], result.failure&.kind] }).to eq([[input, kind]] * 2)
      end
    end
  end

  it "gives no provider stop reason for an empty one" do
    results = both(:openai, sse('{"choices":[{"index":0,"delta":{"content":"one"},"finish_reason":""}]}'))

    expect(results.map(&:provider_stop_reason)).to eq([nil, nil])
    expect(results.map(&:stop_reason)).to eq([:end_turn, :end_turn])
  end
end
