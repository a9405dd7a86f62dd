# frozen_string_literal: true

require "json"

module AssistantChatNative
  module Providers
    class Anthropic < Provider
      # Anthropic's Messages streaming format (POST /v1/messages with "stream": true):
      # message_start, then per content block content_block_start, its deltas
      # (text_delta, thinking_delta + signature_delta, input_json_delta) and
      # content_block_stop, ping events, message_delta (stop_reason, cumulative
      # output_tokens) and the terminal message_stop.
      # https://docs.anthropic.com/en/docs/build-with-claude/streaming
      class Writer
        ERROR_TYPES = {400 => "invalid_request_error", 401 => "authentication_error",
                       402 => "billing_error", 403 => "permission_error", 404 => "not_found_error",
                       413 => "request_too_large", 429 => "rate_limit_error", 500 => "api_error",
                       504 => "timeout_error", 529 => "overloaded_error"}.freeze
        STOP_REASONS = {end_turn: "end_turn", tool_use: "tool_use", max_tokens: "max_tokens",
                        stop_sequence: "stop_sequence", refusal: "refusal",
                        pause_turn: "pause_turn"}.freeze

        def provider
          :anthropic
        end

        def content_type
          "text/event-stream; charset=utf-8"
        end

        def response_headers(request)
          {"request-id" => "req_local_#{request.id}", "anthropic-organization-id" => "local"}
        end

        def events(script, request)
          events = [message_start(script, request)]
          index = 0
          pings = lambda do
            script.pings.times { events << sse("ping", {type: "ping"}) }
            pings = -> {}
          end
          unless script.thinking_tokens.empty?
            events << block_start(index, {type: "thinking", thinking: ""})
            pings.call
            script.thinking_tokens.each do |token|
              events << block_delta(index, {type: "thinking_delta", thinking: token}, paced: true)
            end
            signature = script.signature || "local-signature-#{request.id}"
            events << block_delta(index, {type: "signature_delta", signature: signature})
            events << block_stop(index)
            index += 1
          end
          text_tokens = script.text_tokens + script.refusal_tokens
          unless text_tokens.empty?
            events << block_start(index, {type: "text", text: ""})
            pings.call
            text_tokens.each do |token|
              events << block_delta(index, {type: "text_delta", text: token}, paced: true)
            end
            events << block_stop(index)
            index += 1
          end
          script.tool_calls.each do |call|
            id = call[:id] || "toolu_local_#{request.id}_#{call[:index]}"
            events << block_start(index, {type: "tool_use", id: id, name: call[:name], input: {}})
            pings.call
            events << block_delta(index, {type: "input_json_delta", partial_json: ""})
            script.argument_fragments(call).each do |fragment|
              events << block_delta(index, {type: "input_json_delta", partial_json: fragment}, paced: true)
            end
            events << block_stop(index)
            index += 1
          end
          pings.call
          events << sse("message_delta", {type: "message_delta",
                                          delta: {stop_reason: stop_reason(script), stop_sequence: nil},
                                          usage: {output_tokens: script.output_tokens}})
          events << sse("message_stop", {type: "message_stop"}, terminal: true)
          events
        end

        # The non-streaming Messages response.
        def message(script, request)
          content = []
          unless script.thinking_tokens.empty?
            content << {type: "thinking", thinking: script.thinking,
                        signature: script.signature || "local-signature-#{request.id}"}
          end
          text = (script.text_tokens + script.refusal_tokens).join
          content << {type: "text", text: text} unless text.empty?
          script.tool_calls.each do |call|
            content << {type: "tool_use", id: call[:id] || "toolu_local_#{request.id}_#{call[:index]}",
                        name: call[:name], input: script.arguments_object(call)}
          end
          usage = {input_tokens: script.input_tokens(request), output_tokens: script.output_tokens}
          usage[:cache_read_input_tokens] = script.usage[:cache_read_tokens] if script.usage.key?(:cache_read_tokens)
          usage[:cache_creation_input_tokens] = script.usage[:cache_write_tokens] if script.usage.key?(:cache_write_tokens)
          JSON.generate({id: script.id || "msg_local_#{request.id}", type: "message", role: "assistant",
                         model: script.model || request.model || "claude-local", content: content,
                         stop_reason: stop_reason(script), stop_sequence: nil, usage: usage})
        end

        # A mid-stream error event: `event: error` with the error object.
        def error_event(option)
          return LocalProvider::Event.sse(option[:data], event: "error") if option[:data]
          sse("error", {type: "error", error: {type: option[:type] || "overloaded_error",
                                               message: option[:message] || "Overloaded"}})
        end

        # The documented error object for an HTTP status; message: LocalProvider's own words (an
        # unknown path, a script it cannot serve) instead of the scripted ones.
        def error_body(status, message: nil)
          type = ERROR_TYPES.fetch(status) { (status >= 500) ? "api_error" : "invalid_request_error" }
          JSON.generate({type: "error", error: {type: type, message: message || "LocalProvider scripted HTTP #{status} (#{type})"},
                         request_id: "req_local_error"})
        end

        private

        def message_start(script, request)
          usage = {input_tokens: script.input_tokens(request), output_tokens: 1}
          usage[:cache_read_input_tokens] = script.usage[:cache_read_tokens] if script.usage.key?(:cache_read_tokens)
          usage[:cache_creation_input_tokens] = script.usage[:cache_write_tokens] if script.usage.key?(:cache_write_tokens)
          message = {id: script.id || "msg_local_#{request.id}", type: "message", role: "assistant",
                     model: script.model || request.model || "claude-local", content: [],
                     stop_reason: nil, stop_sequence: nil, usage: usage}
          sse("message_start", {type: "message_start", message: message})
        end

        def stop_reason(script)
          reason = script.stop_reason
          return STOP_REASONS.fetch(reason, reason.to_s) if reason.is_a?(Symbol)
          return reason if reason
          return "tool_use" unless script.tool_calls.empty?
          return "refusal" if script.refusal
          "end_turn"
        end

        def block_start(index, block)
          sse("content_block_start", {type: "content_block_start", index: index, content_block: block})
        end

        def block_delta(index, delta, paced: false)
          sse("content_block_delta", {type: "content_block_delta", index: index, delta: delta}, paced: paced)
        end

        def block_stop(index)
          sse("content_block_stop", {type: "content_block_stop", index: index})
        end

        def sse(name, payload, paced: false, terminal: false)
          LocalProvider::Event.sse(JSON.generate(payload), event: name, paced: paced, terminal: terminal)
        end
      end
    end
  end
end
