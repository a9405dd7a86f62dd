# frozen_string_literal: true

module AssistantChatNative
  VERSION = "0.1.0"
end
