# frozen_string_literal: true

require "uri"

module AssistantChatNative
  # The one place secrets are hidden before anything is shown, logged, reported or
  # serialized. Every #inspect, #to_h and #as_json that could reach an API key, a
  # request header or a URL goes through it, as do the worker's error copy, log
  # lines and error reports.
  #
  #   Redaction.url("https://user:pw@gw.example:8443/v1?key=abc")
  #   # => "https://[FILTERED]@gw.example:8443/v1?[FILTERED]"
  #   Redaction.key("sk-ant-...")           # => "[FILTERED]" (nil stays nil)
  #   Redaction.text("boom: api_key=sk-...", max_bytes: 200)
  #   # => "boom: api_key=[redacted]" (the classifier's cleaning, core/failure.c)
  #   Redaction.exception(error)            # same class and backtrace, redacted message
  module Redaction
    # What a key, a URL's userinfo or its query shows as.
    MARKER = "[FILTERED]"
    # Bytes of a message a person may be shown: the classifier's message bound.
    MESSAGE_BYTES = 511
    # Bytes of text one log line or error report carries: the classifier's detail bound.
    LOG_BYTES = 2047
    # A URL inside free text (an exception message, say).
    URL_IN_TEXT = %r{\b[a-z][a-z0-9+.-]*://[^\s"'<>`]+}in
    # Causes followed when an exception is redacted; deeper ones are dropped.
    CAUSE_DEPTH = 3

    module_function

    # scheme://host:port/path, with userinfo and query (and fragment) replaced by MARKER.
    # nil stays nil; text that is not a URL shows as MARKER.
    def url(value)
      return nil if value.nil?

      # A URL redacted before parses again, so redacting twice changes nothing.
      uri = URI.parse(value.to_s.gsub(MARKER, "x"))
      return MARKER unless uri.scheme && uri.host

      userinfo = uri.userinfo ? "#{MARKER}@" : ""
      port = (uri.port && uri.port != uri.default_port) ? ":#{uri.port}" : ""
      query = (uri.query || uri.fragment) ? "?#{MARKER}" : ""
      "#{uri.scheme}://#{userinfo}#{uri.host}#{port}#{uri.path}#{query}"
    rescue URI::Error
      MARKER
    end

    # An API key or header value: MARKER, never any part of it. nil stays nil.
    def key(value)
      (value.nil? || value.to_s.empty?) ? value : MARKER
    end

    # Header names with every value replaced by MARKER.
    def headers(value)
      value.to_h.to_h { |name, _| [name.to_s, MARKER] }
    end

    # Free text made safe to show and log, bounded to max_bytes of UTF-8: URLs as #url
    # shows them, then the classifier's cleaning (keys, bearer tokens and credentials
    # become "[redacted]", control characters fold into spaces).
    def text(value, max_bytes: LOG_BYTES)
      source = value.to_s
      # Cleaning folds whitespace, so more input than output is read, but never all of it.
      limit = max_bytes * 8 + 1024
      if source.bytesize > limit
        # A key cut at the limit may be too short to be recognised: drop its start.
        source = source.byteslice(0, limit).b.sub(%r{[A-Za-z0-9\-_.*~+/%=]{1,256}\z}n, "")
      end
      source = source.b.gsub(URL_IN_TEXT) { |found| url(found.force_encoding(Encoding::UTF_8).scrub) }
      clean(source, max_bytes)
    end

    # An exception fit to log and report: of the same class, with the same backtrace,
    # its message (and its causes') as #text leaves it. The exception itself when
    # nothing needed hiding.
    def exception(error, max_bytes: LOG_BYTES, depth: CAUSE_DEPTH)
      message = safe_message(error)
      redacted = text(message, max_bytes: max_bytes)
      cause = (depth > 0 && error.cause) ? exception(error.cause, max_bytes: max_bytes, depth: depth - 1) : nil
      return error if redacted == message && cause.equal?(error.cause)

      copy = copy_of(error, redacted)
      # Raised once so the copy's cause is the redacted one (or none), not the original.
      begin
        raise copy, cause: cause
      rescue Exception => raised # rubocop:disable Lint/RescueException
        raised
      end
    end

    def safe_message(error)
      error.message.to_s
    rescue Exception # rubocop:disable Lint/RescueException
      ""
    end

    def copy_of(error, message)
      copy = same_class(error, message) || Error.new("#{error.class}: #{message}")
      copy.set_backtrace(error.backtrace) if error.backtrace
      copy
    end

    # A copy of error's class carrying message; nil for a class that cannot be copied
    # (no allocate, an #exception of its own), which the gem's Error then stands for.
    def same_class(error, message)
      copy = error.class.allocate.exception(message)
      # A class that builds #message from its own state ignores the one given.
      unless safe_message(copy) == message
        copy.define_singleton_method(:message) { message }
        copy.define_singleton_method(:to_s) { message }
      end
      copy
    rescue NoMethodError, TypeError, ArgumentError
      nil
    end

    def clean(text, max_bytes)
      if AssistantChatNative.respond_to?(:clean_text)
        AssistantChatNative.clean_text(text, max_bytes)
      else
        RubyStream::FallbackClassifier::CleanText.clean(text, max_bytes)
      end
    end
    private_class_method :safe_message, :copy_of, :same_class, :clean
  end
end
