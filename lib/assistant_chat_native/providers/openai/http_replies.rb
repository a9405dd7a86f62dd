# frozen_string_literal: true

require "json"

module AssistantChatNative
  module Providers
    class OpenAI < Provider
      # What both of OpenAI's APIs answer alike, for LocalProvider's writers of each (Chat
      # Completions' Writer and OpenAIResponses::Writer): the stream's content type, the
      # response headers, and the HTTP error body
      # ({"error": {"message", "type", "param", "code"}}).
      module HTTPReplies
        ERRORS = {400 => ["invalid_request_error", nil], 401 => ["invalid_request_error", "invalid_api_key"],
                  403 => ["invalid_request_error", "unsupported_country_region_territory"],
                  404 => ["invalid_request_error", "model_not_found"],
                  429 => ["requests", "rate_limit_exceeded"], 500 => ["server_error", nil],
                  503 => ["server_error", nil]}.freeze

        def content_type
          "text/event-stream; charset=utf-8"
        end

        def response_headers(request)
          {"x-request-id" => "req_local_#{request.id}", "openai-processing-ms" => "1"}
        end

        # The documented error object for an HTTP status; message: LocalProvider's own words (an
        # unknown path, a script it cannot serve), which name no error code, as OpenAI's reply to
        # an invalid URL names none.
        def error_body(status, message: nil)
          type, code = ERRORS.fetch(status) { (status >= 500) ? ["server_error", nil] : ["invalid_request_error", nil] }
          code = nil if message
          JSON.generate({error: {message: message || "LocalProvider scripted HTTP #{status} (#{type})", type: type,
                                 param: nil, code: code}})
        end
      end
    end
  end
end
