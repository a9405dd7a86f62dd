# frozen_string_literal: true

require "uri"

module AssistantChatNative
  module Providers
    # Gemini's streamGenerateContent with alt=sse (https://ai.google.dev/api/generate-content).
    class Gemini < Provider
      # The paths LocalProvider answers: the model is in the path, the method after a colon.
      LOCAL_PATH = %r{\A/v1(?:beta|alpha)?/models/([^/:]+):(?:streamGenerateContent|generateContent)\z}

      def name = :gemini

      def default_base_url = "https://generativelanguage.googleapis.com"

      def path(model_id) = "/v1beta/models/#{model_id}:streamGenerateContent?alt=sse"

      def headers(api_key)
        api_key ? {"x-goog-api-key" => api_key} : {}
      end

      def answers?(path) = LOCAL_PATH.match?(path)

      def model_in(path)
        match = LOCAL_PATH.match(path)
        match && URI.decode_www_form_component(match[1])
      end

      # Gemini asks for a stream by the method in the path, not in the body.
      def streaming?(path:, **) = path.end_with?(":streamGenerateContent")

      def terminal_event = /"finishReason"|"blockReason"/

      # usageMetadata.promptTokenCount includes cachedContentTokenCount.
      def cached_input_included? = true
    end

    register Gemini.new
  end
end
