# frozen_string_literal: true

require "json"

module AssistantChatNative
  module Providers
    class OpenAI < Provider
      # Reads OpenAI Chat Completions stream chunks as the API documents them: each
      # chunk names the completion (id, model) and holds choices[].delta with content,
      # refusal and tool_calls (by index: id and function.name on a call's first
      # fragment, function.arguments in fragments after), a finish_reason when the
      # choice ends, and, with stream_options.include_usage, a last chunk with empty
      # choices and the usage. The stream ends with `data: [DONE]` (some compatible
      # servers send none: a clean close after the finish_reason ends it too, see
      # #close); an error arrives as
      # a payload with "error". Only the choice with index 0 is read, wherever it
      # stands in choices. Also read, for OpenAI-compatible servers:
      # reasoning_content / reasoning as thinking, the legacy delta.function_call,
      # arguments sent as an object, and a call without an id (named call_<index>).
      class Normalizer
        STOP_REASONS = {"stop" => :end_turn, "tool_calls" => :tool_use, "function_call" => :tool_use,
                        "length" => :max_tokens, "content_filter" => :refusal}.freeze
        DELTA_TEXT = {"content" => :text_delta, "refusal" => :text_delta,
                      "reasoning_content" => :thinking_delta, "reasoning" => :thinking_delta}.freeze

        def initialize
          @named = false
          @calls = {} # index => true while the call is open, false once it ended
          @refused = false
          @finished = false
        end

        def call(_name, data)
          return [] if data.empty?
          return end_calls << {type: :done} if data == "[DONE]"

          payload = RubyStream::Normalizer.parse(data)
          error = payload["error"]
          return [RubyStream::Normalizer.error_event(error, data, type_keys: %w[type code])] if error.is_a?(Hash) || error.is_a?(String)

          events = []
          name(payload, events)
          choice = first_choice(payload["choices"])
          delta(choice["delta"], events) if choice && choice["delta"].is_a?(Hash)
          events << usage(payload["usage"]) if payload["usage"].is_a?(Hash)
          finish(choice["finish_reason"], events) if choice && choice["finish_reason"].is_a?(String)
          events.compact
        end

        # The body closed cleanly with no [DONE]: complete once the choice finished
        # (whatever usage came is kept), cut off before that.
        def close
          @finished ? [{type: :done}] : []
        end

        private

        # Azure OpenAI opens with a chunk whose id and model are "": wait for real ones.
        def name(payload, events)
          return if @named

          start = RubyStream::Normalizer.message_start(payload["id"], payload["model"])
          @named = !start.nil?
          events << start
        end

        # A choice's index is documented as an integer from 0, and names the choice
        # wherever it stands in the list; one without stands for its position.
        def first_choice(choices)
          return nil unless choices.is_a?(Array)

          choices.each_with_index.select { |choice, _| choice.is_a?(Hash) }.filter_map do |choice, position|
            index = choice["index"]
            if !index.nil? && !(index.is_a?(Integer) && index >= 0)
              raise RubyStream::Normalizer::Malformed, "a choice's index is #{index.inspect[0, 32]}"
            end
            choice if (index || position).zero?
          end.first
        end

        # The delta's fields in the order they came.
        def delta(delta, events)
          delta.each do |key, value|
            if DELTA_TEXT.key?(key) && RubyStream::Normalizer.text(value)
              @refused ||= key == "refusal"
              events << {type: DELTA_TEXT[key], index: 0, text: value}
            elsif key == "tool_calls" && value.is_a?(Array)
              value.each_with_index { |call, position| tool_call(call, position, events) if call.is_a?(Hash) }
            elsif key == "function_call" && value.is_a?(Hash)
              fragment(0, nil, value["name"], value["arguments"], events)
            end
          end
        end

        def tool_call(call, position, events)
          function = call["function"].is_a?(Hash) ? call["function"] : {}
          fragment(call["index"].nil? ? position : call["index"], call["id"], function["name"], function["arguments"], events)
        end

        # A call starts with its first fragment that carries an id or a name; an index
        # starts one call only.
        def fragment(index, id, name, arguments, events)
          RubyStream::Normalizer.index(index, "a tool call")
          if !@calls.key?(index) && (id.is_a?(String) || name.is_a?(String))
            @calls[index] = true
            events << {type: :tool_call_start, index: index, id: RubyStream::Normalizer.text(id) || "call_#{index}",
                       name: name.is_a?(String) ? name : "", server: false}
          end
          arguments = JSON.generate(arguments) if arguments.is_a?(Hash)
          events << {type: :tool_args_delta, index: index, text: arguments} if RubyStream::Normalizer.text(arguments)
        end

        # Calls have no end of their own: they end when the choice finishes, or at [DONE].
        def end_calls
          open = @calls.select { |_index, open| open }.keys
          open.each { |index| @calls[index] = false }
          open.map { |index| {type: :tool_call_end, index: index} }
        end

        # Refusal text finishes with "stop", and some compatible servers finish tool
        # calls with "stop": both are read from what came before.
        def finish(reason, events)
          @finished = true
          events.concat(end_calls)
          stop_reason = STOP_REASONS.fetch(reason, :end_turn)
          if stop_reason == :end_turn
            stop_reason = :refusal if @refused
            stop_reason = :tool_use if !@refused && !@calls.empty?
          end
          events << {type: :stop, stop_reason: stop_reason, provider_stop_reason: reason}
        end

        def usage(usage)
          details = usage["prompt_tokens_details"].is_a?(Hash) ? usage["prompt_tokens_details"] : {}
          RubyStream::Normalizer.usage(input_tokens: RubyStream::Normalizer.count(usage["prompt_tokens"], "usage.prompt_tokens"),
            output_tokens: RubyStream::Normalizer.count(usage["completion_tokens"], "usage.completion_tokens"),
            cache_read_tokens: RubyStream::Normalizer.count(details["cached_tokens"], "usage.prompt_tokens_details.cached_tokens"))
        end
      end
    end
  end
end
