# frozen_string_literal: true

require "spec_helper"
require "assistant_chat_native/ruby_stream"

RSpec.describe AssistantChatNative::RubyStream::Throttle do
  subject(:throttle) { described_class.new(0.25) }

  it "flushes the first delta at once" do
    expect(throttle.flush?(:delta, 5.0)).to be(true)
  end

  it "holds later deltas until a whole interval has passed since the last flush" do
    throttle.flush?(:delta, 5.0)
    throttle.flushed(5.0)

    expect(throttle.flush?(:delta, 5.125)).to be(false)
    expect(throttle.flush?(:delta, 5.249)).to be(false)
    expect(throttle.flush?(:delta, 5.25)).to be(true)
  end

  it "flushes pending text at a block end, a tool call's start and the stream's end, whatever the time" do
    throttle.flush?(:delta, 5.0)
    throttle.flushed(5.0)

    %i[block_end tool_call stream_end].each do |reason|
      throttle.flush?(:delta, 5.01)
      expect(throttle.flush?(reason, 5.02)).to be(true), "expected #{reason} to flush"
      throttle.flushed(5.02)
    end
  end

  it "has nothing to flush at a block end when nothing is pending" do
    throttle.flush?(:delta, 5.0)
    throttle.flushed(5.0)

    expect(throttle.flush?(:block_end, 5.01)).to be(false)
    expect(throttle.flush?(:stream_end, 5.01)).to be(false)
  end

  it "flushes pending text on the timer once the interval passes, with no new delta" do
    throttle.flush?(:delta, 5.0)
    throttle.flushed(5.0)
    throttle.flush?(:delta, 5.02)

    expect(throttle.flush?(:timer, 5.125)).to be(false)
    expect(throttle.flush?(:timer, 5.25)).to be(true)
  end

  it "never fires the timer with nothing pending" do
    throttle.flush?(:delta, 5.0)
    throttle.flushed(5.0)

    expect(throttle.flush?(:timer, 9.0)).to be(false)
  end

  it "gives the poll loop the time pending text is due, or nil when nothing is pending" do
    expect(throttle.deadline).to be_nil
    throttle.flush?(:delta, 5.0)
    throttle.flushed(5.0)
    expect(throttle.deadline).to be_nil

    throttle.flush?(:delta, 5.03)
    expect(throttle.deadline).to be_within(1e-9).of(5.25)
  end

  it "flushes every delta when the interval is zero" do
    zero = described_class.new(0)
    3.times do |i|
      expect(zero.flush?(:delta, 5.0 + i * 0.001)).to be(true)
      zero.flushed(5.0 + i * 0.001)
    end
  end

  it "refuses an unknown reason" do
    expect { throttle.flush?(:whenever, 1.0) }.to raise_error(ArgumentError, /unknown flush reason/)
  end
end
