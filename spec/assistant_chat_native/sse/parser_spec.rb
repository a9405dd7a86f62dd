# frozen_string_literal: true

# The WHATWG HTML standard, "9.2.6 Interpreting an event stream": every case is
# fed whole, split at every byte, and one byte at a time, with the same events.
RSpec.describe AssistantChatNative::SSE::Parser do
  def events_of(input, splits: [])
    parser = described_class.new
    events = []
    pieces = []
    start = 0
    (splits + [input.bytesize]).each do |stop|
      pieces << input.byteslice(start...stop)
      start = stop
    end
    pieces.each { |piece| parser.feed(piece) { |event| events << event.to_a } }
    parser.finish
    events
  end

  def expect_events(input, expected)
    input = input.b
    expect(events_of(input)).to eq(expected)
    (0..input.bytesize).each do |cut|
      expect(events_of(input, splits: [cut])).to eq(expected), "split at byte #{cut}"
    end
    expect(events_of(input, splits: (1...input.bytesize).to_a)).to eq(expected), "fed one byte at a time"
  end

  it "dispatches a data-only event with the type message" do
    expect_events("data: hello\n\n", [["message", "hello", "", nil]])
  end

  it "joins data lines with LF and removes the one trailing LF" do
    expect_events("event: add\ndata: a\ndata:\ndata: b\n\n", [["add", "a\n\nb", "", nil]])
  end

  it "resets the event type after each dispatch" do
    expect_events("event: one\ndata: 1\n\ndata: 2\n\n", [["one", "1", "", nil], ["message", "2", "", nil]])
  end

  it "accepts LF, CR and CRLF line ends, and treats a CR and LF split across chunks as one" do
    expect_events("data: a\r\n\r\ndata: b\r\rdata: c\n\n",
      [["message", "a", "", nil], ["message", "b", "", nil], ["message", "c", "", nil]])
  end

  it "strips one leading byte order mark, and only one" do
    expect_events("\xEF\xBB\xBFdata: x\n\n", [["message", "x", "", nil]])
    expect_events("\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\ndata: y\n\n", [["message", "y", "", nil]])
  end

  it "ignores comments and unknown fields, and reads a field without a colon as an empty value" do
    expect_events(": keep-alive\nfoo: bar\ndata\ndata\n\n", [["message", "\n", "", nil]])
  end

  it "removes exactly one leading space from a value" do
    expect_events("data:  two spaces\n\n", [["message", " two spaces", "", nil]])
  end

  it "dispatches nothing for an event without data, and forgets its type" do
    expect_events("event: ping\n\ndata: x\n\n", [["message", "x", "", nil]])
  end

  it "keeps the last event id across events and ignores an id containing NUL" do
    expect_events("id: 7\ndata: a\n\ndata: b\n\nid: 8\0\ndata: c\n\nid\ndata: d\n\n",
      [["message", "a", "7", nil], ["message", "b", "7", nil], ["message", "c", "7", nil], ["message", "d", "", nil]])
  end

  it "sets the reconnection time from digits only" do
    expect_events("retry: 3000\ndata: a\n\nretry: 1e3\ndata: b\n\n",
      [["message", "a", "", 3000], ["message", "b", "", 3000]])
  end

  it "discards an event the stream did not terminate" do
    expect_events("data: a\n\ndata: cut off\n", [["message", "a", "", nil]])
  end

  it "keeps NUL bytes in data, and replaces invalid UTF-8 with U+FFFD" do
    expect_events("data: a\0b\n\ndata: \xFF\n\n", [["message", "a\0b", "", nil], ["message", "\uFFFD", "", nil]])
  end

  it "returns UTF-8 strings" do
    event = described_class.new.feed("data: caf\xC3\xA9\n\n".b).first
    expect(event.data).to eq("café")
    expect(event.data.encoding).to eq(Encoding::UTF_8)
  end

  it "returns the events as an Array when no block is given" do
    expect(described_class.new.feed("data: 1\n\ndata: 2\n\n").map(&:data)).to eq(%w[1 2])
  end

  it "raises LimitError past max_event_bytes and stays failed" do
    parser = described_class.new(max_event_bytes: 64)
    expect { parser.feed("data: #{"x" * 100}") }.to raise_error(AssistantChatNative::SSE::LimitError, /64 bytes/)
    expect { parser.feed("\n\n") }.to raise_error(AssistantChatNative::SSE::Error)
  end

  it "bounds an event made of many small lines too" do
    parser = described_class.new(max_event_bytes: 1000)
    expect { 200.times { parser.feed("data: 0123456789\n") } }.to raise_error(AssistantChatNative::SSE::LimitError)
  end

  it "propagates an exception from the block and stays usable, handing out the events after it first" do
    parser = described_class.new
    expect { parser.feed("data: 1\n\ndata: 2\n\n") { raise ArgumentError, "boom" } }.to raise_error(ArgumentError, "boom")
    seen = []
    parser.feed("data: 3\n\n") { |event| seen << event.data }
    expect(seen).to eq(%w[2 3])
  end

  it "stays usable after a feed from inside its own block was refused" do
    parser = described_class.new
    expect { parser.feed("data: 1\n\n") { parser.feed("data: x\n\n") } }
      .to raise_error(AssistantChatNative::SSE::Error, /inside its own block/)
    expect(parser.feed("data: 2\n\n").map(&:data)).to eq(["2"])
  end

  it "counts the line, data, event type and id against one max_event_bytes" do
    parser = described_class.new(max_event_bytes: 1024)
    parser.feed("id: #{"i" * 200}\nevent: #{"t" * 200}\n")
    # Alone the data buffer could take about 1000 bytes; sharing, it gets what is left.
    expect { 9.times { parser.feed("data: #{"d" * 90}\n") } }.to raise_error(AssistantChatNative::SSE::LimitError)
  end

  it "refuses an event type over 256 bytes and ignores an id over 256 bytes" do
    parser = described_class.new
    events = parser.feed("id: a\nevent: #{"t" * 256}\ndata: 1\n\nid: #{"b" * 257}\ndata: 2\n\n")
    expect(events.map { |event| [event.type.bytesize, event.id] }).to eq([[256, "a"], [7, "a"]])
    expect { parser.feed("event: #{"t" * 257}\n") }.to raise_error(AssistantChatNative::SSE::Error, /longer than 256 bytes/)
  end

  it "rejects a non-positive bound" do
    expect { described_class.new(max_event_bytes: 0) }.to raise_error(ArgumentError)
  end
end
