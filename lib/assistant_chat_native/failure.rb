# frozen_string_literal: true

module AssistantChatNative
  # A classified failure (DESIGN.md section 5). Built by the C classifier; plain data.
  #
  #   kind         one of KINDS
  #   retryable?   whether trying the same request again may succeed
  #   retry_after  seconds the provider asked us to wait, or nil
  #   action       :retry, :compact, :escalate or :fail
  #   message      user-facing copy
  #   detail       the provider's own words (or what the transport saw)
  #   status       the HTTP status, or nil when there was no response
  class Failure
    KINDS = %i[
      rate_limited quota_exhausted overloaded server_error context_overflow
      request_too_large invalid_model authentication permission bad_request
      empty_bad_request timeout stalled connection_failed connection_lost
      malformed_stream refusal cancelled
    ].freeze
    ACTIONS = %i[retry compact escalate fail].freeze

    attr_reader :kind, :retry_after, :action, :message, :detail, :status

    def initialize(kind:, retryable:, action:, message:, detail: nil, retry_after: nil, status: nil)
      raise ArgumentError, "unknown failure kind #{kind.inspect}" unless KINDS.include?(kind)
      raise ArgumentError, "unknown failure action #{action.inspect}" unless ACTIONS.include?(action)

      @kind = kind
      @retryable = retryable ? true : false
      @action = action
      @message = message
      @detail = detail
      @retry_after = retry_after
      @status = status
      freeze
    end

    def retryable?
      @retryable
    end

    def to_h
      {kind: kind, retryable: retryable?, retry_after: retry_after, action: action,
       message: message, detail: detail, status: status}
    end

    def ==(other)
      other.is_a?(Failure) && other.to_h == to_h
    end
    alias_method :eql?, :==

    def hash
      to_h.hash
    end

    def to_s
      message
    end

    def inspect
      "#<#{self.class.name} kind=#{kind} action=#{action} status=#{status.inspect} message=#{message.inspect}>"
    end
  end
end
