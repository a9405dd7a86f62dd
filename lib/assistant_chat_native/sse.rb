# frozen_string_literal: true

module AssistantChatNative
  # Server-sent events, parsed in C (AssistantChatNative::SSE::Parser) to the
  # WHATWG HTML standard's event stream interpretation rules.
  #
  #   parser = AssistantChatNative::SSE::Parser.new(max_event_bytes: 16 * 1024 * 1024)
  #   parser.feed(chunk) { |event| event.type; event.data; event.id; event.retry }
  #   parser.finish # an unterminated last event is discarded, as the standard says
  module SSE
    # One dispatched event: `type` ("message" unless the stream named one), `data`
    # (data lines joined with LF), `id` (the last event ID, "" when none was set),
    # `retry` (the reconnection time in milliseconds last set by the stream, or nil).
    Event = Struct.new(:type, :data, :id, :retry)

    class Error < AssistantChatNative::Error; end

    # A line or an event was larger than max_event_bytes. The parser is unusable
    # afterwards: start a new one for a new stream.
    class LimitError < Error; end
  end
end
