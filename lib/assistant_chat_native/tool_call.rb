# frozen_string_literal: true

module AssistantChatNative
  # One tool call the model asked for. `arguments` is a Hash (empty arguments
  # arrive as {}). `server` is true for calls the provider runs itself (Anthropic's
  # server_tool_use): they are part of the transcript but not ours to execute.
  ToolCall = Struct.new(:id, :name, :arguments, :server, keyword_init: true) do
    def initialize(id:, name:, arguments: {}, server: false)
      super
    end

    def server?
      server ? true : false
    end
  end
end
