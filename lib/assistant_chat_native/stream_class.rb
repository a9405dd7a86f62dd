# frozen_string_literal: true

module AssistantChatNative
  # The streaming class to use: Stream (libcurl, off the GVL) when the C extension
  # is loaded, RubyStream (plain Ruby, same API and Result) otherwise.
  def self.stream_class
    native? ? Stream : RubyStream
  end
end
