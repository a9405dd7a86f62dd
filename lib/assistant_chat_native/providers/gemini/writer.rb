# frozen_string_literal: true

require "json"

module AssistantChatNative
  module Providers
    class Gemini < Provider
      # Gemini's streamGenerateContent?alt=sse format: `data:` lines (CRLF line
      # endings, as Google sends them) of GenerateContentResponse objects with
      # candidates[0].content.parts (text, text with "thought": true, functionCall
      # with the whole args object), and on the last chunk finishReason and the
      # full usageMetadata (promptTokenCount, candidatesTokenCount,
      # thoughtsTokenCount, cachedContentTokenCount, totalTokenCount).
      # https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
      class Writer
        STATUSES = {400 => "INVALID_ARGUMENT", 401 => "UNAUTHENTICATED", 403 => "PERMISSION_DENIED",
                    404 => "NOT_FOUND", 429 => "RESOURCE_EXHAUSTED", 500 => "INTERNAL",
                    503 => "UNAVAILABLE", 504 => "DEADLINE_EXCEEDED"}.freeze
        STOP_REASONS = {end_turn: "STOP", tool_use: "STOP", max_tokens: "MAX_TOKENS",
                        stop_sequence: "STOP", refusal: "SAFETY"}.freeze
        NEWLINE = "\r\n"

        def provider
          :gemini
        end

        def content_type
          "text/event-stream"
        end

        def response_headers(_request)
          {"server" => "scaffolding on HTTPServer2", "x-content-type-options" => "nosniff"}
        end

        def events(script, request)
          model = script.model || request.model || "gemini-local"
          response_id = script.id || "local-#{request.id}"
          input = script.input_tokens(request)
          pieces = script.thinking_tokens.map { |token| [{text: token, thought: true}] }
          pieces += (script.text_tokens + script.refusal_tokens).map { |token| [{text: token}] }
          unless script.tool_calls.empty?
            pieces << script.tool_calls.map do |call|
              {functionCall: {name: call[:name], args: script.arguments_object(call)}}
            end
          end
          last = pieces.pop || [{text: ""}]
          events = pieces.map do |parts|
            LocalProvider::Event.sse(JSON.generate(chunk(parts, model, response_id).merge(
              usageMetadata: {promptTokenCount: input, totalTokenCount: input}
            )), paced: true, newline: NEWLINE)
          end
          final = chunk(last, model, response_id)
          final[:candidates][0][:finishReason] = stop_reason(script)
          final[:usageMetadata] = usage(script, input)
          events << LocalProvider::Event.sse(JSON.generate(final), paced: !pieces.empty? || last != [{text: ""}],
            terminal: true, newline: NEWLINE)
          events
        end

        # The non-streaming generateContent response.
        def message(script, request)
          parts = []
          parts << {text: script.thinking, thought: true} unless script.thinking_tokens.empty?
          text = (script.text_tokens + script.refusal_tokens).join
          parts << {text: text} unless text.empty?
          script.tool_calls.each do |call|
            parts << {functionCall: {name: call[:name], args: script.arguments_object(call)}}
          end
          response = chunk(parts, script.model || request.model || "gemini-local", script.id || "local-#{request.id}")
          response[:candidates][0][:finishReason] = stop_reason(script)
          response[:usageMetadata] = usage(script, script.input_tokens(request))
          JSON.generate(response)
        end

        # A mid-stream error: a `data:` line holding a google.rpc.Status error.
        def error_event(option)
          return LocalProvider::Event.sse(option[:data], newline: NEWLINE) if option[:data]
          code = Integer(option[:code] || 503)
          LocalProvider::Event.sse(JSON.generate({error: {code: code,
                                                          message: option[:message] || "The model is overloaded. Please try again later.",
                                                          status: option[:type] || STATUSES.fetch(code, "UNAVAILABLE")}}),
            newline: NEWLINE)
        end

        # The documented google.rpc.Status error for an HTTP status; message: LocalProvider's own
        # words (an unknown path, a script it cannot serve) instead of the scripted ones.
        def error_body(status, message: nil)
          rpc_status = STATUSES.fetch(status) { (status >= 500) ? "INTERNAL" : "INVALID_ARGUMENT" }
          JSON.generate({error: {code: status, message: message || "LocalProvider scripted HTTP #{status} (#{rpc_status})",
                                 status: rpc_status}})
        end

        private

        def chunk(parts, model, response_id)
          {candidates: [{content: {parts: parts, role: "model"}, index: 0}], modelVersion: model,
           responseId: response_id}
        end

        def usage(script, input)
          thoughts = script.usage.fetch(:thoughts_tokens) { script.thinking_tokens.size }
          output = script.output_tokens
          metadata = {promptTokenCount: input, candidatesTokenCount: [output - thoughts, 0].max,
                      totalTokenCount: input + output}
          metadata[:thoughtsTokenCount] = thoughts if thoughts.positive?
          metadata[:cachedContentTokenCount] = script.usage[:cache_read_tokens] if script.usage.key?(:cache_read_tokens)
          metadata
        end

        def stop_reason(script)
          reason = script.stop_reason
          return STOP_REASONS.fetch(reason, reason.to_s) if reason.is_a?(Symbol)
          return reason if reason
          script.refusal ? "SAFETY" : "STOP"
        end
      end
    end
  end
end
