# frozen_string_literal: true

require "json"

module AssistantChatNative
  class RubyStream
    # Turns Gemini streamGenerateContent (alt=sse) chunks into normalized events:
    # text parts, thought parts, functionCall parts (arguments arrive whole),
    # finishReason, usageMetadata, promptFeedback.blockReason and an error object.
    # A chunk with a finishReason or a blockReason is the stream's terminal event.
    class GeminiNormalizer
      TOOL_CALL_FAILURES = %w[MALFORMED_FUNCTION_CALL UNEXPECTED_TOOL_CALL TOO_MANY_TOOL_CALLS].freeze

      def initialize
        @started = false
        @called_function = false
        @calls = 0
      end

      def call(_type, data)
        return [] if data.empty?

        payload = Normalizer.parse(data)
        if payload["error"].is_a?(Hash)
          return [Normalizer.error_event(payload["error"], data, type_keys: %w[status])]
        end

        events = []
        message_start(payload, events)
        candidate = payload["candidates"].first if payload["candidates"].is_a?(Array)
        candidate = nil unless candidate.is_a?(Hash)
        content = candidate && candidate["content"]
        parts(content["parts"], events) if content.is_a?(Hash)
        usage(payload["usageMetadata"], events)
        finish(candidate, payload["promptFeedback"], events)
        events
      end

      private

      def message_start(payload, events)
        return if @started

        event = Normalizer.message_start(payload["responseId"], payload["modelVersion"])
        @started = !event.nil?
        events << event if event
      end

      def parts(parts, events)
        return unless parts.is_a?(Array)

        parts.each do |part|
          next unless part.is_a?(Hash)

          if part["functionCall"].is_a?(Hash)
            function_call(part["functionCall"], part["thoughtSignature"], events)
          elsif part["text"].is_a?(String) && !part["text"].empty?
            type = (part["thought"] == true) ? :thinking_delta : :text_delta
            events << {type: type, index: 0, text: part["text"]}
          end
        end
      end

      # The part's thoughtSignature, when Gemini sent one, rides on the call's start.
      def function_call(call, signature, events)
        index = Normalizer.index(@calls, "a functionCall part")
        @calls += 1
        @called_function = true
        # Gemini sends no id unless asked to; calls are then named by their order.
        id = (call["id"].is_a?(String) && !call["id"].empty?) ? call["id"] : "call_#{index}"
        name = call["name"].is_a?(String) ? call["name"] : ""
        events << {type: :tool_call_start, index: index, id: id, name: name, server: false,
                   signature: signature.is_a?(String) ? signature : nil}
        args = call["args"]
        if args.is_a?(Hash) || args.is_a?(Array)
          events << {type: :tool_args_delta, index: index, text: JSON.generate(args)}
        end
        events << {type: :tool_call_end, index: index}
      end

      def usage(usage, events)
        return unless usage.is_a?(Hash)

        # Each count only when the chunk carried it: a later chunk's fields win.
        prompt, candidates, thoughts, cached = %w[promptTokenCount candidatesTokenCount thoughtsTokenCount
          cachedContentTokenCount].map { |field| Normalizer.token_count(usage[field], "usageMetadata.#{field}") }
        event = {type: :usage, input_tokens: prompt, cache_read_tokens: cached}
        event[:output_tokens] = Normalizer.token_sum(candidates, thoughts) unless candidates.nil? && thoughts.nil?
        event.compact!
        events << event if event.size > 1
      end

      # A blocked prompt wins over a finish reason in the same chunk.
      def finish(candidate, feedback, events)
        block_reason = feedback["blockReason"] if feedback.is_a?(Hash)
        reason = candidate["finishReason"] if candidate
        if block_reason.is_a?(String)
          events << {type: :stop, stop_reason: :refusal, provider_stop_reason: block_reason}
        elsif reason.is_a?(String)
          events << {type: :stop, stop_reason: stop_reason(reason), provider_stop_reason: reason}
        else
          return
        end
        events << {type: :done}
      end

      # Gemini finishes a turn that calls functions with STOP; the model's own
      # tool-call failures end the turn without being content blocks.
      def stop_reason(reason)
        case reason
        when "STOP", "FINISH_REASON_UNSPECIFIED", *TOOL_CALL_FAILURES then @called_function ? :tool_use : :end_turn
        when "MAX_TOKENS" then :max_tokens
        else :refusal
        end
      end
    end
  end
end
