# frozen_string_literal: true

require_relative "error"
require_relative "failure"

module AssistantChatNative
  # A turn ended in a classified failure: the exception the worker reports, one
  # class per failure kind, so an error tracker groups rate limits apart from
  # invalid models (ProviderError::RateLimited, ProviderError::InvalidModel, ...).
  #
  #   error.failure        the Failure (kind, action, copy, the provider's words)
  #   error.kind           the failure's kind
  #   error.model          the model the turn was on
  #   error.response_body  the provider's own words (Failure#detail), or nil
  #   error.response       responds to body and status, as an HTTP client's error
  #                        does, so code written for the seed's `e.response&.body`
  #                        reads the same words
  #
  # The message names the kind, the model and the provider's words; it is for
  # logs and reports. What the user reads is failure.message.
  class ProviderError < Error
    # What #response answers: the provider's status and words.
    Response = Struct.new(:status, :body)

    attr_reader :failure, :model

    # The class for a failure of kind (ProviderError itself for a kind it does not know).
    def self.for_kind(kind)
      KIND_CLASSES.fetch(kind.to_sym, ProviderError)
    end

    # A new error of the class for failure's kind.
    def self.from(failure, model: nil)
      for_kind(failure.kind).new(failure, model: model)
    end

    def initialize(failure, model: nil)
      @failure = failure
      @model = model&.to_s
      words = failure.detail.to_s.empty? ? failure.message : failure.detail
      super("#{failure.kind} failure#{" on #{@model}" if @model}: #{words}")
    end

    def kind
      failure.kind
    end

    def response_body
      body = failure.detail.to_s
      body.empty? ? nil : body
    end

    def response
      Response.new(failure.status, response_body)
    end

    # One subclass per Failure kind: RateLimited for :rate_limited, and so on.
    KIND_CLASSES = Failure::KINDS.to_h do |kind|
      name = kind.to_s.split("_").map(&:capitalize).join
      [kind, const_set(name, Class.new(self))]
    end.freeze
  end
end
