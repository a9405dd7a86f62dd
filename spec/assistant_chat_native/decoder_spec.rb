# frozen_string_literal: true

require "objspace"

RSpec.describe AssistantChatNative::Decoder do
  # Every normalized event the chunks completed, and the Result at the end.
  def decode(provider, chunks, **options)
    decoder = described_class.new(provider, **options)
    events = chunks.flat_map { |chunk| decoder.feed(chunk) }
    [decoder.finish, events]
  end

  def sse(event, payload)
    "event: #{event}\ndata: #{JSON.generate(payload)}\n\n"
  end

  def anthropic_stream(*blocks, stop_reason: "end_turn", terminal: true)
    message = {id: "msg_1", type: "message", role: "assistant", content: [], model: "claude-test",
               usage: {input_tokens: 5, output_tokens: 1}}
    out = sse("message_start", {type: "message_start", message: message})
    blocks.each { |block| out << block }
    out << sse("message_delta", {type: "message_delta", delta: {stop_reason: stop_reason}, usage: {output_tokens: 9}})
    out << sse("message_stop", {type: "message_stop"}) if terminal
    out
  end

  def text_block(index, *deltas)
    out = sse("content_block_start", {type: "content_block_start", index: index, content_block: {type: "text", text: ""}})
    deltas.each do |text|
      out << sse("content_block_delta", {type: "content_block_delta", index: index, delta: {type: "text_delta", text: text}})
    end
    out << sse("content_block_stop", {type: "content_block_stop", index: index})
  end

  def tool_block(index, id, name, *fragments)
    out = sse("content_block_start", {type: "content_block_start", index: index,
                                      content_block: {type: "tool_use", id: id, name: name, input: {}}})
    fragments.each do |json|
      out << sse("content_block_delta", {type: "content_block_delta", index: index,
                                         delta: {type: "input_json_delta", partial_json: json}})
    end
    out << sse("content_block_stop", {type: "content_block_stop", index: index})
  end

  # Cuts bytes at the given offsets.
  def cut(bytes, offsets)
    ([0] + offsets + [bytes.bytesize]).each_cons(2).map { |from, to| bytes.byteslice(from, to - from) }
  end

  describe "the fixture streams" do
    FixtureStreams.all.each do |provider, name, sse_path, expected_path|
      context "#{provider}/#{name}" do
        let(:bytes) { File.binread(sse_path) }
        let(:expected) { FixtureStreams.expected(expected_path) }
        let(:whole) { decode(provider, [bytes]) }

        it "gives the expected Result fed whole" do
          result, _events = whole
          expect(result).to be_a(AssistantChatNative::Result)
          expect(FixtureStreams.as_expected(result, expected)).to eq(expected)
        end

        it "gives the same Result and events fed one byte at a time" do
          expect(decode(provider, bytes.each_char.to_a)).to eq(whole)
        end

        it "gives the same Result and events cut at every split point" do
          # Every single cut; for the small fixtures, pairs of cuts too.
          (1...bytes.bytesize).each do |at|
            expect(decode(provider, cut(bytes, [at]))).to eq(whole), "cut at byte #{at}"
          end
          next if bytes.bytesize > 600

          (1...bytes.bytesize).step(7) do |first|
            (first + 1...bytes.bytesize).step(5) do |second|
              expect(decode(provider, cut(bytes, [first, second]))).to eq(whole), "cut at bytes #{first} and #{second}"
            end
          end
        end

        it "gives the same Result and events in random chunk sizes" do
          random = Random.new(20_261_128)
          20.times do
            offsets = []
            at = 0
            offsets << at while (at += 1 + random.rand(64)) < bytes.bytesize
            expect(decode(provider, cut(bytes, offsets))).to eq(whole), "cuts #{offsets.inspect}"
          end
        end

        it "gives the same Result through #consume, which builds no event Hashes" do
          decoder = described_class.new(provider)
          count = FixtureStreams.chunkings(bytes)["awkward (7 bytes)"].sum { |chunk| decoder.consume(chunk) }
          expect(decoder.finish).to eq(whole.first)
          expect(count).to eq(whole.last.size)
        end
      end
    end
  end

  describe "#feed" do
    it "returns the normalized events the bytes completed, as Hashes with Symbol types" do
      stream = anthropic_stream(text_block(0, "Hello", " wörld"))
      _result, events = decode(:anthropic, [stream])

      expect(events.first).to eq(type: :message_start, id: "msg_1", model: "claude-test")
      expect(events).to include({type: :text_delta, index: 0, text: "Hello"}, {type: :text_delta, index: 0, text: " wörld"})
      expect(events).to include({type: :stop, stop_reason: :end_turn, provider_stop_reason: "end_turn"})
      expect(events).to include(a_hash_including(type: :usage, output_tokens: 9))
      expect(events.last).to eq(type: :done)
      text = events.find { |event| event[:type] == :text_delta && event[:text].include?("ö") }[:text]
      expect(text.encoding).to eq(Encoding::UTF_8)
      expect(text).to be_valid_encoding
    end

    it "returns nothing until an event is complete, then that event" do
      decoder = described_class.new(:openai)
      line = %(data: {"id":"c1","model":"gpt-test","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n)
      expect(decoder.feed(line[0, 30])).to eq([])
      events = decoder.feed(line[30..])
      expect(events).to include({type: :text_delta, index: 0, text: "Hi"})
    end

    it "reports tool calls as start, argument fragments and end" do
      stream = anthropic_stream(tool_block(1, "toolu_1", "search", "{\"q\":", "\"rails\"}"), stop_reason: "tool_use")
      _result, events = decode(:anthropic, [stream])

      expect(events).to include(
        {type: :tool_call_start, index: 1, id: "toolu_1", name: "search"},
        {type: :tool_args_delta, index: 1, text: "{\"q\":"},
        {type: :tool_args_delta, index: 1, text: "\"rails\"}"},
        {type: :tool_call_end, index: 1}
      )
    end

    it "accepts the provider as a String" do
      result, _events = decode("gemini", [File.binread(File.join(FixtureStreams::ROOT, "gemini", "text.sse"))])
      expect(result.stop_reason).to eq(:end_turn)
    end

    it "raises TypeError for anything but a String" do
      expect { described_class.new(:anthropic).feed(42) }.to raise_error(TypeError)
    end
  end

  describe "#finish" do
    it "parses tool-call arguments as JSON.parse does" do
      arguments = '{"big": 123456789012345678901234567890, "neg": -7, "f": 1.5e3, "g": 0.25, ' \
                  '"s": "caf\u00e9 \ud83d\ude00 \u0000 end", "t": true, "n": null, "a": [1, [2, {}]], "o": {"k": "v"}}'
      stream = anthropic_stream(tool_block(0, "toolu_1", "run", arguments[0, 17], arguments[17..]), stop_reason: "tool_use")
      result, _events = decode(:anthropic, [stream])

      expect(result.failure).to be_nil
      call = result.tool_calls.first
      expect(call).to be_a(AssistantChatNative::ToolCall)
      expect(call.arguments).to eq(JSON.parse(arguments))
      expect(call.arguments["s"]).to eq("café 😀 \u0000 end")
      expect(call.arguments["big"]).to eq(123_456_789_012_345_678_901_234_567_890)
      expect(call.arguments["f"]).to eq(1500.0)
      expect(call.server?).to be(false)
    end

    it "gives empty arguments as an empty Hash" do
      stream = anthropic_stream(tool_block(0, "toolu_1", "list"), stop_reason: "tool_use")
      expect(decode(:anthropic, [stream]).first.tool_calls.first.arguments).to eq({})
    end

    it "fails a reply whose tool-call arguments are not a JSON object as a malformed stream" do
      stream = anthropic_stream(text_block(0, "Let me look."), tool_block(1, "toolu_1", "search", "{\"q\": ", "}"),
        stop_reason: "tool_use")
      result, _events = decode(:anthropic, [stream])

      expect(result.failure&.kind).to eq(:malformed_stream)
      expect(result.failure.detail).to include("search")
      expect(result.text).to eq("Let me look.")
    end

    it "fails a stream without its terminal event as connection_lost with no stop reason" do
      stream = anthropic_stream(text_block(0, "Half"), terminal: false)
      result, _events = decode(:anthropic, [stream])

      expect(result.failure&.kind).to eq(:connection_lost)
      expect(result.stop_reason).to be_nil
      expect(result.text).to eq("Half")
    end

    it "returns the same Result when called again" do
      decoder = described_class.new(:anthropic)
      decoder.feed(anthropic_stream(text_block(0, "x")))
      expect(decoder.finish).to equal(decoder.finish)
      expect(decoder).to be_finished
    end

    it "keeps its Result through GC compaction" do
      decoder = described_class.new(:anthropic)
      decoder.feed(anthropic_stream(text_block(0, "kept")))
      result = decoder.finish
      GC.verify_compaction_references(double_heap: true, toward: :empty) if GC.respond_to?(:verify_compaction_references)
      expect(decoder.finish).to equal(result)
      expect(decoder.finish.text).to eq("kept")
    end

    it "counts its buffers in ObjectSpace.memsize_of" do
      decoder = described_class.new(:anthropic)
      empty = ObjectSpace.memsize_of(decoder)
      decoder.feed(anthropic_stream(text_block(0, "x" * 100_000)))
      expect(ObjectSpace.memsize_of(decoder)).to be > empty + 100_000
    end
  end

  describe "errors" do
    it "refuses an unknown provider with a ConfigurationError naming the four" do
      expect { described_class.new(:mistral) }
        .to raise_error(AssistantChatNative::ConfigurationError, /mistral.*:anthropic, :openai, :gemini or :openai_responses/)
      expect { described_class.new(nil) }.to raise_error(AssistantChatNative::ConfigurationError, /anthropic/)
    end

    it "refuses a non-positive bound" do
      expect { described_class.new(:openai, max_event_bytes: 0) }.to raise_error(ArgumentError, /max_event_bytes/)
    end

    it "raises when fed after #finish" do
      decoder = described_class.new(:anthropic)
      decoder.finish
      expect { decoder.feed("data: {}\n\n") }.to raise_error(AssistantChatNative::Error, /after #finish/)
      expect { decoder.consume("") }.to raise_error(AssistantChatNative::Error)
    end

    it "reports an event over max_event_bytes as a failure, not an exception, and ignores what follows" do
      decoder = described_class.new(:anthropic, max_event_bytes: 1024)
      decoder.feed(anthropic_stream(text_block(0, "before")).split("event: message_delta").first)
      expect { decoder.feed(sse("content_block_delta", {type: "content_block_delta", index: 0, delta: {type: "text_delta", text: "y" * 4096}})) }
        .not_to raise_error
      expect(decoder.feed(sse("message_stop", {type: "message_stop"}))).to eq([])
      result = decoder.finish

      expect(result.failure&.kind).to eq(:malformed_stream)
      expect(result.text).to eq("before")
      expect(result.stop_reason).to be_nil
    end

    it "reports a reply over max_reply_bytes as a failure and keeps what fit" do
      stream = anthropic_stream(text_block(0, *Array.new(50) { "z" * 100 }))
      result, _events = decode(:anthropic, [stream], max_reply_bytes: 1000)

      expect(result.failure&.kind).to eq(:malformed_stream)
      expect(result.failure.detail).to include("1000 bytes")
      expect(result.text.bytesize).to be <= 1000
    end

    it "reports bytes that are not the provider's format as a malformed stream" do
      result, _events = decode(:openai, ["data: {not json\n\n", "data: [DONE]\n\n"])
      expect(result.failure&.kind).to eq(:malformed_stream)
    end
  end
end
