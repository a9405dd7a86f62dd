# frozen_string_literal: true

module AssistantChatNative
  # One tool call the model asked for. `arguments` is a Hash (empty arguments
  # arrive as {}). `server` is true for calls the provider runs itself (Anthropic's
  # server_tool_use): they are part of the transcript but not ours to execute.
  # `signature` is Gemini's thoughtSignature for the call, or nil: Gemini wants it
  # sent back beside the call in the next request.
  ToolCall = Struct.new(:id, :name, :arguments, :server, :signature, keyword_init: true) do
    def initialize(id:, name:, arguments: {}, server: false, signature: nil)
      super
    end

    def server?
      server ? true : false
    end
  end
end
