# frozen_string_literal: true

module AssistantChatNative
  # Every error this gem raises is an AssistantChatNative::Error.
  class Error < StandardError; end

  # The C extension could not be loaded and the caller asked for something only it provides.
  class NativeUnavailable < Error; end

  # A value passed to the gem is not one it understands (unknown provider, model key, option).
  class ConfigurationError < Error; end
end
