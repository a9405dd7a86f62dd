# frozen_string_literal: true

require_relative "fallback_classifier/retry_after"
require_relative "fallback_classifier/clean_text"
require_relative "fallback_classifier/provider_error"
require_relative "fallback_classifier/provider_codes"

module AssistantChatNative
  class RubyStream
    # Classifies failures in plain Ruby when the C extension (and its classifier,
    # AssistantChatNative.classify) is not loaded. It is a second reading of the
    # providers' documented error formats and of HTTP's status codes, written
    # apart from core/classify.c; the two share only the taxonomy's data (each
    # kind's action, retryability and copy, and the phrases that name a kind),
    # and the specs hold both to the same error-case manifest. It asks, in turn:
    #
    #   1. the provider's own codes (ProviderCodes: OpenAI code, Anthropic type,
    #      Gemini status and its RetryInfo / QuotaFailure / ErrorInfo details);
    #   2. below HTTP 500, the message's words (context length, quota and billing,
    #      API keys, unsupported location, disabled accounts, content filters,
    #      unknown models);
    #   3. the HTTP status;
    #   4. for an error event after HTTP 200, what the event says (overloaded,
    #      invalid request, otherwise a server error).
    #
    # retry_after comes from `retry-after-ms`, `Retry-After` (seconds or an
    # HTTP-date), Gemini's RetryInfo, or a wait the message states;
    # `x-should-retry` overrides retryability. message is the taxonomy's
    # user-facing copy (the model's name for an invalid model, the
    # provider's own words for an error it does not recognise); message and
    # detail have API keys and bearer tokens redacted. Work is bounded whatever
    # the body's size (see ProviderError).
    #
    # Where it differs: libcurl codes as transport_error are refused (RubyStream
    # reads with Net::HTTP and reports the named transport errors only); a JSON
    # body that repeats a key is read with its last value, where the C reader
    # takes the first.
    module FallbackClassifier
      MESSAGE_MAX = 511
      DETAIL_MAX = 2047
      SNIPPET_MAX = 300
      STREAMED_NOTE = " (part of the reply had already been streamed)"

      module_function

      # provider is validated like every entry point's (ConfigurationError); the
      # codes of every provider are read whichever it is, since gateways relay them.
      def classify(provider:, status:, body: "", headers: {}, transport_error: nil, streamed: false, mid_stream: false)
        Providers.fetch(provider)
        status = status_arg(status)
        transport = transport_arg(transport_error)
        pairs = header_pairs(headers)
        # Cancelled never retries, whatever a header says.
        return build(**from_transport(:cancelled, status)) if transport == :cancelled

        failure = if status >= 400 || mid_stream || transport.nil?
          from_response(status, body, mid_stream)
        else
          from_transport(transport, status)
        end
        apply_headers(failure, pairs) if status >= 400
        failure[:detail] = with_streamed_note(failure[:detail]) if streamed
        build(**failure)
      end

      # ---- responses ----

      def from_response(http_status, body, mid_stream)
        error = ProviderError.new(body, mid_stream: mid_stream)
        empty_body = ProviderError.blank?(body)
        # A mid-stream error (HTTP 200) may carry the status it stands for.
        status = (http_status < 400 && error.numeric_code >= 400) ? error.numeric_code : http_status
        kind, compact = decide(error, status, empty_body, mid_stream)

        failure = defaults(kind, http_status)
        if kind == :connection_failed && status >= 300
          # A redirect we do not follow answers the same way every time.
          failure.update(retryable: false, action: :fail)
        end
        failure[:action] = :compact if kind == :request_too_large && compact
        failure[:message] = invalid_model_copy(error) || failure[:message] if kind == :invalid_model
        if kind == :bad_request && error.message? && (error.json? || mid_stream)
          # Unrecognised: the provider's own words are the best copy there is.
          words = CleanText.clean(error.message, MESSAGE_MAX)
          failure[:message] = words unless words.empty?
        end
        failure[:detail] = response_detail(error, http_status, body, empty_body)
        failure[:retry_after] = error.retry_delay || (%i[rate_limited overloaded].include?(kind) ? error.wait_in_words : nil)
        failure
      end

      # [kind, compact]: compact is true for a request too large because of tokens.
      def decide(error, status, empty_body, mid_stream)
        by_code(error, status) ||
          (status < 500 && by_phrase(error, status)) ||
          (status >= 400 && by_status(error, status, empty_body)) ||
          after_success(error, status, mid_stream)
      end

      # What the provider's own codes say, when they say something specific.
      def by_code(error, status)
        case (name = ProviderCodes.named(error))
        when nil then nil
        when :context_overflow then (status == 413) ? too_large(error) : [name]
        when :rate_limited then rate_limit(error)
        when :resource_exhausted then resource_exhausted(error)
        when :request_too_large then too_large(error)
        # A server error the status or the words call an overload (HTTP 529 is Anthropic's).
        when :server_error then [(status == 503 || status == 529 || error.has?("overloaded")) ? :overloaded : name]
        else [name]
        end
      end

      # What the message's words say, for errors whose codes name no failure. A 429
      # that names no quota is a rate limit whatever else its words say.
      def by_phrase(error, status)
        if says?(error, :authentication) || status == 401
          [:authentication]
        elsif says?(error, :quota_exhausted)
          [:quota_exhausted]
        elsif status == 429
          nil
        elsif about_context?(error)
          (status == 413) ? too_large(error) : [:context_overflow]
        elsif about_model?(error)
          [:invalid_model]
        elsif says?(error, :permission)
          [:permission]
        elsif says?(error, :refusal)
          [:refusal]
        end
      end

      def by_status(error, status, empty_body)
        case status
        when 400 then [empty_body ? :empty_bad_request : :bad_request]
        when 401 then [:authentication]
        when 402 then [:quota_exhausted]
        when 403 then [:permission]
        when 408, 504 then [:timeout]
        when 413 then too_large(error)
        when 429 then rate_limit(error)
        when 503, 529 then [:overloaded]
        when 500.. then [error.has?("overloaded") ? :overloaded : :server_error]
        else [:bad_request]
        end
      end

      # Below HTTP 400 with no specific code: an error event in an accepted stream
      # (the request was fine), a redirect we do not follow, or a success status
      # with no stream in it.
      def after_success(error, status, mid_stream)
        if error.error? || mid_stream
          if ProviderCodes.bad_request?(error)
            [:bad_request]
          elsif error.has?("overloaded")
            [:overloaded]
          elsif error.has?("rate limit") || error.has?("too many requests")
            [:rate_limited] # OpenAI-compatible servers say so mid-stream
          else
            [:server_error]
          end
        elsif status >= 300 || status.zero?
          [:connection_failed]
        else
          [:malformed_stream]
        end
      end

      # The message holds one of the taxonomy's phrases for kind `name`.
      def says?(error, name)
        error.any?(Taxonomy.phrases(name))
      end

      def about_context?(error)
        ProviderCodes.names?(error, :context_overflow) || says?(error, :context_overflow)
      end

      def about_model?(error)
        return true if error.starts_with?("model:")

        error.has?("model") && says?(error, :invalid_model)
      end

      def too_large(error)
        [:request_too_large, about_context?(error) || error.has?("token")]
      end

      # A 429 whose request alone is over the per-minute budget: waiting will not help.
      def rate_limit(error)
        error.starts_with?("request too large") ? too_large(error) : [:rate_limited]
      end

      # Gemini's RESOURCE_EXHAUSTED covers both a per-minute limit and a used-up quota.
      def resource_exhausted(error)
        return [:quota_exhausted] if error.quota_per_day?
        return [:quota_exhausted] if error.has?("billing") && error.retry_delay.nil? && !error.quota_per_minute?

        [:rate_limited]
      end

      def invalid_model_copy(error)
        name = error.model_name
        return nil unless name

        CleanText.clean(Failure.invalid_model_message(name), MESSAGE_MAX)
      end

      # The provider's own words; else its codes; else what the body was.
      def response_detail(error, status, body, empty_body)
        if error.message? && !error.message.empty?
          words = CleanText.clean(error.message, DETAIL_MAX)
          return words unless words.empty?
        end
        codes = [error.type, error.code, error.status].reject(&:empty?)
        if codes.any?
          "HTTP #{status}: #{CleanText.clean(codes.join(" "), DETAIL_MAX)}"
        elsif empty_body
          "HTTP #{status} with an empty body"
        else
          # Not JSON (a proxy's HTML page, say): its first bytes, cleaned.
          CleanText.clean("HTTP #{status}: ".b + body.to_s.b.byteslice(0, SNIPPET_MAX), DETAIL_MAX)
        end
      end

      # ---- transport ----

      def from_transport(transport, status)
        kind, what = Taxonomy::TRANSPORTS.fetch(transport)
        failure = defaults(kind, status)
        # The same bytes would fail the same way again.
        failure.update(retryable: false, action: :fail) if transport == :too_large
        failure[:detail] = what
        failure
      end

      # ---- headers ----

      # retry-after and x-should-retry speak for an error response, not for a 200
      # whose stream broke.
      def apply_headers(failure, pairs)
        wait = header_wait(pairs)
        failure[:retry_after] = wait if wait
        case should_retry(pairs)
        when true
          failure[:retryable] = true
          failure[:action] = :retry if failure[:action] == :fail
        when false
          failure[:retryable] = false
          failure[:action] = :fail if failure[:action] == :retry
        end
      end

      # The millisecond form is the more precise of the two when both came; the
      # first valid value of each counts.
      def header_wait(pairs)
        now = Time.now.to_f
        ms = first_value(pairs, "retry-after-ms") { |value| RetryAfter.milliseconds(value) }
        ms || first_value(pairs, "retry-after") { |value| RetryAfter.seconds(value, now) }
      end

      def should_retry(pairs)
        value = pairs.find { |name, _| name.casecmp?("x-should-retry") }&.last
        return nil unless value

        answer = value.gsub(/\A[ \t]+|[ \t]+\z/, "").downcase
        {"true" => true, "false" => false}[answer]
      end

      def first_value(pairs, header)
        pairs.each do |name, value|
          next unless name.casecmp?(header)

          parsed = yield(value)
          return parsed if parsed
        end
        nil
      end

      # ---- arguments and output ----

      # Headers as [name, value] String pairs, from a Hash or pairs, as the C binding takes them.
      def header_pairs(headers)
        return [] if headers.nil?

        pairs = case headers
        when Hash then headers.to_a
        when Array
          headers.each do |pair|
            next if pair.is_a?(Array) && pair.size == 2

            raise ArgumentError, "each header must be a [name, value] pair, got #{pair.inspect}"
          end
        else
          raise TypeError, "headers must be a Hash or an Array of [name, value] pairs, not #{headers.class}"
        end
        pairs.map { |name, value| [header_string(name), header_string(value)] }
      end

      def header_string(value)
        value = value.first if value.is_a?(Array)
        value.to_s.b
      end

      def status_arg(status)
        return 0 if status.nil?
        raise TypeError, "status must be an Integer HTTP status or nil, not #{status.class}" unless status.is_a?(Integer)
        raise ArgumentError, "status #{status} is not an HTTP status" unless status.between?(0, 999)

        status
      end

      # As the extension reports them: a value the gem does not understand is a
      # ConfigurationError, a value of another type a TypeError.
      def transport_arg(transport_error)
        return transport_error if transport_error.nil? || Taxonomy::TRANSPORTS.key?(transport_error)
        unless transport_error.is_a?(Symbol) || transport_error.is_a?(Integer)
          raise TypeError, "transport_error must be nil, a libcurl code (Integer) or a Symbol, not #{transport_error.class}"
        end

        raise ConfigurationError, "unknown transport_error #{transport_error.inspect}: use nil or one of " \
          "#{Taxonomy::TRANSPORTS.keys.map(&:inspect).join(", ")} (libcurl codes need the C extension)"
      end

      def defaults(kind, status)
        spec = Taxonomy.kind(kind)
        {kind: kind, retryable: spec.retryable, action: spec.action, message: spec.copy, detail: "",
         retry_after: nil, status: status}
      end

      # Cut at a character boundary to make room for the note.
      def with_streamed_note(detail)
        return STREAMED_NOTE.strip if detail.empty?

        room = DETAIL_MAX - STREAMED_NOTE.bytesize
        kept = (detail.bytesize > room) ? detail.byteslice(0, room).scrub("") : detail
        kept + STREAMED_NOTE
      end

      def build(kind:, retryable:, action:, message:, detail:, retry_after:, status:)
        Failure.new(kind: kind, retryable: retryable, action: action, message: message.dup.freeze,
          detail: detail.empty? ? nil : detail.dup.freeze, retry_after: retry_after&.to_f,
          status: status.positive? ? status : nil)
      end
    end
  end
end
