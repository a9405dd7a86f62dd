# frozen_string_literal: true

require "json"

module AssistantChatNative
  class RubyStream
    # What the three provider normalizers share: picking one by provider, parsing an
    # event's JSON, and the shape of a mid-stream error event.
    module Normalizer
      # The event's data is not the provider's JSON.
      class Malformed < StandardError; end

      def self.for(provider)
        case provider
        when :anthropic then AnthropicNormalizer.new
        when :openai then OpenAINormalizer.new
        when :gemini then GeminiNormalizer.new
        else raise ConfigurationError, "unknown provider #{provider.inspect}; use :anthropic, :openai or :gemini"
        end
      end

      def self.parse(data)
        payload = JSON.parse(data)
        raise Malformed, "an event's data is JSON but not an object" unless payload.is_a?(Hash)

        payload
      rescue JSON::ParserError
        raise Malformed, "an event's data is not JSON"
      end

      # error: the provider's error object (or a message String); raw: the whole payload.
      def self.error_event(error, raw)
        error = {"message" => error.to_s} unless error.is_a?(Hash)
        type = error["type"] || error["status"] || error["code"]
        {type: :error, error_type: type&.to_s, message: error["message"].to_s, raw: raw}
      end
    end
  end
end
