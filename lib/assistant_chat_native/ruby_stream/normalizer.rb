# frozen_string_literal: true

require "json"
require_relative "strict_json"

module AssistantChatNative
  class RubyStream
    # What the three provider normalizers share: picking one by provider, parsing an
    # event's JSON, and the shapes of the message start and of a mid-stream error.
    module Normalizer
      # The event's data is not the provider's JSON.
      class Malformed < StandardError; end

      # A block or tool-call index past MAX_INDEX: the reply is too large, as the C
      # decoder's bound says (a Stream reading it ends with failure too_large).
      class IndexTooLarge < SSEReader::TooLarge; end

      MAX_INDEX = 4096 # core/decode.h ACN_DECODER_MAX_BLOCKS: indexes 0...4096
      COUNTS = (-(2**63 - 1))..(2**63 - 1) # what the C decoder reads as an integer

      def self.for(provider)
        case provider
        when :anthropic then AnthropicNormalizer.new
        when :openai then OpenAINormalizer.new
        when :gemini then GeminiNormalizer.new
        else raise ConfigurationError, "unknown provider #{provider.inspect}; use :anthropic, :openai or :gemini"
        end
      end

      def self.parse(data)
        payload = StrictJSON.parse(data)
        raise Malformed, "an event's data is JSON but not an object" unless payload.is_a?(Hash)

        payload
      rescue JSON::ParserError
        raise Malformed, "an event's data is not JSON"
      end

      # A payload's block or tool-call index, checked as the C decoder checks it.
      def self.index(value, what)
        raise Malformed, "#{what}: the index is not an integer" unless value.is_a?(Integer)
        raise IndexTooLarge, "#{what}: index #{value} is outside 0..#{MAX_INDEX - 1}" unless value >= 0 && value < MAX_INDEX

        value
      end

      # A count (token usage, an index) as the C decoder reads it: absent or null is
      # nil; anything but an integer (12.0, 1e3, "12") makes the stream malformed.
      def self.count(value, what)
        return nil if value.nil?
        return value if value.is_a?(Integer) && COUNTS.cover?(value)

        raise Malformed, "#{what}: expected an integer, got #{value.inspect[0, 32]}"
      end

      # A token count: a count (see count) that is nil when negative, as the C
      # decoders treat a negative count as not sent.
      def self.token_count(value, what)
        value = count(value, what)
        (value.nil? || value.negative?) ? nil : value
      end

      # Two token counts added as the C decoder adds them: saturating at its largest.
      def self.token_sum(first, second)
        [first.to_i + second.to_i, COUNTS.max].min
      end

      # The message's id and model (Strings, else absent), or nil while both are
      # absent or empty: the message starts with the first payload that names it.
      def self.message_start(id, model)
        id = nil unless id.is_a?(String)
        model = nil unless model.is_a?(String)
        return nil if id.to_s.empty? && model.to_s.empty?

        {type: :message_start, id: id, model: model}
      end

      # error: the provider's error object (or a message String); raw: the whole
      # payload, which the classifier reads. type_keys: the error object's fields
      # that name its type, the first one present wins.
      def self.error_event(error, raw, type_keys:)
        error = {"message" => error.to_s} unless error.is_a?(Hash)
        type = type_keys.map { |key| error[key] }.find { |value| value.is_a?(String) || value.is_a?(Integer) }
        message = error["message"]
        {type: :error, error_type: type&.to_s, message: message.is_a?(String) ? message : "", raw: raw}
      end
    end
  end
end
