# frozen_string_literal: true

require "spec_helper"
require "objspace"
require "tmpdir"

# Hostile streams against the stream's memory budget (max_event_bytes, 16 MiB by
# default, shared by every event-level buffer) and the reply bound: each ends as a
# classified failure, or is ignored where the SSE standard allows, the C side never
# holds more than the two bounds, and the next stream works. Run as Sidekiq runs a
# job: in a thread with Ruby's default stack.
module StreamMemorySpec
  MIB = 1024 * 1024
  # The event budget plus the reply bound (8 MiB) with its buffers at most doubled.
  C_BOUND = 16 * MIB + 2 * 8 * MIB + MIB

  # Counts flushes and samples what the stream object reports holding; keeps no
  # text (each flush hands out the whole reply so far).
  class SizeSampler
    attr_reader :sizes, :flushes
    attr_writer :stream

    def initialize
      @sizes = []
      @flushes = 0
    end

    def on_text(_accumulated, _delta)
      @flushes += 1
      @sizes << ObjectSpace.memsize_of(@stream) if @stream
    end
  end
end

RSpec.describe "Hostile streams and the per-stream memory budget" do
  include StreamHelpers

  # Sends `bytes` as the whole response body (a 200 event stream).
  def serve_raw(bytes)
    path = File.join(@dir, "stream-#{@served = (@served || 0) + 1}.sse")
    File.binwrite(path, bytes)
    local_provider.enqueue(replay: path)
  end

  around do |example|
    Dir.mktmpdir("acn-hostile") do |dir|
      @dir = dir
      example.run
    end
  end

  def run_stream(klass, **options)
    HostileInput.in_worker_thread do
      stream = build_stream(klass: klass, **options)
      handler = StreamMemorySpec::SizeSampler.new
      handler.stream = stream if klass == AssistantChatNative::Stream
      result = stream.run(handler)
      [result, handler]
    end
  end

  def expect_a_normal_stream_afterwards(klass)
    local_provider.enqueue(text: "Still fine.")
    result, = run_stream(klass)
    expect(result.failure).to be_nil
    expect(result.text).to eq("Still fine.")
  end

  def expect_classified(result, kind = :malformed_stream)
    expect(result.failure).not_to be_nil, "expected a #{kind} failure, got a whole reply"
    expect(result.failure.kind).to eq(kind), "got #{result.failure.kind}: #{result.failure.detail}"
  end

  def message_start
    %(event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message",) +
      %("role":"assistant","model":"claude-local","content":[],"stop_reason":null,) +
      %("usage":{"input_tokens":1,"output_tokens":1}}}\n\n)
  end

  def text_delta(text)
    %(event: content_block_delta\ndata: {"type":"content_block_delta","index":0,) +
      %("delta":{"type":"text_delta","text":#{JSON.generate(text)}}}\n\n)
  end

  def block_start
    %(event: content_block_start\ndata: {"type":"content_block_start","index":0,) +
      %("content_block":{"type":"text","text":""}}\n\n)
  end

  def message_end
    %(event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n) +
      %(event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn",) +
      %("stop_sequence":null},"usage":{"output_tokens":2}}\n\n) +
      %(event: message_stop\ndata: {"type":"message_stop"}\n\n)
  end

  classes = [AssistantChatNative::RubyStream]
  classes.unshift(AssistantChatNative::Stream) if AssistantChatNative.native?

  classes.each do |klass|
    describe klass.name do
      it "fails an event: line of 20 MiB as a malformed stream" do
        serve_raw("event: #{"e" * (20 * StreamMemorySpec::MIB)}\ndata: {}\n\n")
        result, = run_stream(klass)
        expect_classified(result)
        expect_a_normal_stream_afterwards(klass)
      end

      it "fails an event type over 256 bytes as a malformed stream" do
        serve_raw(message_start + "event: #{"e" * 257}\ndata: {}\n\n" + message_end)
        result, = run_stream(klass)
        expect_classified(result)
        expect_a_normal_stream_afterwards(klass)
      end

      it "fails an id: line of 20 MiB as a malformed stream" do
        serve_raw(message_start + "id: #{"i" * (20 * StreamMemorySpec::MIB)}\n" + block_start + message_end)
        result, = run_stream(klass)
        expect_classified(result)
        expect_a_normal_stream_afterwards(klass)
      end

      it "ignores ids over 256 bytes, however many, and streams the reply" do
        ids = Array.new(20_000) { |i| "id: #{i.to_s.rjust(300, "0")}\n" }.join
        serve_raw(message_start + ids + block_start + text_delta("Hello") + ids + message_end)
        result, = run_stream(klass)
        expect(result.failure).to be_nil
        expect(result.text).to eq("Hello")
      end

      it "fails an endless data line without a newline as a malformed stream" do
        serve_raw(message_start + block_start + "data: " + ("d" * (24 * StreamMemorySpec::MIB)))
        result, = run_stream(klass)
        expect_classified(result)
        expect_a_normal_stream_afterwards(klass)
      end

      it "fails many events with big decoded strings once the reply passes its bound" do
        piece = "\\u00e9" * 1024 + "x" * 4096 # 5 KiB of text from 10 KiB of JSON per event
        event = %(event: content_block_delta\ndata: {"type":"content_block_delta","index":0,) +
          %("delta":{"type":"text_delta","text":"#{piece}"}}\n\n)
        serve_raw(message_start + block_start + event * 4000 + message_end)
        result, handler = run_stream(klass)
        expect_classified(result)
        expect(result.failure.detail).to match(/larger than its bound/)
        expect(result.failure).not_to be_retryable
        if klass == AssistantChatNative::Stream
          expect(handler.sizes).not_to be_empty
          expect(handler.sizes).to all(be < StreamMemorySpec::C_BOUND)
        end
        expect_a_normal_stream_afterwards(klass)
      end

      it "keeps at most max_error_body of an error body of 40 MiB and classifies it" do
        local_provider.enqueue(status: 500, body: "x" * (40 * StreamMemorySpec::MIB))
        result, = run_stream(klass)
        expect_classified(result, :server_error)
        expect_a_normal_stream_afterwards(klass)
      end
    end
  end

  describe "ObjectSpace.memsize_of(stream) from another thread", if: AssistantChatNative.native? do
    it "gives sane numbers while a fast stream reallocates its buffers, and no crash" do
      local_provider.enqueue(text: "word " * 20_000, token_rate: nil)
      stream = build_stream(broadcast_interval: 0)
      sizes = []
      running = true
      sampler = Thread.new do
        while running
          sizes << ObjectSpace.memsize_of(stream)
          Thread.pass
        end
      end
      result = HostileInput.in_worker_thread { stream.run(StreamMemorySpec::SizeSampler.new) }
      running = false
      sampler.join

      expect(result.failure).to be_nil
      expect(result.text.bytesize).to eq(5 * 20_000)
      expect(sizes).not_to be_empty
      expect(sizes).to all(be_a(Integer).and(be > 0).and(be < StreamMemorySpec::C_BOUND))
      # While running it counts the transfer, which holds at least the reply so far.
      expect(sizes.max).to be > ObjectSpace.memsize_of(stream)
    end
  end
end
