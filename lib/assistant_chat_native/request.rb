# frozen_string_literal: true

require_relative "providers"
require_relative "request/history"

module AssistantChatNative
  # Builds each provider's streaming request body from the normalized history.
  #
  # Normalized messages are Hashes with symbol or string keys:
  #   {role: "user" | "assistant", content: String | [part, ...]}
  # with parts
  #   {type: "text", text:}
  #   {type: "image" | "document", path: | data: (base64), media_type:, name: (optional)}
  #   {type: "tool_call", id:, name:, arguments: Hash, signature: (Gemini thoughtSignature, optional)}
  #   {type: "tool_result", tool_call_id:, content:, is_error:}     (user)
  #   {type: "thinking", thinking:, signature:, id: (a Responses reasoning item's, optional)},
  #   {type: "redacted_thinking", data:}  (assistant)
  module Request
    # => Hash, the JSON body for entry's provider.
    def self.build(entry, system:, messages:, tools: [])
      Providers.fetch(entry.dialect).request_builder.new(entry).build(system: system, messages: messages, tools: tools)
    end
  end
end

# Each provider's builder (Providers::Anthropic::RequestBuilder, ...), from its folder.
AssistantChatNative::Providers.load_part("request_builder", into: AssistantChatNative::Request, old_name: "%s")
