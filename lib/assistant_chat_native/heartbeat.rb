# frozen_string_literal: true

require_relative "redaction"

module AssistantChatNative
  # Calls a block every interval seconds from a background thread while other work runs
  # (tools, a retry's wait): Stream beats while it streams, this keeps the beat going
  # between streams. The block receives the seconds elapsed since #run began. A block that
  # raises is logged and the beat goes on; the work itself is never interrupted.
  class Heartbeat
    def initialize(interval:, logger: nil, &beat)
      @interval = interval.to_f
      @logger = logger
      @beat = beat
    end

    def run
      return yield if @beat.nil? || @interval <= 0

      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      stop = false
      mutex = Mutex.new
      wake = ConditionVariable.new
      thread = Thread.new do
        Thread.current.name = "acn-heartbeat"
        Thread.current.report_on_exception = false
        mutex.synchronize do
          until stop
            deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + @interval
            while !stop && (left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)) > 0
              wake.wait(mutex, left)
            end
            break if stop

            mutex.unlock
            begin
              beat(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started)
            ensure
              mutex.lock
            end
          end
        end
      end
      begin
        yield
      ensure
        mutex.synchronize do
          stop = true
          wake.signal
        end
        thread.join
      end
    end

    private

    def beat(elapsed)
      @beat.call(elapsed)
    rescue => e
      @logger&.warn("[AssistantChatNative] heartbeat failed: #{e.class}: #{Redaction.text(e.message)}")
    end
  end
end
