# frozen_string_literal: true

# The app's broadcasts for the chat: lock state and errors on the conversation's
# Action Cable stream, in the app's own format ({"event" => "assistant_chat.*"}).
module AssistantChat
  module Broadcaster
    STATUS_BROADCAST_INTERVAL = 0.5
    TOOLS_WITH_SUMMARIES = %w[query_database].freeze
    TOOL_DISPLAY_NAMES = {"query_database" => "Looking through the sales data"}.freeze
    TOOL_PREFIXES = %w[app_db__].freeze

    def broadcast_lock_state(locked:)
      ActionCable.server.broadcast(chat_stream, {"event" => "assistant_chat.lock_state", "locked" => locked})
    end

    def broadcast_error(message)
      ActionCable.server.broadcast(chat_stream, {"event" => "assistant_chat.error", "message" => message.to_s})
    end

    private

    def chat_stream
      @conversation ? @conversation.chat_stream : "assistant_chat:#{@conversation_id}"
    end
  end
end
