# frozen_string_literal: true

require "json"
require_relative "../openai/http_replies"

module AssistantChatNative
  module Providers
    class OpenAIResponses < Provider
      # OpenAI's Responses streaming format (POST /v1/responses with "stream": true): named
      # SSE events whose data repeats the name in `type` and counts sequence_number.
      # response.created and response.in_progress, then one output item after another, each
      # between response.output_item.added and .done: a `reasoning` item (scripted thinking:
      # its summary as reasoning_summary_part / reasoning_summary_text events, and its
      # encrypted_content when the request asked include: ["reasoning.encrypted_content"]), a
      # `message` (output_text or refusal deltas in one content part), `function_call` items
      # (call_id, name, arguments as function_call_arguments deltas). The last event is
      # response.completed, or response.incomplete for a reply cut by max_output_tokens or the
      # content filter, with the response's usage (input_tokens_details.cached_tokens,
      # output_tokens_details.reasoning_tokens). There is no [DONE].
      # https://platform.openai.com/docs/api-reference/responses-streaming
      class Writer
        include OpenAI::HTTPReplies

        INCOMPLETE = {max_tokens: "max_output_tokens", refusal: "content_filter"}.freeze

        def provider
          :openai_responses
        end

        def events(script, request)
          @sequence = -1
          response = response_object(script, request, status: "in_progress", output: [], usage: nil)
          events = [sse("response.created", response: response), sse("response.in_progress", response: response)]
          output = []
          reasoning(script, request, output, events)
          stream_message(script, request, output, events)
          script.tool_calls.each { |call| function_call(script, request, call, output, events) }
          events << terminal(script, request, output)
          events
        end

        # The non-streaming response object.
        def message(script, request)
          @sequence = -1
          items = []
          reasoning(script, request, items, [])
          stream_message(script, request, items, [])
          script.tool_calls.each { |call| function_call(script, request, call, items, []) }
          status, details = outcome(script)
          JSON.generate(response_object(script, request, status: status, output: items, usage: usage(script, request),
            incomplete_details: details))
        end

        # A mid-stream error: an `error` event ({code, message, param}), or with type:
        # "response.failed" a failed response carrying the error.
        def error_event(option)
          return LocalProvider::Event.sse(option[:data], event: "error") if option[:data]

          @sequence = @sequence.to_i
          message = option[:message] || "The server had an error while processing your request."
          code = option[:code] || "server_error"
          if option[:type] == "response.failed"
            response = {id: "resp_local_failed", object: "response", status: "failed",
                        error: {code: code, message: message}, output: [], usage: nil}
            return sse("response.failed", response: response)
          end
          sse("error", code: code, message: message, param: nil)
        end

        # HTTP errors carry OpenAI's usual error object, as Chat Completions' do.
        private

        def sse(type, paced: false, terminal: false, **fields)
          @sequence += 1
          LocalProvider::Event.sse(JSON.generate({type: type, sequence_number: @sequence, **fields}),
            event: type, paced: paced, terminal: terminal)
        end

        def response_object(script, request, status:, output:, usage:, incomplete_details: nil)
          {id: script.id || "resp_local_#{request.id}", object: "response", created_at: request.received_at.to_i,
           status: status, error: nil, incomplete_details: incomplete_details, model: model(script, request),
           output: output, parallel_tool_calls: true, store: false, usage: usage}
        end

        def model(script, request)
          script.model || request.model || "gpt-local"
        end

        def encrypted?(request)
          request.json.is_a?(Hash) && Array(request.json["include"]).include?("reasoning.encrypted_content")
        end

        def reasoning(script, request, output, events)
          tokens = script.thinking_tokens
          return if tokens.empty?

          index = output.size
          id = "rs_local_#{request.id}_#{index}"
          events << sse("response.output_item.added", output_index: index, item: {id: id, type: "reasoning", summary: []})
          part = {item_id: id, output_index: index, summary_index: 0}
          events << sse("response.reasoning_summary_part.added", **part, part: {type: "summary_text", text: ""})
          tokens.each { |token| events << sse("response.reasoning_summary_text.delta", **part, delta: token, paced: true) }
          events << sse("response.reasoning_summary_text.done", **part, text: script.thinking)
          events << sse("response.reasoning_summary_part.done", **part, part: {type: "summary_text", text: script.thinking})
          item = {id: id, type: "reasoning", summary: [{type: "summary_text", text: script.thinking}]}
          item[:encrypted_content] = script.signature || "local-encrypted-#{request.id}-#{index}" if encrypted?(request)
          output << item
          events << sse("response.output_item.done", output_index: index, item: item)
        end

        def stream_message(script, request, output, events)
          refusal = script.refusal_tokens
          tokens = script.text_tokens
          return if tokens.empty? && refusal.empty?

          index = output.size
          id = "msg_local_#{request.id}_#{index}"
          kind, delta, done, whole = refusal.empty? ? ["output_text", "response.output_text.delta", "response.output_text.done", tokens.join] :
                                                     ["refusal", "response.refusal.delta", "response.refusal.done", script.refusal]
          content = (kind == "refusal") ? {type: "refusal", refusal: whole} : {type: "output_text", text: whole, annotations: []}
          item = {id: id, type: "message", status: "in_progress", role: "assistant", content: []}
          events << sse("response.output_item.added", output_index: index, item: item)
          part = {item_id: id, output_index: index, content_index: 0}
          events << sse("response.content_part.added", **part, part: content.merge(content.key?(:text) ? {text: ""} : {refusal: ""}))
          (refusal.empty? ? tokens : refusal).each { |token| events << sse(delta, **part, delta: token, paced: true) }
          events << sse(done, **part, **((kind == "refusal") ? {refusal: whole} : {text: whole}))
          events << sse("response.content_part.done", **part, part: content)
          item = item.merge(status: "completed", content: [content])
          output << item
          events << sse("response.output_item.done", output_index: index, item: item)
        end

        def function_call(script, request, call, output, events)
          index = output.size
          id = "fc_local_#{request.id}_#{call[:index]}"
          call_id = call[:id] || "call_local_#{request.id}_#{call[:index]}"
          item = {id: id, type: "function_call", status: "in_progress", call_id: call_id, name: call[:name], arguments: ""}
          events << sse("response.output_item.added", output_index: index, item: item)
          script.argument_fragments(call).each do |fragment|
            events << sse("response.function_call_arguments.delta", item_id: id, output_index: index, delta: fragment, paced: true)
          end
          events << sse("response.function_call_arguments.done", item_id: id, output_index: index, arguments: call[:arguments_json])
          item = item.merge(status: "completed", arguments: call[:arguments_json])
          output << item
          events << sse("response.output_item.done", output_index: index, item: item)
        end

        # [status, incomplete_details] of the finished response.
        def outcome(script)
          reason = INCOMPLETE[script.stop_reason] if script.stop_reason.is_a?(Symbol)
          reason ||= script.stop_reason if script.stop_reason.is_a?(String) && script.stop_reason != "completed"
          reason ? ["incomplete", {reason: reason}] : ["completed", nil]
        end

        def terminal(script, request, output)
          status, details = outcome(script)
          response = response_object(script, request, status: status, output: output, usage: usage(script, request),
            incomplete_details: details)
          sse("response.#{status}", response: response, terminal: true)
        end

        def usage(script, request)
          input = script.input_tokens(request)
          output = script.output_tokens
          {input_tokens: input, input_tokens_details: {cached_tokens: script.usage.fetch(:cache_read_tokens, 0)},
           output_tokens: output, output_tokens_details: {reasoning_tokens: script.thinking_tokens.size},
           total_tokens: input + output}
        end
      end
    end
  end
end
