# frozen_string_literal: true

module AssistantChatNative
  class RubyStream
    # Turns what went wrong into a Failure: through the C classifier
    # (AssistantChatNative.classify) when the extension is loaded, so RubyStream and
    # Stream classify alike, otherwise through FallbackClassifier, its plain-Ruby second reading.
    class FailureBuilder
      def initialize(provider:)
        @provider = provider
      end

      # A non-2xx response: its status, headers and (bounded) body.
      def http(status:, headers:, body:)
        classify(status: status, headers: headers, body: body)
      end

      # An error event that came after HTTP 200; raw is its whole data payload.
      def mid_stream(raw:, streamed:)
        classify(status: 200, body: raw, streamed: streamed, mid_stream: true)
      end

      # transport_error: :connect, :timeout, :stalled, :lost, :incomplete, :malformed,
      # :too_large or :cancelled. status is the response's, or 0 before one came.
      # detail, when given, says what was seen, in place of the classifier's
      # general words (as core/classify.c does with a transport detail).
      def transport(transport_error, status:, streamed:, headers: {}, detail: nil)
        failure = classify(status: status, headers: headers, transport_error: transport_error, streamed: streamed)
        return failure if detail.nil? || detail.empty?

        Failure.new(kind: failure.kind, retryable: failure.retryable?, action: failure.action,
          message: failure.message, detail: detail + streamed_note(failure, transport_error, status),
          retry_after: failure.retry_after, status: failure.status)
      end

      # A refusal with no text at all: nothing to show the user. Built here, with the
      # taxonomy's defaults and copy for a refusal and the detail core/accum.c also
      # writes (the taxonomy's refusal_without_text row), as the classifier has no
      # input that means "refused".
      def refusal(provider_stop_reason:)
        reason = provider_stop_reason.to_s.byteslice(0, 200).scrub("")
        Failure.of(:refusal, status: 200,
          detail: Taxonomy.case_copy(:refusal_without_text, reason.empty? ? "refusal" : reason))
      end

      private

      # What the classifier adds to a detail when output was already streamed: the
      # difference between its streamed and its plain detail for the same input.
      def streamed_note(failure, transport_error, status)
        plain = classify(status: status, transport_error: transport_error).detail.to_s
        failure.detail.to_s.start_with?(plain) ? failure.detail.to_s.delete_prefix(plain) : ""
      end

      def classify(status:, headers: {}, body: "", transport_error: nil, streamed: false, mid_stream: false)
        arguments = {provider: @provider, status: status, headers: headers, body: body,
                     transport_error: transport_error, streamed: streamed}
        if AssistantChatNative.native? && AssistantChatNative.respond_to?(:classify)
          arguments[:mid_stream] = true if mid_stream
          AssistantChatNative.classify(**arguments)
        else
          FallbackClassifier.classify(**arguments, mid_stream: mid_stream)
        end
      end
    end
  end
end
