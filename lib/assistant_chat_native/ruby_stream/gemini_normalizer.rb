# frozen_string_literal: true

require "json"

module AssistantChatNative
  class RubyStream
    # Turns Gemini streamGenerateContent (alt=sse) chunks into normalized events:
    # text parts, thought parts, functionCall parts (arguments arrive whole),
    # finishReason, usageMetadata, promptFeedback.blockReason and an error object.
    # A chunk with a finishReason or a blockReason is the stream's terminal event.
    class GeminiNormalizer
      REFUSALS = %w[SAFETY RECITATION BLOCKLIST PROHIBITED_CONTENT SPII LANGUAGE IMAGE_SAFETY OTHER].freeze

      def initialize
        @started = false
        @called_function = false
        @calls = 0
      end

      def call(_type, data)
        payload = Normalizer.parse(data)
        return [Normalizer.error_event(payload["error"], data)] if payload.key?("error")

        events = []
        message_start(payload, events)
        candidate = Array(payload["candidates"]).first
        parts(candidate.dig("content", "parts"), events) if candidate.is_a?(Hash)
        usage(payload["usageMetadata"], events)
        finish(candidate, payload["promptFeedback"], events)
        events
      end

      private

      def message_start(payload, events)
        return if @started

        @started = true
        events << {type: :message_start, id: payload["responseId"], model: payload["modelVersion"]}
      end

      def parts(parts, events)
        Array(parts).each do |part|
          next unless part.is_a?(Hash)

          if part["functionCall"].is_a?(Hash)
            function_call(part["functionCall"], part["thoughtSignature"], events)
          elsif part["text"].is_a?(String) && !part["text"].empty?
            type = part["thought"] ? :thinking_delta : :text_delta
            events << {type: type, index: 0, text: part["text"]}
          end
        end
      end

      # The part's thoughtSignature, when Gemini sent one, rides on the call's start.
      def function_call(call, signature, events)
        index = @calls
        @calls += 1
        @called_function = true
        # Gemini sends no id unless asked to; calls are then named by their order.
        id = (call["id"].is_a?(String) && !call["id"].empty?) ? call["id"] : "call_#{index}"
        events << {type: :tool_call_start, index: index, id: id, name: call["name"], server: false,
                   signature: signature.is_a?(String) ? signature : nil}
        args = call["args"]
        events << {type: :tool_args_delta, index: index, text: JSON.generate(args)} if args.is_a?(Hash) && !args.empty?
        events << {type: :tool_call_end, index: index}
      end

      def usage(usage, events)
        return unless usage.is_a?(Hash)

        # Each count only when the chunk carried it: a later chunk's fields win.
        event = {type: :usage, input_tokens: usage["promptTokenCount"]}
        if usage.key?("candidatesTokenCount") || usage.key?("thoughtsTokenCount")
          event[:output_tokens] = usage["candidatesTokenCount"].to_i + usage["thoughtsTokenCount"].to_i
        end
        event[:cache_read_tokens] = usage["cachedContentTokenCount"]
        events << event.compact
      end

      def finish(candidate, feedback, events)
        reason = candidate["finishReason"] if candidate.is_a?(Hash)
        if reason
          events << {type: :stop, stop_reason: stop_reason(reason), provider_stop_reason: reason}
          events << {type: :done}
        elsif feedback.is_a?(Hash) && feedback["blockReason"]
          events << {type: :stop, stop_reason: :refusal, provider_stop_reason: feedback["blockReason"]}
          events << {type: :done}
        end
      end

      def stop_reason(reason)
        case reason
        when "STOP" then @called_function ? :tool_use : :end_turn
        when "MAX_TOKENS" then :max_tokens
        when "MALFORMED_FUNCTION_CALL", "FINISH_REASON_UNSPECIFIED" then :end_turn
        else :refusal
        end
      end
    end
  end
end
