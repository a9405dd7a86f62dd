# frozen_string_literal: true

module AssistantChatNative
  class Turn
    # The handler one Stream sees: it forwards to the turn's handler, with the text of the
    # earlier rounds in front of this round's, and notes whether any text reached the user
    # (a retry must then tell the handler to start the round over).
    class RoundHandler
      attr_reader :flushed

      def initialize(turn:, handler:, prefix:)
        @turn = turn
        @handler = handler
        @prefix = prefix
        @flushed = false
      end

      def on_text(accumulated, delta)
        @flushed = true
        @handler.on_text(@prefix + accumulated, delta) if @handler.respond_to?(:on_text)
        @turn.streamed(accumulated)
      end

      def on_thinking(accumulated, delta)
        @handler.on_thinking(accumulated, delta) if @handler.respond_to?(:on_thinking)
      end

      def on_tool_call(name, id)
        @handler.on_tool_call(name, id) if @handler.respond_to?(:on_tool_call)
      end

      def on_heartbeat(elapsed)
        @handler.on_heartbeat(elapsed) if @handler.respond_to?(:on_heartbeat)
      end

      def cancelled?
        @turn.cancelled?
      end
    end
  end
end
