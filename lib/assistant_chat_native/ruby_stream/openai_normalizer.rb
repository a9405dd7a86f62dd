# frozen_string_literal: true

require "json"

module AssistantChatNative
  class RubyStream
    # Turns OpenAI Chat Completions stream chunks into normalized events: content and
    # refusal deltas as text, tool calls by their index (id and name on the first
    # fragment, argument fragments after), finish_reason, the usage chunk that comes
    # with empty choices, an error object inside a data payload, and `[DONE]`.
    class OpenAINormalizer
      STOP_REASONS = {
        "stop" => :end_turn, "tool_calls" => :tool_use, "function_call" => :tool_use,
        "length" => :max_tokens, "content_filter" => :refusal
      }.freeze

      def initialize
        @started = false
        @open_calls = []
        @refused = false
      end

      def call(_type, data)
        return [{type: :done}] if data.strip == "[DONE]"

        payload = Normalizer.parse(data)
        return [Normalizer.error_event(payload["error"], data)] if payload.key?("error")

        events = []
        message_start(payload, events)
        choice = Array(payload["choices"]).first
        choice_events(choice, events) if choice.is_a?(Hash)
        usage(payload["usage"], events)
        events
      end

      private

      def message_start(payload, events)
        return if @started

        @started = true
        events << {type: :message_start, id: payload["id"], model: payload["model"]}
      end

      def choice_events(choice, events)
        delta = choice["delta"] || {}
        text = delta["content"]
        events << {type: :text_delta, index: 0, text: text} if text.is_a?(String) && !text.empty?
        refusal = delta["refusal"]
        if refusal.is_a?(String) && !refusal.empty?
          @refused = true
          events << {type: :text_delta, index: 0, text: refusal}
        end
        Array(delta["tool_calls"]).each { |call| tool_call(call, events) }
        finish(choice["finish_reason"], events) if choice["finish_reason"]
      end

      def tool_call(call, events)
        index = call["index"] || 0
        function = call["function"] || {}
        unless @open_calls.include?(index)
          @open_calls << index
          events << {type: :tool_call_start, index: index, id: call["id"], name: function["name"], server: false}
        end
        arguments = function["arguments"]
        events << {type: :tool_args_delta, index: index, text: arguments} if arguments.is_a?(String) && !arguments.empty?
      end

      def finish(reason, events)
        @open_calls.each { |index| events << {type: :tool_call_end, index: index} }
        @open_calls.clear
        stop_reason = @refused ? :refusal : STOP_REASONS.fetch(reason, :end_turn)
        events << {type: :stop, stop_reason: stop_reason, provider_stop_reason: reason}
      end

      def usage(usage, events)
        return unless usage.is_a?(Hash)

        event = {type: :usage, input_tokens: usage["prompt_tokens"], output_tokens: usage["completion_tokens"]}
        cached = usage.dig("prompt_tokens_details", "cached_tokens")
        event[:cache_read_tokens] = cached if cached
        events << event.compact
      end
    end
  end
end
