# frozen_string_literal: true

module AssistantChatNative
  module Providers
    # OpenAI's Chat Completions API, streamed (https://platform.openai.com/docs/api-reference/chat-streaming).
    class OpenAI < Provider
      def name = :openai

      # The base URL carries the API version, as OpenAI-compatible gateways expect.
      def default_base_url = "https://api.openai.com/v1"

      def path(_model_id) = "/chat/completions"

      def headers(api_key)
        api_key ? {"authorization" => "Bearer #{api_key}"} : {}
      end

      def local_prefix = "/v1"

      def terminal_event = /^data:\s*\[DONE\]/
    end

    register OpenAI.new
  end
end
