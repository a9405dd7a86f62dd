# frozen_string_literal: true

module AssistantChatNative
  class RubyStream
    # The hand-off between the thread that reads the socket and the thread that runs
    # the handler. A pop waits at most until a deadline (Ruby 3.1's Queue has no
    # timed pop), and a push waits while more than max_bytes are queued, so a fast
    # server cannot make a slow handler buffer without bound. Once closed, pushes are
    # refused and pops return what is left.
    class Inbox
      def initialize(max_bytes:)
        @max_bytes = max_bytes
        @mutex = Mutex.new
        @readable = ConditionVariable.new
        @writable = ConditionVariable.new
        @items = []
        @bytes = 0
        @closed = false
      end

      # Queues item (an Array whose second element, when a String, counts toward the
      # byte bound). Returns false once the inbox is closed.
      def push(item)
        size = item[1].is_a?(String) ? item[1].bytesize : 0
        @mutex.synchronize do
          @writable.wait(@mutex) while !@closed && @bytes.positive? && @bytes + size > @max_bytes
          return false if @closed

          @items << item
          @bytes += size
          @readable.signal
          true
        end
      end

      # The next item, or nil when none came within timeout seconds.
      def pop(timeout)
        deadline = Clock.now + [timeout, 0].max
        @mutex.synchronize do
          while @items.empty?
            left = deadline - Clock.now
            return nil if left <= 0

            @readable.wait(@mutex, left)
          end
          item = @items.shift
          @bytes -= item[1].bytesize if item[1].is_a?(String)
          @writable.signal
          item
        end
      end

      # Wakes a waiting pop without queueing data (used by RubyStream#cancel).
      def wake
        @mutex.synchronize do
          @items << [:wake]
          @readable.signal
        end
      end

      def close
        @mutex.synchronize do
          @closed = true
          @writable.broadcast
          @readable.broadcast
        end
      end
    end
  end
end
