# frozen_string_literal: true

require "json"

module AssistantChatNative
  module Providers
    class Gemini < Provider
      # Reads Gemini's streamGenerateContent?alt=sse as the API documents it: each
      # chunk is a GenerateContentResponse whose candidates[0].content.parts hold text
      # (thought: true marks thinking) or a functionCall (name and whole args, an id
      # only when asked for, and a thoughtSignature beside it); usageMetadata, the
      # responseId and modelVersion may come with any chunk, a later one winning. A
      # finishReason, or a promptFeedback.blockReason (which wins), ends the reply.
      # An error arrives as a payload with "error" ({code, message, status}).
      class Normalizer
        # The finish reasons that do not mean the reply was refused or cut off. Gemini
        # ends a turn that calls functions with STOP, and its own failed calls end it too.
        ENDS = %w[STOP FINISH_REASON_UNSPECIFIED MALFORMED_FUNCTION_CALL UNEXPECTED_TOOL_CALL TOO_MANY_TOOL_CALLS].freeze

        def initialize
          @named = false
          @calls = 0
        end

        def call(_name, data)
          return [] if data.empty?

          payload = RubyStream::Normalizer.parse(data)
          return [RubyStream::Normalizer.error_event(payload["error"], data, type_keys: %w[status])] if payload["error"].is_a?(Hash)

          events = [name(payload)]
          candidate = payload["candidates"].first if payload["candidates"].is_a?(Array)
          candidate = {} unless candidate.is_a?(Hash)
          parts = candidate["content"]["parts"] if candidate["content"].is_a?(Hash)
          parts.each { |part| events.concat(part(part)) if part.is_a?(Hash) } if parts.is_a?(Array)
          events << usage(payload["usageMetadata"]) if payload["usageMetadata"].is_a?(Hash)
          events.concat(finish(candidate["finishReason"], payload["promptFeedback"]))
          events.compact
        end

        private

        def name(payload)
          return nil if @named

          start = RubyStream::Normalizer.message_start(payload["responseId"], payload["modelVersion"])
          @named = !start.nil?
          start
        end

        def part(part)
          return function_call(part["functionCall"], part["thoughtSignature"]) if part["functionCall"].is_a?(Hash)

          text = RubyStream::Normalizer.text(part["text"])
          return [] unless text

          [{type: (part["thought"] == true) ? :thinking_delta : :text_delta, index: 0, text: text}]
        end

        # Calls are numbered in the order they come; without an id they are named by it.
        def function_call(call, signature)
          index = RubyStream::Normalizer.index(@calls, "a functionCall part")
          @calls += 1
          args = call["args"]
          [{type: :tool_call_start, index: index, id: RubyStream::Normalizer.text(call["id"]) || "call_#{index}",
            name: call["name"].is_a?(String) ? call["name"] : "", server: false,
            signature: RubyStream::Normalizer.text(signature)},
            ({type: :tool_args_delta, index: index, text: JSON.generate(args)} if args.is_a?(Hash) || args.is_a?(Array)),
            {type: :tool_call_end, index: index}].compact
        end

        # Thinking tokens are output tokens, billed with the candidates'.
        def usage(usage)
          count = ->(field) { RubyStream::Normalizer.count(usage[field], "usageMetadata.#{field}") }
          output = RubyStream::Normalizer.sum(count.call("candidatesTokenCount"), count.call("thoughtsTokenCount"))
          RubyStream::Normalizer.usage(input_tokens: count.call("promptTokenCount"), output_tokens: output,
            cache_read_tokens: count.call("cachedContentTokenCount"))
        end

        def finish(reason, feedback)
          blocked = feedback["blockReason"] if feedback.is_a?(Hash)
          stop = if blocked.is_a?(String)
            {type: :stop, stop_reason: :refusal, provider_stop_reason: blocked}
          elsif reason.is_a?(String)
            {type: :stop, stop_reason: stop_reason(reason), provider_stop_reason: reason}
          end
          stop ? [stop, {type: :done}] : []
        end

        def stop_reason(reason)
          if ENDS.include?(reason) then @calls.positive? ? :tool_use : :end_turn
          elsif reason == "MAX_TOKENS" then :max_tokens
          else :refusal
          end
        end
      end
    end
  end
end
