# frozen_string_literal: true

require "json"
require_relative "limits"

module AssistantChatNative
  class RubyStream
    # JSON from a provider, within the bounds of Limits: comments are refused
    # whatever the json gem's version allows, nesting past MAX_DEPTH raises
    # JSON::NestingError (counted as JSON.generate counts it: the outermost level is
    # 1), and, for tool-call arguments, a number token longer than MAX_NUMBER_CHARS
    # is refused before any number is converted. Every refusal is a JSON::ParserError.
    # A key given twice keeps its last value, as RFC 8259 notes most readers do and
    # the providers' own SDKs (json.loads, JSON.parse) do; json 3 refuses it unless told.
    class StrictJSON
      MAX_DEPTH = Limits::MAX_JSON_DEPTH
      MAX_NUMBER_CHARS = Limits::MAX_NUMBER_CHARS
      STRING = /"(?:[^"\\]|\\.)*+"/mn
      LONG_NUMBER = /[-+.eE0-9]{#{MAX_NUMBER_CHARS + 1},}/n
      # The max_nesting that makes JSON.parse refuse MAX_DEPTH + 1 levels: some json
      # versions let one level more through than JSON.generate (and C) accept.
      NESTING = begin
        JSON.parse("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), max_nesting: MAX_DEPTH)
        MAX_DEPTH - 1
      rescue JSON::NestingError
        MAX_DEPTH
      end

      # A comment was found outside strings.
      class Comment < JSON::ParserError; end

      # A number token is longer than MAX_NUMBER_CHARS.
      class NumberTooLong < JSON::ParserError; end

      # options: more of JSON.parse's options.
      def self.parse(text, numbers: false, **options)
        bytes = text.b
        bare = nil
        if bytes.include?("/")
          bare = bytes.gsub(STRING, '""')
          raise Comment, "comments are not JSON" if bare.include?("/")
        end
        if numbers && bytes.match?(LONG_NUMBER)
          bare ||= bytes.gsub(STRING, '""')
          raise NumberTooLong, "a number is longer than #{MAX_NUMBER_CHARS} characters" if bare.match?(LONG_NUMBER)
        end
        JSON.parse(without_lone_surrogates(text), allow_duplicate_key: true, **options, max_nesting: NESTING)
      end

      SURROGATE = /\\u[dD][89a-fA-F]/
      # Each escape in turn (so an escaped backslash is never read as the start of
      # one): a surrogate pair, a lone surrogate, or any other escape.
      ESCAPE = /\\(?:(u[dD][89abAB]\h{2}\\u[dD][c-fC-F]\h{2})|(u[dD][89a-fA-F]\h{2})|.)/m

      # RFC 8259 (8.2) lets a string hold a lone surrogate escape, which no UTF-8
      # string can: it is read as U+FFFD rather than refusing the whole event, as
      # the json gem would.
      def self.without_lone_surrogates(text)
        return text unless text.match?(SURROGATE)

        text.gsub(ESCAPE) { |escape| Regexp.last_match(2) ? "\\ufffd" : escape }
      end
    end
  end
end
