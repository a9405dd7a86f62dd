# frozen_string_literal: true

require "spec_helper"
require "assistant_chat_native/ruby_stream"

RSpec.describe AssistantChatNative::RubyStream::Inbox do
  subject(:inbox) { described_class.new(max_bytes: 10) }

  def monotonic
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  it "hands items out in order" do
    inbox.push([:chunk, "ab"])
    inbox.push([:end])

    expect(inbox.pop(1)).to eq([:chunk, "ab"])
    expect(inbox.pop(1)).to eq([:end])
  end

  it "returns nil from a pop when nothing comes within its timeout" do
    started = monotonic

    expect(inbox.pop(0.05)).to be_nil
    expect(monotonic - started).to be_between(0.04, 1)
  end

  it "wakes a waiting pop as soon as an item is pushed from another thread" do
    Thread.new { sleep 0.05; inbox.push([:chunk, "x"]) } # standard:disable Style/Semicolon
    started = monotonic

    expect(inbox.pop(5)).to eq([:chunk, "x"])
    expect(monotonic - started).to be < 1
  end

  it "holds a push while more than max_bytes are queued, until a pop makes room" do
    inbox.push([:chunk, "0123456789"])
    pusher = Thread.new { inbox.push([:chunk, "more"]) }

    expect(pusher.join(0.1)).to be_nil # still waiting
    inbox.pop(1)
    expect(pusher.join(1)&.value).to be(true)
    expect(inbox.pop(1)).to eq([:chunk, "more"])
  end

  it "refuses pushes once closed, releasing a waiting pusher" do
    inbox.push([:chunk, "0123456789"])
    pusher = Thread.new { inbox.push([:chunk, "more"]) }
    sleep 0.05
    inbox.close

    expect(pusher.join(1)&.value).to be(false)
    expect(inbox.push([:end])).to be(false)
  end

  it "wakes a waiting pop with a wake item" do
    Thread.new { sleep 0.05; inbox.wake } # standard:disable Style/Semicolon

    expect(inbox.pop(5)).to eq([:wake])
  end
end
