# frozen_string_literal: true

require_relative "assistant_chat_native/version"
require_relative "assistant_chat_native/error"
require_relative "assistant_chat_native/failure"
require_relative "assistant_chat_native/tool_call"
require_relative "assistant_chat_native/result"
require_relative "assistant_chat_native/native"

# Streams LLM replies for assistant chats in C, off the GVL, behind a drop-in
# Sidekiq worker. See README.md for the public API.
module AssistantChatNative
end
