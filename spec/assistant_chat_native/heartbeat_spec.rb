# frozen_string_literal: true

require "spec_helper"
require "logger"
require "stringio"

RSpec.describe AssistantChatNative::Heartbeat do
  it "beats every interval while the block runs, with the time elapsed, and stops with it" do
    beats = Queue.new
    heartbeat = described_class.new(interval: 0.05) { |elapsed| beats << elapsed }

    value = heartbeat.run {
      sleep 0.28
      :done
    }
    count = beats.size
    sleep 0.12

    expect(value).to eq(:done)
    expect(count).to be_between(3, 6)
    expect(beats.size).to eq(count)
    first = beats.pop
    expect(first).to be >= 0.05
  end

  it "keeps beating when a beat raises, and logs it redacted" do
    log = StringIO.new
    beats = 0
    heartbeat = described_class.new(interval: 0.03, logger: Logger.new(log)) do
      beats += 1
      raise "broadcast failed: api_key=sk-ant-api03-heartbeat-secret"
    end

    heartbeat.run { sleep 0.15 }

    expect(beats).to be >= 2
    expect(log.string).to include("heartbeat failed: RuntimeError: broadcast failed: api_key=[redacted]")
    expect(log.string).not_to include("heartbeat-secret")
  end

  it "lets the block's exception through and leaves no thread behind" do
    # Counted by name: other specs' threads (a queue's, a server's) may end meanwhile.
    beating = -> { Thread.list.count { |thread| thread.name == "acn-heartbeat" && thread.alive? } }
    before = beating.call
    expect { described_class.new(interval: 0.01) {}.run { raise ArgumentError, "tool broke" } }.to raise_error(ArgumentError, "tool broke")
    expect(beating.call).to eq(before)
  end
end
