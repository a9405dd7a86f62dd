# frozen_string_literal: true

require "json"

module AssistantChatNative
  class RubyStream
    # Turns Anthropic Messages API stream events into normalized events (the model of
    # core/event.h, as Hashes with symbol keys). Block types are remembered by index
    # so a content_block_stop ends a tool call or a text/thinking block as it should.
    # Unknown event and block types are ignored, as the API's versioning policy asks.
    class AnthropicNormalizer
      TOOL_BLOCKS = %w[tool_use server_tool_use].freeze

      def initialize
        @blocks = {}
      end

      # type: the SSE event type; data: its JSON payload. Returns an Array of events.
      def call(_type, data)
        payload = Normalizer.parse(data)
        case payload["type"]
        when "message_start" then message_start(payload["message"] || {})
        when "content_block_start" then block_start(payload["index"], payload["content_block"] || {})
        when "content_block_delta" then block_delta(payload["index"], payload["delta"] || {})
        when "content_block_stop" then block_stop(payload["index"])
        when "message_delta" then message_delta(payload)
        when "message_stop" then [{type: :done}]
        when "ping" then [{type: :ping}]
        when "error" then [Normalizer.error_event(payload["error"], data)]
        else []
        end
      end

      private

      def message_start(message)
        [{type: :message_start, id: message["id"], model: message["model"]}, usage(message["usage"])].compact
      end

      def block_start(index, block)
        @blocks[index] = block["type"]
        case block["type"]
        when "text"
          text = block["text"].to_s
          text.empty? ? [] : [{type: :text_delta, index: index, text: text}]
        when "thinking"
          text = block["thinking"].to_s
          text.empty? ? [] : [{type: :thinking_delta, index: index, text: text}]
        when "redacted_thinking"
          [{type: :redacted_thinking, index: index, text: block["data"].to_s}]
        when *TOOL_BLOCKS
          tool_start(index, block)
        else []
        end
      end

      def tool_start(index, block)
        events = [{type: :tool_call_start, index: index, id: block["id"], name: block["name"],
                   server: block["type"] == "server_tool_use"}]
        input = block["input"]
        if input.is_a?(Hash) && !input.empty?
          events << {type: :tool_args_delta, index: index, text: JSON.generate(input)}
        end
        events
      end

      def block_delta(index, delta)
        case delta["type"]
        when "text_delta" then [{type: :text_delta, index: index, text: delta["text"].to_s}]
        when "thinking_delta" then [{type: :thinking_delta, index: index, text: delta["thinking"].to_s}]
        when "signature_delta" then [{type: :signature_delta, index: index, text: delta["signature"].to_s}]
        when "input_json_delta" then [{type: :tool_args_delta, index: index, text: delta["partial_json"].to_s}]
        when "citations_delta" then [{type: :citation, index: index, text: JSON.generate(delta["citation"])}]
        else []
        end
      end

      def block_stop(index)
        TOOL_BLOCKS.include?(@blocks[index]) ? [{type: :tool_call_end, index: index}] : [{type: :block_end, index: index}]
      end

      def message_delta(payload)
        events = []
        reason = payload.dig("delta", "stop_reason")
        events << {type: :stop, stop_reason: stop_reason(reason), provider_stop_reason: reason} if reason
        events << usage(payload["usage"])
        events.compact
      end

      def usage(usage)
        return nil unless usage.is_a?(Hash)

        event = {type: :usage}
        event[:input_tokens] = usage["input_tokens"] if usage.key?("input_tokens")
        event[:output_tokens] = usage["output_tokens"] if usage.key?("output_tokens")
        event[:cache_read_tokens] = usage["cache_read_input_tokens"] if usage.key?("cache_read_input_tokens")
        event[:cache_write_tokens] = usage["cache_creation_input_tokens"] if usage.key?("cache_creation_input_tokens")
        event
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
