# frozen_string_literal: true

module AssistantChatNative
  # What one streamed request produced, accumulated by the decoder.
  #
  #   text                  the reply text
  #   thinking              the reasoning text, when the model streamed any
  #   thinking_blocks       [{type: "thinking", thinking:, signature:} | {type: "redacted_thinking", data:}],
  #                         a Responses reasoning item as a thinking block with its id: (summary,
  #                         encrypted_content as the signature),
  #                         kept to send back to providers that require them
  #   tool_calls            [ToolCall]
  #   stop_reason           :end_turn, :tool_use, :max_tokens, :stop_sequence, :refusal, :pause_turn, or nil
  #   provider_stop_reason  the stop reason exactly as the provider sent it
  #   usage                 {input_tokens:, output_tokens:, ...}
  #   failure               a Failure, or nil
  #   message_id, model     as the provider reported them
  #   stats                 transfer figures (Stream and RubyStream only); not part of equality
  class Result
    FIELDS = %i[text thinking thinking_blocks tool_calls stop_reason provider_stop_reason
      usage failure message_id model].freeze

    attr_reader(*FIELDS, :stats)

    def initialize(text: "", thinking: "", thinking_blocks: [], tool_calls: [], stop_reason: nil,
      provider_stop_reason: nil, usage: {}, failure: nil, message_id: nil, model: nil, stats: {})
      @text = text
      @thinking = thinking
      @thinking_blocks = thinking_blocks
      @tool_calls = tool_calls
      @stop_reason = stop_reason
      @provider_stop_reason = provider_stop_reason
      @usage = usage
      @failure = failure
      @message_id = message_id
      @model = model
      @stats = stats
    end

    def success?
      failure.nil?
    end

    def tool_calls?
      tool_calls.any? { |call| !call.server? }
    end

    # Everything but the transfer stats, so two streams of the same bytes compare equal.
    def to_h
      FIELDS.to_h { |field| [field, public_send(field)] }
    end

    def ==(other)
      other.is_a?(Result) && other.to_h == to_h
    end
    alias_method :eql?, :==

    def hash
      to_h.hash
    end

    def inspect
      "#<#{self.class.name} stop_reason=#{stop_reason.inspect} text=#{text.bytesize}B " \
        "tool_calls=#{tool_calls.size} failure=#{failure&.kind.inspect}>"
    end
  end
end
