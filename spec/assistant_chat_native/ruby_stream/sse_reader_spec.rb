# frozen_string_literal: true

require "spec_helper"
require "assistant_chat_native/ruby_stream"

# The WHATWG event stream rules as the event_stream_parser gem applies them, with
# what RubyStream adds: binary-safe reads, the BOM, and the bound on an event.
RSpec.describe AssistantChatNative::RubyStream::SSEReader do
  def events(chunks, max_event_bytes: 1024)
    reader = described_class.new(max_event_bytes: max_event_bytes)
    seen = []
    chunks.each { |chunk| reader.feed(chunk) { |type, data| seen << [type, data] } }
    seen
  end

  it "reads LF, CR and CRLF line ends, even when a CRLF is split between reads" do
    stream = "event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\rdata: 3\n\n"
    expected = [%w[a 1], %w[b 2], ["message", "3"]]

    expect(events([stream])).to eq(expected)
    expect(events(stream.chars)).to eq(expected)
    expect(events(["event: a\r", "\ndata: 1\r", "\n\r", "\nevent: b\rdata: 2\r\rdata: 3\n\n"])).to eq(expected)
  end

  # The gem alone would drop any one whitespace character after the colon.
  it "drops only a space after the colon: a form feed, vertical tab or tab there is data" do
    expect(events(["data:\fa\n\ndata:\tb\ndata:\vc\n\nevent:\fping\ndata: d\n\n"]))
      .to eq([["message", "\fa"], ["message", "\tb\n\vc"], ["\fping", "d"]])
  end

  it "reads a form feed inside a line as data, not as a line end" do
    expect(events(["data: a\fdata: b\n\n"])).to eq([["message", "a\fdata: b"]])
  end

  it "joins data lines with LF, defaults the type to message and ignores comments" do
    expect(events([": keep-alive\ndata: one\ndata: two\n\n"])).to eq([["message", "one\ntwo"]])
  end

  it "strips one leading byte order mark, even when it is split between reads" do
    bom = "\xEF\xBB\xBF".b
    stream = bom + "event: ping\ndata: {}\n\n".b

    expect(events([stream])).to eq([%w[ping {}]])
    expect(events(stream.each_char.to_a)).to eq([%w[ping {}]])
  end

  it "hands out UTF-8 data whole when a character is split between reads" do
    stream = "data: h\xC3\xA9 \xF0\x9F\x98\x80\n\n".b
    data = events(stream.each_char.to_a).first[1]

    expect(data).to eq("hé 😀")
    expect(data.encoding).to eq(Encoding::UTF_8)
  end

  it "discards an event the stream ends in the middle of" do
    expect(events(["data: whole\n\ndata: cut"])).to eq([%w[message whole]])
  end

  it "refuses an event over max_event_bytes, however it arrives" do
    long = "data: #{"x" * 2000}\n\n"

    expect { events([long]) }.to raise_error(described_class::TooLarge)
    expect { events(long.scan(/.{1,100}/m)) }.to raise_error(described_class::TooLarge)
    many_lines = Array.new(40) { "data: #{"y" * 50}\n" }
    expect { events(many_lines) }.to raise_error(described_class::TooLarge)
  end
end
