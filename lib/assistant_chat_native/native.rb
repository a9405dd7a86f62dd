# frozen_string_literal: true

module AssistantChatNative
  # Loads the C extension unless ASSISTANT_CHAT_NATIVE_PURE=1 asks for plain Ruby.
  # When it cannot load, the gem still works through RubyStream, and says why once.
  module Native
    class << self
      attr_reader :load_error

      def loaded?
        @loaded
      end

      def load!
        @loaded = false
        if ENV["ASSISTANT_CHAT_NATIVE_PURE"] == "1"
          @load_error = "ASSISTANT_CHAT_NATIVE_PURE=1"
          return false
        end
        require "assistant_chat_native/assistant_chat_native"
        @loaded = true
      rescue LoadError => e
        @load_error = e.message
        warn "assistant_chat_native: C extension not loaded (#{e.message}); using RubyStream"
        false
      end
    end
  end

  Native.load!

  # True when the C extension is loaded and Stream runs off the GVL.
  def self.native?
    Native.loaded?
  end

  # The streaming class to use: Stream (libcurl, off the GVL) when the C extension
  # is loaded, RubyStream (plain Ruby, same API and Result) otherwise.
  def self.stream_class
    native? ? Stream : RubyStream
  end
end
