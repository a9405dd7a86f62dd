# frozen_string_literal: true

require "json"

module AssistantChatNative
  module Providers
    class OpenAIResponses < Provider
      # Reads the Responses API's stream as OpenAI documents it: each event's data is an object
      # whose `type` names it (the SSE event name says the same). response.created carries the
      # response (id, model); output items open with response.output_item.added and close with
      # .done (output_index, item); text comes in response.output_text.delta and refusals in
      # response.refusal.delta; a function_call item (call_id, name) streams its arguments in
      # response.function_call_arguments.delta; a reasoning item streams its summary in
      # response.reasoning_summary_text.delta, one summary part after another, and carries
      # encrypted_content when done if the request asked for it. The stream ends with
      # response.completed, response.incomplete (incomplete_details.reason) or response.failed
      # (response.error), each with response.usage, or with an `error` event. No [DONE].
      #
      # A reasoning item is a thinking block at its output_index (its summary the thinking, its
      # encrypted_content the signature, its id the block's id), so it goes back in the next
      # round's input; summary parts are joined by a blank line.
      class Normalizer
        INCOMPLETE = {"max_output_tokens" => :max_tokens, "content_filter" => :refusal}.freeze

        def initialize
          @calls = {} # output_index => true while the call is open, false once it ended
          @refused = false
          @named = false
        end

        def call(name, data)
          return [] if data.empty?

          payload = RubyStream::Normalizer.parse(data)
          type = payload["type"].is_a?(String) ? payload["type"] : name
          return [failure(payload, data, type)] if %w[error response.failed].include?(type)

          events = []
          start(payload["response"], events)
          read(type, payload, events)
          events.compact
        end

        private

        # An `error` event is the error; response.failed nests it in the response, and the
        # classifier is handed it as OpenAI's error body, {"error": {code, message}}.
        def failure(payload, data, type)
          return RubyStream::Normalizer.error_event(payload, data, type_keys: %w[code]) if type == "error"

          error = payload["response"].is_a?(Hash) ? payload["response"]["error"] : nil
          error = {} unless error.is_a?(Hash)
          code = error["code"].is_a?(String) ? error["code"] : nil
          message = error["message"].is_a?(String) ? error["message"] : ""
          RubyStream::Normalizer.error_event(error, JSON.generate({"error" => {"code" => code, "message" => message}}),
            type_keys: %w[code])
        end

        def start(response, events)
          return if @named || !response.is_a?(Hash)

          event = RubyStream::Normalizer.message_start(response["id"], response["model"])
          @named = !event.nil?
          events << event
        end

        def read(type, payload, events)
          case type
          when "response.output_text.delta" then text(payload["delta"], events)
          when "response.refusal.delta"
            @refused ||= !RubyStream::Normalizer.text(payload["delta"]).nil?
            text(payload["delta"], events)
          when "response.function_call_arguments.delta"
            delta = RubyStream::Normalizer.text(payload["delta"])
            index = output_index(payload, "a function_call_arguments.delta")
            events << {type: :tool_args_delta, index: index, text: delta} if delta
          when "response.reasoning_summary_text.delta" then thinking(payload, payload["delta"], events)
          when "response.reasoning_summary_part.added"
            summary = payload["summary_index"]
            thinking(payload, "\n\n", events) if summary.is_a?(Integer) && summary.positive?
          when "response.output_item.added" then item_added(payload, events)
          when "response.output_item.done" then item_done(payload, events)
          when "response.completed" then finish(payload["response"], events, completed: true)
          when "response.incomplete" then finish(payload["response"], events, completed: false)
          end
        end

        def text(delta, events)
          delta = RubyStream::Normalizer.text(delta)
          events << {type: :text_delta, index: 0, text: delta} if delta
        end

        def thinking(payload, delta, events)
          delta = RubyStream::Normalizer.text(delta)
          return unless delta

          event = {type: :thinking_delta, index: output_index(payload, "a reasoning summary"), text: delta}
          id = RubyStream::Normalizer.text(payload["item_id"])
          event[:id] = id if id
          events << event
        end

        def output_index(payload, what)
          raise RubyStream::Normalizer::Malformed, "#{what} event without an output_index" if payload["output_index"].nil?

          RubyStream::Normalizer.index(payload["output_index"], what)
        end

        def item(payload)
          payload["item"].is_a?(Hash) ? payload["item"] : {}
        end

        def item_added(payload, events)
          item = item(payload)
          return unless item["type"] == "function_call"

          index = output_index(payload, "an output_item.added")
          start_call(index, item, events) unless @calls.key?(index)
        end

        def start_call(index, item, events)
          @calls[index] = true
          id = RubyStream::Normalizer.text(item["call_id"]) || RubyStream::Normalizer.text(item["id"]) || "call_#{index}"
          events << {type: :tool_call_start, index: index, id: id, name: item["name"].is_a?(String) ? item["name"] : "",
                     server: false}
        end

        # A function_call item is whole when done (a call whose added event never came starts
        # here, with the item's arguments); a reasoning item hands over its encrypted content.
        def item_done(payload, events)
          item = item(payload)
          case item["type"]
          when "function_call"
            index = output_index(payload, "an output_item.done")
            return if @calls[index] == false

            unless @calls.key?(index)
              start_call(index, item, events)
              arguments = RubyStream::Normalizer.text(item["arguments"])
              events << {type: :tool_args_delta, index: index, text: arguments} if arguments
            end
            @calls[index] = false
            events << {type: :tool_call_end, index: index}
          when "reasoning"
            index = output_index(payload, "an output_item.done")
            encrypted = RubyStream::Normalizer.text(item["encrypted_content"])
            if encrypted
              event = {type: :signature_delta, index: index, text: encrypted}
              event[:id] = item["id"] if RubyStream::Normalizer.text(item["id"])
              events << event
            end
            events << {type: :block_end, index: index}
          end
        end

        # A completed response ends any call still open and stops for tool use when it called
        # one; an incomplete one stops for its reason.
        def finish(response, events, completed:)
          response = {} unless response.is_a?(Hash)
          events << usage(response["usage"]) if response["usage"].is_a?(Hash)
          if completed
            open = @calls.select { |_index, open| open }.keys
            open.each { |index| @calls[index] = false }
            events.concat(open.map { |index| {type: :tool_call_end, index: index} })
            reason = if @calls.any? then :tool_use
            elsif @refused then :refusal
            else :end_turn
            end
            provider_reason = response["status"]
          else
            details = response["incomplete_details"].is_a?(Hash) ? response["incomplete_details"] : {}
            provider_reason = details["reason"].is_a?(String) ? details["reason"] : nil
            reason = provider_reason ? INCOMPLETE.fetch(provider_reason, :end_turn) : :max_tokens
            provider_reason ||= response["status"]
          end
          events << {type: :stop, stop_reason: reason, provider_stop_reason: provider_reason.is_a?(String) ? provider_reason : nil}
          events << {type: :done}
        end

        def usage(usage)
          details = usage["input_tokens_details"].is_a?(Hash) ? usage["input_tokens_details"] : {}
          RubyStream::Normalizer.usage(input_tokens: RubyStream::Normalizer.count(usage["input_tokens"], "usage.input_tokens"),
            output_tokens: RubyStream::Normalizer.count(usage["output_tokens"], "usage.output_tokens"),
            cache_read_tokens: RubyStream::Normalizer.count(details["cached_tokens"], "usage.input_tokens_details.cached_tokens"))
        end
      end
    end
  end
end
