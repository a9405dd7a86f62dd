# frozen_string_literal: true

require "spec_helper"
require "assistant_chat_native/ruby_stream"

# Each provider's recorded streams, read by the event_stream_parser gem and turned
# into normalized events and a Result by RubyStream's normalizers and accumulator,
# give exactly the Result the fixture expects, however the bytes are split.
RSpec.describe "RubyStream normalizers on the recorded provider streams" do
  def decode(provider, chunks)
    reader = AssistantChatNative::RubyStream::SSEReader.new(max_event_bytes: 16 * 1024 * 1024)
    normalizer = AssistantChatNative::RubyStream::Normalizer.for(provider)
    accumulator = AssistantChatNative::RubyStream::Accumulator.new(max_reply_bytes: 64 * 1024 * 1024,
      thinking_blocks: provider == :anthropic)
    problem = nil
    chunks.each do |chunk|
      reader.feed(chunk) do |type, data|
        normalizer.call(type, data).each { |event| accumulator.apply(event) }
      end
    rescue AssistantChatNative::RubyStream::Normalizer::Malformed
      problem = :malformed
      break
    end
    failures = AssistantChatNative::RubyStream::FailureBuilder.new(provider: provider)
    failure = accumulator.finish(failures: failures, decoder_problem: problem, streamed: !accumulator.text.empty?)
    accumulator.result(failure: failure, stats: {})
  end

  FixtureStreams.all.each do |provider, name, sse, expected_path|
    describe "#{provider}/#{name}" do
      FixtureStreams.chunkings(File.binread(sse)).each do |label, chunks|
        it "gives the expected Result when read #{label}" do
          expected = FixtureStreams.expected(expected_path)
          result = decode(provider, chunks)
          expect(FixtureStreams.as_expected(result, expected)).to eq(expected)
        end
      end
    end
  end
end
