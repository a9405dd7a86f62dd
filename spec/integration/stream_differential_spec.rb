# frozen_string_literal: true

require "spec_helper"

# Every recorded provider stream, served by LocalProvider whole, in network-sized
# writes and one byte per write, must give the same Result from the C Stream as
# from the plain-Ruby RubyStream, and the Result recorded beside the fixture.
RSpec.describe "Stream against RubyStream on every recorded stream", if: AssistantChatNative.native? do
  include StreamHelpers

  {"whole" => :whole, "in network-sized writes" => 1400, "one byte per write" => 1}.each do |label, chunk_size|
    FixtureStreams.all.each do |provider, name, sse, expected_path|
      it "gives #{provider}/#{name}'s expected Result, equal to RubyStream's, when sent #{label}" do
        expected = FixtureStreams.expected(expected_path)

        local_provider.enqueue(replay: sse, chunk_size: chunk_size)
        native = build_stream(provider: provider).run(StreamHelpers::RecordingHandler.new)
        local_provider.enqueue(replay: sse, chunk_size: chunk_size)
        plain = build_stream(klass: AssistantChatNative::RubyStream, provider: provider)
          .run(StreamHelpers::RecordingHandler.new)

        expect(FixtureStreams.as_expected(native, expected)).to eq(expected)
        expect(FixtureStreams.result_hash(native)).to eq(FixtureStreams.result_hash(plain))
        expect(native.stats[:status]).to eq(200)
      end
    end
  end

  it "hands the handler the same text, in the same order, as RubyStream" do
    sse = FixtureStreams.all.find { |provider, name, *| provider == :anthropic && name == "text" }[2]
    handlers = [AssistantChatNative::Stream, AssistantChatNative::RubyStream].map do |klass|
      local_provider.enqueue(replay: sse, chunk_size: 7)
      StreamHelpers::RecordingHandler.new.tap do |handler|
        build_stream(klass: klass, broadcast_interval: 0).run(handler)
      end
    end

    expect(handlers[0].texts.last.first).to eq(handlers[1].texts.last.first)
    expect(handlers[0].texts.map(&:last).join).to eq(handlers[1].texts.map(&:last).join)
  end
end
