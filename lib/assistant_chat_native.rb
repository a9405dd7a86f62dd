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
  # Loaded on first use, so a plain `require "assistant_chat_native"` stays cheap
  # and needs neither Sidekiq nor ActiveRecord.
  autoload :Stream, "assistant_chat_native/stream"
  autoload :RubyStream, "assistant_chat_native/ruby_stream"
  autoload :LocalProvider, "assistant_chat_native/local_provider"
  autoload :Configuration, "assistant_chat_native/configuration"
  autoload :ModelRegistry, "assistant_chat_native/model_registry"
  autoload :Tool, "assistant_chat_native/tool"
  autoload :Turn, "assistant_chat_native/turn"
  autoload :Outcome, "assistant_chat_native/outcome"
  autoload :Worker, "assistant_chat_native/worker"
  autoload :Broadcaster, "assistant_chat_native/broadcaster"
  autoload :ProcessingLock, "assistant_chat_native/processing_lock"
end
