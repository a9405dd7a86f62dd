# frozen_string_literal: true

require "json"

module AssistantChatNative
  class RubyStream
    # Classifies failures when the C extension (and its classifier) is not loaded.
    # Coarser than the C classifier: it decides by HTTP status and transport error
    # alone, keeps the provider's own message as detail, reads `retry-after` in
    # seconds, and does not recognise context-length or quota errors by their words.
    module FallbackClassifier
      COPY = {
        rate_limited: "The AI provider is rate limiting requests. Please try again shortly.",
        overloaded: "The AI provider is overloaded right now. Please try again shortly.",
        server_error: "The AI provider had an internal error. Please try again.",
        request_too_large: "The request is too large for the AI provider.",
        invalid_model: "The AI model is not available.",
        authentication: "The AI provider rejected the API key.",
        permission: "The API key is not allowed to use this model.",
        bad_request: "The AI provider rejected the request.",
        empty_bad_request: "The AI provider rejected the request without saying why.",
        timeout: "The AI provider took too long to answer.",
        stalled: "The AI provider stopped sending the reply.",
        connection_failed: "Could not connect to the AI provider.",
        connection_lost: "The connection to the AI provider was lost before the reply was complete.",
        malformed_stream: "The AI provider sent a reply that could not be read.",
        cancelled: "The reply was cancelled."
      }.freeze

      TRANSPORT_KINDS = {
        connect: :connection_failed, timeout: :timeout, stalled: :stalled, lost: :connection_lost,
        incomplete: :connection_lost, malformed: :malformed_stream, too_large: :malformed_stream,
        cancelled: :cancelled
      }.freeze

      RETRYABLE = %i[rate_limited overloaded server_error timeout stalled connection_failed connection_lost].freeze

      DETAIL_MAX = 2048

      module_function

      def classify(provider:, status:, body: "", headers: {}, transport_error: nil, streamed: false, mid_stream: false)
        kind = transport_error ? TRANSPORT_KINDS.fetch(transport_error) : kind_for(status, body, mid_stream)
        retryable = RETRYABLE.include?(kind) && !(streamed && transport_error)
        Failure.new(
          kind: kind, retryable: retryable, action: retryable ? :retry : :fail,
          message: COPY.fetch(kind), detail: detail(body, transport_error),
          retry_after: retry_after(headers), status: status.to_i.zero? ? nil : status.to_i
        )
      end

      def kind_for(status, body, mid_stream)
        return :overloaded if mid_stream && body.to_s.include?("overloaded")
        return :server_error if mid_stream

        case status.to_i
        when 429 then :rate_limited
        when 529, 503 then :overloaded
        when 500..599 then :server_error
        when 401 then :authentication
        when 403 then :permission
        when 404 then :invalid_model
        when 413 then :request_too_large
        when 408, 504 then :timeout
        else body.to_s.strip.empty? ? :empty_bad_request : :bad_request
        end
      end

      # The provider's own message when the body is its JSON error, else the body's start.
      def detail(body, transport_error)
        return transport_error.to_s if transport_error

        text = body.to_s.dup.force_encoding(Encoding::UTF_8).scrub
        message = provider_message(text) || text
        message.byteslice(0, DETAIL_MAX).scrub("")
      end

      def provider_message(text)
        payload = JSON.parse(text)
        payload = payload.first if payload.is_a?(Array)
        error = payload["error"] if payload.is_a?(Hash)
        error.is_a?(Hash) ? error["message"] : error
      rescue JSON::ParserError
        nil
      end

      def retry_after(headers)
        header = headers.find { |name, _| name.to_s.casecmp?("retry-after") }&.last
        Float(header) if header
      rescue ArgumentError, TypeError
        nil
      end
    end
  end
end
