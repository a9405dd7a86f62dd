# frozen_string_literal: true

require "json"

module AssistantChatNative
  class RubyStream
    # JSON from a provider, read as the C core reads it (core/json_walk.h, accum.h):
    # comments are refused whatever the json gem's version allows, nesting past
    # MAX_DEPTH raises JSON::NestingError (Ruby's default max_nesting, counted as
    # ACN_JSON_MAX_DEPTH and JSON.generate count it: the outermost level is 1), and, for tool-call arguments, a number token
    # longer than MAX_NUMBER_CHARS is refused before any number is converted.
    # Every refusal is a JSON::ParserError.
    class StrictJSON
      MAX_DEPTH = 100 # core/acn.h ACN_JSON_MAX_DEPTH
      MAX_NUMBER_CHARS = 100 # core/accum.h ACN_ACCUM_MAX_NUMBER_CHARS
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
        JSON.parse(text, **options, max_nesting: NESTING)
      end
    end
  end
end
