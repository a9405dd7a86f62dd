# frozen_string_literal: true

require "json"
require "strscan"
require_relative "../strict_json"

module AssistantChatNative
  class RubyStream
    module FallbackClassifier
      # What an error body said, whatever its shape, read from the providers'
      # documented error bodies:
      #   Anthropic {"type":"error","error":{"type":"rate_limit_error","message":"..."}}
      #   OpenAI    {"error":{"message":"...","type":"...","code":"...","param":...}}
      #             (and `[{"error":{...}}]`, as some compatible endpoints send)
      #   Gemini    {"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED",
      #              "details":[RetryInfo, QuotaFailure, ErrorInfo, ...]}}
      # A body that is not JSON counts as plain text (a mid-stream error's words or
      # a proxy's one-line answer) unless it looks like an HTML page.
      #
      # Bounded work: a body over MAX_JSON bytes is not parsed (its first bytes
      # are still read as text); JSON with a comment or nested deeper than
      # StrictJSON::MAX_DEPTH (100, as in C) is read as text too; the message kept
      # and searched is at most MESSAGE_MAX bytes.
      class ProviderError
        MAX_JSON = 1024 * 1024
        MESSAGE_MAX = 2047
        FIELD_MAX = 95
        MAX_DETAILS = 16
        MODEL_NAME = %r{\A(?:[sS]/)?[: `'"]*([A-Za-z0-9\-_.:/@]{1,100})}n

        attr_reader :type, :code, :status, :numeric_code, :message, :retry_delay

        # Nothing but spaces, tabs and line ends (or nothing at all).
        def self.blank?(body)
          body.nil? || body.to_s.b.match?(/\A[ \t\r\n]*+\z/n)
        end

        def initialize(body, mid_stream:)
          @type = @code = @status = ""
          @numeric_code = 0
          @message = nil
          @retry_delay = nil
          @json = false
          @has_error = false
          @quota_per_day = @quota_per_minute = @api_key_invalid = false
          read_body(body.to_s.b, mid_stream)
        end

        def json? = @json

        # It held an error object, an error string or a message (or is a mid-stream error's words).
        def error? = @has_error

        def message? = !@message.nil?

        def quota_per_day? = @quota_per_day

        def quota_per_minute? = @quota_per_minute

        def api_key_invalid? = @api_key_invalid

        # The message holds needle (lowercase), in any case.
        def has?(needle)
          !@lower.nil? && @lower.include?(needle)
        end

        def any?(needles)
          needles.any? { |needle| has?(needle) }
        end

        def starts_with?(prefix)
          !@lower.nil? && @lower.start_with?(prefix)
        end

        # The model the message names: "model: claude-x", "The model `gpt-x` does not
        # exist", "models/gemini-x is not found". Only names that look like model
        # ids (a digit, '-', '.', '_' or '/' in them) count; nil when none does.
        def model_name
          return nil unless @message

          from = 0
          while (at = @lower.index("model", from))
            from = at + 5
            match = MODEL_NAME.match(@message.byteslice(from, @message.bytesize - from))
            name = match && match[1].sub(/[.:]+\z/n, "")
            return name if name&.match?(%r{[0-9\-._/]}n)
          end
          nil
        end

        # A wait the message states, for when no header or RetryInfo does: OpenAI's
        # "Please try again in 1m30.5s" (a Go duration: h, m, s, ms), Gemini's
        # "Please retry in 56.68s" and Azure's "Please retry after 20 seconds".
        def wait_in_words
          return nil unless @lower

          if (at = @lower.index("try again in "))
            go_duration(@lower.byteslice(at + 13..))
          elsif (at = @lower.index("retry in "))
            go_duration(@lower.byteslice(at + 9..))
          elsif (at = @lower.index("retry after "))
            match = /\A(\d{1,9}) second/n.match(@lower.byteslice(at + 12..))
            match && match[1].to_f
          end
        end

        private

        def read_body(body, mid_stream)
          return if self.class.blank?(body)

          parse_json(body) if body.bytesize <= MAX_JSON && body.match?(/\A[ \t\r\n]*+[{\[]/n)
          return if @json || (!mid_stream && body.start_with?("<"))

          # Plain text: a mid-stream error's words, or a proxy's one-line answer.
          set_message(body)
          @has_error = mid_stream
        end

        def parse_json(body)
          text = body.dup.force_encoding(Encoding::UTF_8)
          return unless text.valid_encoding?

          top = StrictJSON.parse(text, allow_duplicate_key: true)
          @json = true
          read_json(top)
        rescue JSON::ParserError
          nil
        end

        def read_json(top)
          # `[{"error": {...}}]`: the first object of the array speaks for it.
          top = top.first(MAX_DETAILS).find { |value| value.is_a?(Hash) } if top.is_a?(Array)
          return unless top.is_a?(Hash)

          error = top["error"]
          if error.is_a?(Hash)
            @has_error = true
            read_fields(error)
          elsif error.is_a?(String)
            # {"error": "text", "code": ...}
            @has_error = true
            set_message(json_text(error))
            read_fields(top)
          elsif top["message"].is_a?(String) || top["detail"].is_a?(String) || error_type?(top["type"])
            # The inner error object on its own, or {"message": ...} / {"detail": ...}.
            @has_error = true
            read_fields(top)
            @type = "" if @type == "error"
          end
        end

        def error_type?(type)
          type.is_a?(String) && type.end_with?("_error")
        end

        def read_fields(error)
          code = error["code"]
          status = error["status"]
          @type = field(error["type"]) if error["type"].is_a?(String)
          if code.is_a?(String)
            @code = field(code)
          elsif http_status?(code)
            @numeric_code = code
          end
          if status.is_a?(String)
            @status = field(status)
          elsif http_status?(status) && @numeric_code.zero?
            @numeric_code = status
          end
          text = [error["message"], error["detail"], error["error_description"]].find { |value| value.is_a?(String) }
          set_message(json_text(text)) if text && !message?
          read_details(error["details"])
        end

        def http_status?(value)
          value.is_a?(Integer) && value.between?(100, 599)
        end

        # Gemini's google.rpc details: RetryInfo, QuotaFailure, ErrorInfo.
        def read_details(details)
          each_string(details, "@type") do |type, detail|
            if type.end_with?("google.rpc.RetryInfo")
              delay = detail["retryDelay"]
              @retry_delay ||= RetryAfter.duration(delay) if delay.is_a?(String)
            elsif type.end_with?("google.rpc.QuotaFailure")
              read_violations(detail["violations"])
            elsif type.end_with?("google.rpc.ErrorInfo")
              @api_key_invalid = true if detail["reason"] == "API_KEY_INVALID"
            end
          end
        end

        def read_violations(violations)
          each_string(violations, "quotaId") do |id, _violation|
            @quota_per_day = true if id.include?("PerDay")
            @quota_per_minute = true if id.include?("PerMinute")
          end
        end

        # Yields the String under key, and the object, of each of the first MAX_DETAILS
        # objects of a JSON array; anything else in the body (it is the provider's, or
        # a hostile server's) is passed over.
        def each_string(list, key)
          return unless list.is_a?(Array)

          list.first(MAX_DETAILS).each do |item|
            value = item[key] if item.is_a?(Hash)
            yield value, item if value.is_a?(String)
          end
        end

        def field(value)
          json_text(value).byteslice(0, FIELD_MAX)
        end

        # A JSON string as the C reader sees it: it ends at an escaped NUL ("\u0000").
        def json_text(value)
          value.b.split("\0", 2).first.to_s
        end

        def set_message(text)
          @message = text.byteslice(0, MESSAGE_MAX).b
          @lower = @message.downcase
        end

        # Seconds in a Go duration ("1m30.5s", "250ms", "56.68s"); nil when none.
        def go_duration(text)
          total = 0.0
          parts = 0
          scanner = StringScanner.new(text)
          while parts < 4 && (number = scanner.scan(/\d*\.?\d*/n)) && !number.empty?
            unit = scanner.scan(/ms|h|m|s/n)
            break unless unit

            total += number_value(number) * {"h" => 3600.0, "m" => 60.0, "s" => 1.0, "ms" => 0.001}.fetch(unit)
            parts += 1
          end
          (parts > 0) ? total : nil
        end

        # Up to 9 whole digits and 9 fraction digits count, as in the C reader.
        def number_value(number)
          whole, fraction = number.split(".", 2)
          whole.to_s[0, 9].to_i + (fraction.to_s.empty? ? 0.0 : fraction[0, 9].to_i / (10.0**fraction[0, 9].length))
        end
      end
    end
  end
end
