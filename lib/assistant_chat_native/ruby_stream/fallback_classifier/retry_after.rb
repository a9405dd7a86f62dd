# frozen_string_literal: true

module AssistantChatNative
  class RubyStream
    module FallbackClassifier
      # How long a provider asked us to wait, read as core/retry_after.c reads it:
      # `Retry-After` (delay-seconds or an HTTP-date in its three forms, RFC 9110
      # sections 5.6.7 and 10.2.3), `retry-after-ms`, and Gemini's RetryInfo
      # durations ("43s"). Each returns seconds as a Float, or nil for a value that
      # is none of these.
      module RetryAfter
        # A non-negative decimal with at most 12 integer digits ("17", "1.5").
        DECIMAL = /\A(\d{1,12})(?:\.(\d+))?\z/

        DAYS = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"
        LONG_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
        MONTHS = %w[Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec].freeze
        MONTH = MONTHS.join("|")
        CLOCK = "(\\d\\d):(\\d\\d):(\\d\\d)"

        # Sun, 06 Nov 1994 08:49:37 GMT
        IMF_FIXDATE = /\A(?:#{DAYS}), (\d\d) (#{MONTH}) (\d{4}) #{CLOCK} (?:GMT|UTC)\z/
        # Sunday, 06-Nov-94 08:49:37 GMT
        RFC850 = /\A(?:#{LONG_DAYS}), (\d\d)-(#{MONTH})-(\d\d) #{CLOCK} (?:GMT|UTC)\z/
        # Sun Nov  6 08:49:37 1994
        ASCTIME = /\A(?:#{DAYS}) (#{MONTH}) (\d\d| \d) #{CLOCK} (\d{4})\z/

        module_function

        def seconds(value, now)
          text = trim(value)
          decimal(text) || until_date(text, now)
        end

        def milliseconds(value)
          ms = decimal(trim(value))
          ms && ms / 1000.0
        end

        # A google.protobuf.Duration in JSON: "43s", "0.5s".
        def duration(value)
          text = trim(value)
          return nil if text.bytesize < 2 || !text.end_with?("s")

          decimal(text.delete_suffix("s"))
        end

        def decimal(text)
          match = DECIMAL.match(text)
          return nil unless match

          fraction = match[2].to_s[0, 9]
          match[1].to_i + (fraction.empty? ? 0.0 : fraction.to_i / (10.0**fraction.length))
        end

        # Seconds from now to an HTTP-date; 0 for a date in the past.
        def until_date(text, now)
          at = http_date(text, now)
          return nil unless at

          (at > now) ? at - now : 0.0
        end

        # The Unix time of an HTTP-date, or nil.
        def http_date(text, now)
          if (m = IMF_FIXDATE.match(text))
            unix_time(m[3].to_i, m[2], m[1].to_i, m[4], m[5], m[6])
          elsif (m = RFC850.match(text))
            unix_time(full_year(m[3].to_i, now), m[2], m[1].to_i, m[4], m[5], m[6])
          elsif (m = ASCTIME.match(text))
            unix_time(m[6].to_i, m[1], m[2].to_i, m[3], m[4], m[5])
          end
        end

        # RFC 9110: a two-digit year more than 50 years ahead is in the past century.
        def full_year(two_digits, now)
          current = Time.at([now, 0].max).utc.year
          year = two_digits + (current / 100) * 100
          (year > current + 50) ? year - 100 : year
        end

        def unix_time(year, month_name, day, hour, minute, second)
          month = MONTHS.index(month_name) + 1
          hour, minute, second = [hour, minute, second].map(&:to_i)
          return nil if day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60

          Time.utc(year, month, day, hour, minute, 0).to_i + second.to_f
        end

        def days_in_month(year, month)
          return 29 if month == 2 && ((year % 4).zero? && year % 100 != 0 || (year % 400).zero?)

          [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        end

        def trim(value)
          value.to_s.b.gsub(/\A[ \t]+|[ \t]+\z/n, "")
        end
      end
    end
  end
end
