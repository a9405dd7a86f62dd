# frozen_string_literal: true

module AssistantChatNative
  class Worker
    # A turn ended with status :failed. Carries the classified Failure: its
    # `message` is the copy the user sees, its `detail` the provider's own words
    # (reported as response_body, never shown).
    class TurnFailed < Error
      attr_reader :failure, :model

      def initialize(failure, model: nil)
        @failure = failure
        @model = model
        words = failure&.detail.to_s.empty? ? failure&.message : failure.detail
        super("#{failure&.kind || "unknown"} failure#{" on #{model}" if model}: #{words}")
      end
    end
  end
end
