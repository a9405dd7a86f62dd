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
        JSON.parse(text, allow_duplicate_key: true, **options, max_nesting: NESTING)
      end
    end
  end
end
