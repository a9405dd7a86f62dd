# frozen_string_literal: true

require_relative "taxonomy"

module AssistantChatNative
  # A classified failure (DESIGN.md section 5). Built by the C classifier; plain data.
  #
  #   kind         one of KINDS
  #   retryable?   whether trying the same request again may succeed
  #   retry_after  seconds the provider asked us to wait (Float), or nil
  #   action       :retry, :compact, :escalate or :fail
  #   message      user-facing copy
  #   detail       the provider's own words (or what the transport saw)
  #   status       the HTTP status, or nil when there was no response
  #
  # Build one from a response with the classifier (C extension):
  #
  #   AssistantChatNative.classify(provider: :anthropic, status: 429, body: response.body,
  #     headers: response.headers)
  #   # => #<AssistantChatNative::Failure kind=rate_limited action=retry status=429 ...>
  #
  # Keywords: provider (:anthropic, :openai, :gemini), status (Integer, or nil/0
  # when no response came), body (the error body, or with mid_stream: true the
  # payload of an error event that arrived after HTTP 200), headers (a Hash in any
  # case, or [name, value] pairs; retry-after, retry-after-ms and x-should-retry
  # are read), transport_error (nil, an Integer libcurl code, or one of :connect,
  # :timeout, :stalled, :lost, :incomplete, :malformed, :too_large, :cancelled)
  # and streamed (output was already shown: noted in detail, kind unchanged).
  #
  # message is safe to show the person chatting: plain copy per kind, the model's
  # name for an invalid model, and the provider's own words for an error it does
  # not recognise. Neither message nor detail ever holds a header or an API key.
  class Failure
    # The kinds and their defaults are the taxonomy's (core/failure_kinds.def).
    KINDS = Taxonomy::KINDS.keys.freeze
    ACTIONS = %i[retry compact escalate fail].freeze

    # A failure of `kind` with the taxonomy's action, retryability and copy for it;
    # fields given override those (a policy that ends a retryable kind, say).
    def self.of(kind, **fields)
      defaults = Taxonomy.kind(kind)
      new(kind: kind, retryable: defaults.retryable?, action: defaults.action, message: defaults.copy, **fields)
    end

    # The copy for an invalid model, naming it when the name is known: the
    # taxonomy's, as the C classifier writes it, for the errors Ruby reads itself
    # (an unknown registry key, a fallback classification).
    def self.invalid_model_message(name = nil)
      return Taxonomy.copy(:invalid_model) if name.nil? || name.to_s.empty?

      Taxonomy.case_copy(:invalid_model_named, name)
    end

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
