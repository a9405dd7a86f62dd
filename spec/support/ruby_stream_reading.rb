# frozen_string_literal: true

require "assistant_chat_native/ruby_stream"

# RubyStream's reading of a stream's bytes, without the network: the SSE reader,
# the provider's normalizer and the accumulator, as RubyStream::Run drives them.
module RubyStreamReading
  module_function

  # chunks: the bytes as they arrive. Returns the Result.
  def decode(provider, chunks, max_reply_bytes: 64 * 1024 * 1024)
    reader = AssistantChatNative::RubyStream::SSEReader.new(max_event_bytes: 16 * 1024 * 1024)
    normalizer = AssistantChatNative::RubyStream::Normalizer.for(provider)
    accumulator = AssistantChatNative::RubyStream::Accumulator.new(max_reply_bytes: max_reply_bytes,
      thinking_blocks: AssistantChatNative::Providers.fetch(provider).keeps_thinking_blocks?)
    problem = nil
    chunks.each do |chunk|
      reader.feed(chunk) { |type, data| normalizer.call(type, data).each { |event| accumulator.apply(event) } }
    rescue AssistantChatNative::RubyStream::SSEReader::TooLarge
      problem = :too_large
      break
    rescue AssistantChatNative::RubyStream::SSEReader::Malformed, AssistantChatNative::RubyStream::Normalizer::Malformed
      problem = :malformed
      break
    end
    # The body ended cleanly: the normalizer may take that as the reply's end.
    normalizer.close.each { |event| accumulator.apply(event) } if problem.nil? && normalizer.respond_to?(:close)
    failures = AssistantChatNative::RubyStream::FailureBuilder.new(provider: provider)
    failure = accumulator.finish(failures: failures, decoder_problem: problem, streamed: !accumulator.text.empty?)
    accumulator.result(failure: failure, stats: {})
  end
end
