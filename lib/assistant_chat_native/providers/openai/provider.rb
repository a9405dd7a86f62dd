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

      # The dialect of each api: option; Responses (OpenAIResponses) for OpenAI's own endpoint,
      # Chat Completions for a model registered with a base_url: of its own, which is taken for
      # an OpenAI-compatible server (vLLM, Ollama, gateways) that speaks only Chat Completions.
      APIS = {responses: :openai_responses, chat_completions: :openai}.freeze

      def dialect_for(api, custom_base_url: false)
        api ||= custom_base_url ? :chat_completions : :responses
        APIS.fetch(api.to_sym) do
          raise ConfigurationError, "unknown OpenAI api #{api.inspect}; use :responses or :chat_completions"
        end
      end

      def terminal_event = /^data:\s*\[DONE\]/
    end

    register OpenAI.new
  end
end
