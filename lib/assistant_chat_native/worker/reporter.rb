# frozen_string_literal: true

require_relative "../redaction"

module AssistantChatNative
  class Worker
    # Reports a turn's error with the tag and custom data the seed sends:
    # tag user_id; custom data worker, conversation_id, model, response_body (the
    # provider's own words, at most 500 characters). The host's own
    # ErrorReporting.error when it defines one (called as the seed calls it:
    # `ErrorReporting.error(e, source: :background, user_id:, custom_data:)`), else
    # AppSignal when loaded, else Sentry when loaded, else one log line. Never includes request headers, and
    # the error's message and the response body go through Redaction first (the
    # worker hands it redacted ones already; a direct caller may not), so API keys
    # cannot leak into a report.
    class Reporter
      def initialize(logger:)
        @logger = logger
      end

      def call(error, user_id:, custom_data:)
        error = Redaction.exception(error)
        body = custom_data[:response_body]
        custom_data = custom_data.merge(response_body: Redaction.text(body, max_bytes: Worker::RESPONSE_BODY_BYTES)) if body
        if defined?(::ErrorReporting) && ::ErrorReporting.respond_to?(:error)
          ::ErrorReporting.error(error, source: :background, user_id: user_id, custom_data: custom_data)
        elsif defined?(::Appsignal) && ::Appsignal.respond_to?(:send_error)
          ::Appsignal.send_error(error) do |transaction|
            transaction.set_tags(user_id: user_id)
            transaction.set_custom_data(custom_data)
          end
        elsif defined?(::Sentry) && ::Sentry.respond_to?(:capture_exception)
          ::Sentry.capture_exception(error, tags: {user_id: user_id}, extra: custom_data)
        else
          body = custom_data[:response_body]
          @logger.error("[#{custom_data[:worker]}] #{error.class}: #{error.message} " \
            "(conversation_id=#{custom_data[:conversation_id]} model=#{custom_data[:model]} " \
            "user_id=#{user_id.inspect})#{" response_body=#{body}" if body && !body.empty?}")
        end
      end
    end
  end
end
