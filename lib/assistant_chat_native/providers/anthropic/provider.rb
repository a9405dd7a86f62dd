# frozen_string_literal: true

module AssistantChatNative
  module Providers
    # Anthropic's Messages API (https://docs.anthropic.com/en/api/messages-streaming).
    class Anthropic < Provider
      # The API version every request names (the anthropic-version header).
      API_VERSION = "2023-06-01"

      def name = :anthropic

      def default_base_url = "https://api.anthropic.com"

      def path(_model_id) = "/v1/messages"

      def headers(api_key)
        headers = {}
        headers["x-api-key"] = api_key if api_key
        headers["anthropic-version"] = API_VERSION
        headers
      end

      # The Messages API requires max_tokens.
      def default_max_tokens = 8192

      # usage.input_tokens counts only what was neither read from nor written to the cache
      # (cache_read_input_tokens and cache_creation_input_tokens come on top).
      def cached_input_included? = false

      def keeps_thinking_blocks? = true

      def terminal_event = /^event:\s*message_stop|"type"\s*:\s*"message_stop"/
    end

    register Anthropic.new
  end
end
