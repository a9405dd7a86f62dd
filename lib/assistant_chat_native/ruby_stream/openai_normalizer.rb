# frozen_string_literal: true

require "json"

module AssistantChatNative
  class RubyStream
    # Turns OpenAI Chat Completions stream chunks (and the OpenAI-compatible servers'
    # variants) into normalized events, by core/decode_openai.c's rules: content and
    # refusal deltas as text, reasoning_content / reasoning deltas as thinking, tool
    # calls by their index (id and name on the first fragment, argument fragments
    # after, arguments possibly sent as an object, a missing id named call_<index>),
    # the legacy single function_call, finish_reason, the usage chunk that comes with
    # empty choices, an error object (or message String) inside a data payload, and
    # `[DONE]`. Only the first choice is read; calls end when the choice finishes.
    class OpenAINormalizer
      STOP_REASONS = {
        "stop" => :end_turn, "tool_calls" => :tool_use, "function_call" => :tool_use,
        "length" => :max_tokens, "content_filter" => :refusal
      }.freeze

      def initialize
        @started = false
        @calls = {}
        @call_count = 0
        @refused = false
      end

      def call(_type, data)
        return [] if data.empty?
        return finish_calls([]) << {type: :done} if data == "[DONE]"

        payload = Normalizer.parse(data)
        error = payload["error"]
        if error.is_a?(Hash) || error.is_a?(String)
          return [Normalizer.error_event(error, data, type_keys: %w[type code])]
        end

        events = []
        message_start(payload, events)
        choice = first_choice(payload["choices"])
        delta_events(choice["delta"], events) if choice
        usage(payload["usage"], events)
        reason = choice["finish_reason"] if choice
        finish(reason, events) if reason.is_a?(String)
        events
      end

      private

      # Azure OpenAI opens with a chunk whose id and model are "": wait for real ones.
      def message_start(payload, events)
        return if @started

        event = Normalizer.message_start(payload["id"], payload["model"])
        @started = !event.nil?
        events << event if event
      end

      # choices[0], when it is the choice with index 0 (a request for n > 1 choices
      # streams the others, which are not read).
      def first_choice(choices)
        return nil unless choices.is_a?(Array)

        choices.each { |choice| Normalizer.count(choice["index"], "a choice's index") if choice.is_a?(Hash) }
        choice = choices.first
        return nil unless choice.is_a?(Hash)

        index = choice["index"]
        (index.nil? || index == 0) ? choice : nil
      end

      # The delta's fields in the order they came, as the C decoder reads them.
      def delta_events(delta, events)
        delta.each { |key, value| delta_field(key, value, events) } if delta.is_a?(Hash)
      end

      def delta_field(key, value, events)
        case key
        when "content" then text(:text_delta, value, events)
        when "refusal"
          @refused = true if value.is_a?(String) && !value.empty?
          text(:text_delta, value, events)
        when "reasoning_content", "reasoning" then text(:thinking_delta, value, events)
        when "tool_calls"
          value.each_with_index { |call, position| tool_call(call, position, events) } if value.is_a?(Array)
        when "function_call"
          function_call(value, events) if value.is_a?(Hash)
        end
      end

      def text(type, value, events)
        events << {type: type, index: 0, text: value} if value.is_a?(String) && !value.empty?
      end

      def tool_call(call, position, events)
        return unless call.is_a?(Hash)

        index = call["index"].nil? ? position : call["index"]
        function = call["function"].is_a?(Hash) ? call["function"] : {}
        arguments = function["arguments"]
        arguments = JSON.generate(arguments) if arguments.is_a?(Hash)
        fragment(index, string(call["id"]), string(function["name"]), arguments, events)
      end

      # The legacy `delta.function_call`: one call, at index 0, never with an id.
      def function_call(function, events)
        fragment(0, nil, string(function["name"]), function["arguments"], events)
      end

      # A call starts on its first fragment with an id or a name; an index that has
      # already had a call (even one that ended) starts no other.
      def fragment(index, id, name, arguments, events)
        Normalizer.index(index, "a tool call")
        if !@calls.key?(index) && (id || name)
          @calls[index] = :open
          @call_count += 1
          id = "call_#{index}" if id.nil? || id.empty?
          events << {type: :tool_call_start, index: index, id: id, name: name, server: false}
        end
        events << {type: :tool_args_delta, index: index, text: arguments} if arguments.is_a?(String) && !arguments.empty?
      end

      def string(value)
        value.is_a?(String) ? value : nil
      end

      # OpenAI sends no per-call end: the calls end when the choice finishes (or at [DONE]).
      def finish_calls(events)
        @calls.each do |index, state|
          next unless state == :open

          @calls[index] = :ended
          events << {type: :tool_call_end, index: index}
        end
        events
      end

      def finish(reason, events)
        finish_calls(events)
        stop_reason = STOP_REASONS.fetch(reason, :end_turn)
        # Refusal text comes with "stop"; some compatible servers end tool calls with "stop".
        if stop_reason == :end_turn && @refused
          stop_reason = :refusal
        elsif stop_reason == :end_turn && @call_count > 0
          stop_reason = :tool_use
        end
        events << {type: :stop, stop_reason: stop_reason, provider_stop_reason: reason}
      end

      def usage(usage, events)
        return unless usage.is_a?(Hash)

        event = {type: :usage, input_tokens: Normalizer.token_count(usage["prompt_tokens"], "usage.prompt_tokens"),
                 output_tokens: Normalizer.token_count(usage["completion_tokens"], "usage.completion_tokens")}
        details = usage["prompt_tokens_details"]
        if details.is_a?(Hash)
          event[:cache_read_tokens] = Normalizer.token_count(details["cached_tokens"], "usage.prompt_tokens_details.cached_tokens")
        end
        event.compact!
        events << event if event.size > 1
      end
    end
  end
end
