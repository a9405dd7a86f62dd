# frozen_string_literal: true

require "json"
require_relative "limits"
require_relative "strict_json"

module AssistantChatNative
  class RubyStream
    # What the provider normalizers share. A normalizer reads one provider's SSE
    # events, as that provider documents them, and returns RubyStream's own events
    # (Hashes with a :type), which the Accumulator gathers into a Result:
    #
    #   message_start {id, model}      text_delta {text}        thinking_delta {index, text}
    #   signature_delta {index, text}  redacted_thinking {index, text}   block_end {index}
    #   tool_call_start {index, id, name, server, signature}  tool_args_delta {index, text}
    #   tool_call_end {index}   usage {input_tokens, output_tokens, cache_read_tokens, cache_write_tokens}
    #   stop {stop_reason, provider_stop_reason}   done   error {error_type, message, raw}
    module Normalizer
      # The event's data is not what the provider documents.
      class Malformed < StandardError; end

      # An index past Limits::MAX_INDEX: the reply is larger than its bounds.
      class IndexTooLarge < SSEReader::TooLarge; end

      # A new normalizer for one stream of the provider (each lives in providers/<name>/normalizer.rb).
      def self.for(provider)
        Providers.fetch(provider).normalizer
      end

      # An event's data as a JSON object. JSON is UTF-8 (RFC 8259, 8.1): other bytes
      # would reach the page and the database.
      def self.parse(data)
        raise Malformed, "an event's data is not UTF-8" unless data.valid_encoding?

        payload = StrictJSON.parse(data)
        raise Malformed, "an event's data is JSON but not an object" unless payload.is_a?(Hash)

        payload
      rescue JSON::ParserError
        raise Malformed, "an event's data is not JSON"
      end

      def self.index(value, what)
        raise Malformed, "#{what}: the index is not an integer" unless value.is_a?(Integer)
        unless value >= 0 && value < Limits::MAX_INDEX
          raise IndexTooLarge, "#{what}: index #{value} is outside 0..#{Limits::MAX_INDEX - 1}"
        end

        value
      end

      # A token count: the providers document integers. Absent, null or negative is
      # not sent; anything else but an integer up to Limits::MAX_COUNT means the
      # stream is not what was documented.
      def self.count(value, what)
        return nil if value.nil?
        unless value.is_a?(Integer) && value <= Limits::MAX_COUNT
          raise Malformed, "#{what}: expected an integer count, got #{value.inspect[0, 32]}"
        end

        value.negative? ? nil : value
      end

      # Counts added, saturating at Limits::MAX_COUNT; nil when neither was sent.
      def self.sum(*counts)
        counts.compact.empty? ? nil : [counts.sum(&:to_i), Limits::MAX_COUNT].min
      end

      # A usage event from a Hash of event keys to counts; nil when none was sent.
      def self.usage(counts)
        counts = counts.compact
        counts.empty? ? nil : {type: :usage, **counts}
      end

      # The non-empty String, or nil.
      def self.text(value)
        (value.is_a?(String) && !value.empty?) ? value : nil
      end

      # The reply's id and model; nil until one of them is a non-empty String.
      def self.message_start(id, model)
        id = text(id)
        model = text(model)
        (id || model) ? {type: :message_start, id: id, model: model} : nil
      end

      # error: the provider's error object (or its words); raw: the whole payload,
      # which the classifier reads; type_keys: the object's fields naming its type.
      def self.error_event(error, raw, type_keys:)
        error = {"message" => error.to_s} unless error.is_a?(Hash)
        type = error.values_at(*type_keys).find { |value| value.is_a?(String) || value.is_a?(Integer) }
        {type: :error, error_type: type&.to_s, message: text(error["message"]) || "", raw: raw}
      end
    end
  end
end
