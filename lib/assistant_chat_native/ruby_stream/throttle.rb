# frozen_string_literal: true

module AssistantChatNative
  class RubyStream
    # When to hand accumulated text to the handler; the Ruby twin of core/throttle.h.
    # A pure function of monotonic time in seconds: the first delta flushes at once,
    # later deltas at most once per interval, and a block end, a tool call's start and
    # the stream's end always flush what is pending. Pending text that has waited a
    # whole interval flushes on the timer even when nothing new arrives.
    class Throttle
      REASONS = %i[delta block_end tool_call stream_end timer].freeze

      def initialize(interval)
        @interval = interval.to_f
        @last_flush = nil
        @pending = false
      end

      # Records that something arrived (for :delta) and answers whether to flush now.
      def flush?(reason, now)
        case reason
        when :delta
          @pending = true
          interval_elapsed?(now)
        when :timer
          @pending && interval_elapsed?(now)
        when :block_end, :tool_call, :stream_end
          @pending
        else
          raise ArgumentError, "unknown flush reason #{reason.inspect}; expected one of #{REASONS.join(", ")}"
        end
      end

      # Records a flush made at now: nothing is pending and the interval restarts.
      def flushed(now)
        @pending = false
        @last_flush = now
      end

      def pending?
        @pending
      end

      # When pending text must be flushed if nothing else arrives; nil when nothing is pending.
      def deadline
        return nil unless @pending
        return 0.0 if @last_flush.nil?

        @last_flush + @interval
      end

      private

      def interval_elapsed?(now)
        @last_flush.nil? || now - @last_flush >= @interval
      end
    end
  end
end
