# frozen_string_literal: true

module AssistantChatNative
  class RubyStream
    module FallbackClassifier
      # The words that name an error when its codes are generic, lowercase, as
      # core/classify.c searches for them in the provider's message.
      module Phrases
        CONTEXT = [
          "prompt is too long", "prompt too long", "context length", "context_length", "maximum context",
          "context window", "context limit", "too many tokens", "input is too long",
          "exceeds the maximum number of tokens", "maximum number of tokens allowed", "input token count",
          "reduce the length of the messages"
        ].freeze

        QUOTA = [
          "credit balance", "billing", "insufficient_quota", "insufficient balance", "insufficient credits",
          "api usage limit", "usage limits", "exceeded your current quota", "spend limit"
        ].freeze

        AUTH = [
          "api key not valid", "invalid api key", "incorrect api key", "invalid x-api-key", "invalid_api_key",
          "api key expired", "no api key", "missing api key"
        ].freeze

        LOCATION = [
          "location is not supported", "not available in your country", "not supported in your region",
          "unsupported_country", "country, region, or territory not supported"
        ].freeze

        DISABLED = [
          "has been disabled", "has been deactivated", "has been suspended", "account is not active",
          "organization is disabled"
        ].freeze

        FILTER = [
          "content management policy", "content filtering policy", "content_policy_violation", "safety system"
        ].freeze

        MODEL = [
          "does not exist", "not found", "invalid model", "unknown model", "no such model", "model not available",
          "not a valid model", "unexpected model name"
        ].freeze
      end
    end
  end
end
