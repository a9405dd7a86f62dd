# frozen_string_literal: true

module AssistantChatNative
  # Monotonic seconds, the one clock every timeout, interval and deadline in the gem
  # is measured with (wall-clock time jumps; this does not).
  module Clock
    module_function

    def now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end
end
