# frozen_string_literal: true

require "json"

module AssistantChatNative
  class RubyStream
    # Turns Anthropic Messages API stream events into normalized events (the model of
    # core/event.h, as Hashes with symbol keys), by core/decode_anthropic.c's rules.
    # The payload's own "type" wins over the SSE event name, which counts when the
    # payload has none; events of unknown names are ignored without being parsed, as
    # the API's versioning policy asks. An `error` event is an error whatever its data
    # (a proxy's plain text too). Block kinds are remembered by index so a
    # content_block_stop ends a tool call or a text/thinking block as it should.
    class AnthropicNormalizer
      KNOWN_EVENTS = %w[message message_start content_block_start content_block_delta content_block_stop
        message_delta message_stop ping error].freeze
      SERVER_TOOL_BLOCKS = %w[server_tool_use mcp_tool_use].freeze
      TOOL_BLOCKS = (["tool_use"] + SERVER_TOOL_BLOCKS).freeze

      def initialize
        @blocks = {}
        @started = false
      end

      # type: the SSE event type; data: its payload. Returns an Array of events.
      def call(type, data)
        return [] if data.empty? || !KNOWN_EVENTS.include?(type)
        return error(data) if type == "error"

        payload = Normalizer.parse(data)
        dispatch(payload["type"].is_a?(String) ? payload["type"] : type, payload, data)
      end

      private

      def error(data)
        payload = Normalizer.parse(data)
        event_type = payload["type"].is_a?(String) ? payload["type"] : "error"
        dispatch(event_type, payload, data)
      rescue Normalizer::Malformed
        [Normalizer.error_event(data, data, type_keys: [])]
      end

      def dispatch(type, payload, data)
        Normalizer.count(payload["index"], "a #{type} event's index")
        case type
        when "message_start" then message_start(hash(payload["message"]))
        when "content_block_start" then block_start(index(payload, type), hash(payload["content_block"]))
        when "content_block_delta" then block_delta(index(payload, type), hash(payload["delta"]))
        when "content_block_stop" then block_stop(index(payload, type))
        when "message_delta" then message_delta(payload)
        when "message_stop" then [{type: :done}]
        when "ping" then [{type: :ping}]
        when "error" then [Normalizer.error_event(hash(payload["error"]), data, type_keys: %w[type])]
        else []
        end
      end

      def hash(value)
        value.is_a?(Hash) ? value : {}
      end

      def index(payload, type)
        index = payload["index"]
        raise Normalizer::Malformed, "#{type} event without an index" if index.nil?

        Normalizer.index(index, "a #{type} event")
      end

      def message_start(message)
        events = []
        unless @started
          start = Normalizer.message_start(message["id"], message["model"])
          @started = !start.nil?
          events << start if start
        end
        events << usage(message["usage"])
        events.compact
      end

      def block_start(index, block)
        type = block["type"]
        case type
        when "text"
          @blocks[index] = :text
          text(:text_delta, index, block["text"])
        when "thinking"
          @blocks[index] = :thinking
          text(:thinking_delta, index, block["thinking"]) + text(:signature_delta, index, block["signature"])
        when "redacted_thinking"
          @blocks[index] = :redacted
          [{type: :redacted_thinking, index: index, text: string(block["data"])}]
        when *TOOL_BLOCKS
          @blocks[index] = :tool
          tool_start(index, block)
        else
          @blocks.delete(index) # results and future kinds: not ours
          []
        end
      end

      def tool_start(index, block)
        events = [{type: :tool_call_start, index: index, id: string(block["id"]), name: string(block["name"]),
                   server: SERVER_TOOL_BLOCKS.include?(block["type"])}]
        # The input arrives as input_json_delta fragments after an empty "input": {}; an
        # input given whole at the start is passed on as one fragment.
        input = block["input"]
        if (input.is_a?(Hash) && !input.empty?) || input.is_a?(Array)
          events << {type: :tool_args_delta, index: index, text: JSON.generate(input)}
        end
        events
      end

      def block_delta(index, delta)
        case delta["type"]
        when "text_delta" then text(:text_delta, index, delta["text"])
        when "thinking_delta" then text(:thinking_delta, index, delta["thinking"])
        when "signature_delta" then text(:signature_delta, index, delta["signature"])
        when "input_json_delta" then text(:tool_args_delta, index, delta["partial_json"])
        when "citations_delta"
          citation = delta["citation"]
          (citation.is_a?(Hash) || citation.is_a?(Array)) ? [{type: :citation, index: index, text: JSON.generate(citation)}] : []
        else []
        end
      end

      def text(type, index, value)
        (value.is_a?(String) && !value.empty?) ? [{type: type, index: index, text: value}] : []
      end

      def string(value)
        value.is_a?(String) ? value : ""
      end

      def block_stop(index)
        case @blocks[index]
        when :text, :thinking, :redacted then [{type: :block_end, index: index}]
        when :tool
          @blocks[index] = :tool_done
          [{type: :tool_call_end, index: index}]
        else []
        end
      end

      def message_delta(payload)
        events = [usage(payload["usage"])]
        reason = payload.dig("delta", "stop_reason") if payload["delta"].is_a?(Hash)
        events << {type: :stop, stop_reason: stop_reason(reason), provider_stop_reason: reason} if reason.is_a?(String)
        events.compact
      end

      USAGE = {"input_tokens" => :input_tokens, "output_tokens" => :output_tokens,
               "cache_read_input_tokens" => :cache_read_tokens,
               "cache_creation_input_tokens" => :cache_write_tokens}.freeze

      def usage(usage)
        return nil unless usage.is_a?(Hash)

        event = {type: :usage}
        USAGE.each do |field, key|
          value = Normalizer.token_count(usage[field], "usage.#{field}")
          event[key] = value unless value.nil?
        end
        (event.size > 1) ? event : nil
      end

      def stop_reason(reason)
        case reason
        when "end_turn", "tool_use", "max_tokens", "stop_sequence", "refusal", "pause_turn" then reason.to_sym
        when "model_context_window_exceeded" then :max_tokens
        else :end_turn
        end
      end
    end
  end
end
