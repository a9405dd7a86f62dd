# frozen_string_literal: true

module AssistantChatNative
  module Providers
    # OpenAI's Responses API, streamed (https://platform.openai.com/docs/api-reference/responses-streaming):
    # the second dialect of OpenAI, beside Chat Completions. It is a provider of its own on the
    # wire (its C dialect, builder, normalizer and writer), while a model registered with
    # provider: :openai picks it with api: :responses (OpenAI#dialect_for); the key and base
    # URL are OpenAI's.
    class OpenAIResponses < Provider
      def name = :openai_responses

      def api_key_variable = "OPENAI_API_KEY"
      def base_url_variable = "OPENAI_BASE_URL"

      def default_base_url = "https://api.openai.com/v1"

      def path(_model_id) = "/responses"

      def headers(api_key)
        api_key ? {"authorization" => "Bearer #{api_key}"} : {}
      end

      def local_prefix = "/v1"

      # Responses sends its reasoning items back with their encrypted content.
      def keeps_thinking_blocks? = true

      def terminal_event = /^event:\s*(?:response\.(?:completed|incomplete|failed)|error)\s*$|"type"\s*:\s*"response\.(?:completed|incomplete|failed)"/
    end

    register OpenAIResponses.new
  end
end
