# frozen_string_literal: true

require "json"
require_relative "http_replies"

module AssistantChatNative
  module Providers
    class OpenAI < Provider
      # OpenAI's Chat Completions streaming format (POST /v1/chat/completions with
      # "stream": true): `data:` lines of chat.completion.chunk objects (delta.role,
      # delta.content, delta.refusal, delta.tool_calls by index with the id and name
      # in the first fragment), a chunk with finish_reason, a usage chunk with empty
      # choices when stream_options.include_usage is true, and the terminal
      # `data: [DONE]` (left out with the script's done: false, as some compatible
      # servers do). Scripted thinking is not sent: Chat Completions does not
      # stream reasoning. The reply's end is the finish_reason chunk on (each
      # Event marked terminal): a clean close after it is a whole reply, so a close
      # "without the terminal event" stops before it.
      # https://platform.openai.com/docs/api-reference/chat-streaming
      class Writer
        include HTTPReplies

        STOP_REASONS = {end_turn: "stop", tool_use: "tool_calls", max_tokens: "length",
                        stop_sequence: "stop", refusal: "content_filter"}.freeze

        def provider
          :openai
        end

        def events(script, request)
          include_usage = request.json.is_a?(Hash) &&
            request.json.dig("stream_options", "include_usage") == true
          base = {id: script.id || "chatcmpl-local-#{request.id}", object: "chat.completion.chunk",
                  created: request.received_at.to_i, model: script.model || request.model || "gpt-local",
                  system_fingerprint: "fp_local"}
          chunk = lambda do |delta, finish_reason: nil, paced: false, terminal: false|
            payload = base.merge(choices: [{index: 0, delta: delta, logprobs: nil, finish_reason: finish_reason}])
            payload[:usage] = nil if include_usage
            LocalProvider::Event.sse(JSON.generate(payload), paced: paced, terminal: terminal)
          end
          text_tokens = script.text_tokens
          first = {role: "assistant", content: (text_tokens.empty? && !script.tool_calls.empty?) ? nil : "",
                   refusal: nil}
          events = [chunk.call(first)]
          text_tokens.each { |token| events << chunk.call({content: token}, paced: true) }
          script.refusal_tokens.each { |token| events << chunk.call({refusal: token}, paced: true) }
          script.tool_calls.each do |call|
            id = call[:id] || "call_local_#{request.id}_#{call[:index]}"
            events << chunk.call({tool_calls: [{index: call[:index], id: id, type: "function",
                                                function: {name: call[:name], arguments: ""}}]})
            script.argument_fragments(call).each do |fragment|
              events << chunk.call({tool_calls: [{index: call[:index], function: {arguments: fragment}}]}, paced: true)
            end
          end
          events << chunk.call({}, finish_reason: stop_reason(script), terminal: true)
          events << usage_chunk(base, script, request) if include_usage
          events << LocalProvider::Event.sse("[DONE]", terminal: true) if script.done
          events
        end

        # The non-streaming chat.completion response.
        def message(script, request)
          text = script.text_tokens.join
          message = {role: "assistant", content: (text.empty? && !script.tool_calls.empty?) ? nil : text,
                     refusal: script.refusal}
          unless script.tool_calls.empty?
            message[:tool_calls] = script.tool_calls.map do |call|
              {id: call[:id] || "call_local_#{request.id}_#{call[:index]}", type: "function",
               function: {name: call[:name], arguments: call[:arguments_json]}}
            end
          end
          JSON.generate({id: script.id || "chatcmpl-local-#{request.id}", object: "chat.completion",
                         created: request.received_at.to_i, model: script.model || request.model || "gpt-local",
                         system_fingerprint: "fp_local",
                         choices: [{index: 0, message: message, logprobs: nil, finish_reason: stop_reason(script)}],
                         usage: usage(script, request)})
        end

        # A mid-stream error: a `data:` line holding an error object.
        def error_event(option)
          return LocalProvider::Event.sse(option[:data]) if option[:data]
          LocalProvider::Event.sse(JSON.generate({error: {message: option[:message] || "The server had an error while processing your request.",
                                                          type: option[:type] || "server_error", param: nil,
                                                          code: option[:code]}}))
        end

        private

        def usage_chunk(base, script, request)
          LocalProvider::Event.sse(JSON.generate(base.merge(choices: [], usage: usage(script, request))), terminal: true)
        end

        def usage(script, request)
          input = script.input_tokens(request)
          output = script.output_tokens
          {prompt_tokens: input, completion_tokens: output, total_tokens: input + output,
           prompt_tokens_details: {cached_tokens: script.usage.fetch(:cache_read_tokens, 0), audio_tokens: 0},
           completion_tokens_details: {reasoning_tokens: 0, audio_tokens: 0,
                                       accepted_prediction_tokens: 0, rejected_prediction_tokens: 0}}
        end

        def stop_reason(script)
          reason = script.stop_reason
          return STOP_REASONS.fetch(reason, reason.to_s) if reason.is_a?(Symbol)
          return reason if reason
          script.tool_calls.empty? ? "stop" : "tool_calls"
        end
      end
    end
  end
end
