# frozen_string_literal: true

# Handlers for Stream and RubyStream specs: they record every callback, with the
# time (seconds since the handler was made) it came.
module StreamHandlers
  # Records every callback, with the time it came, from whichever thread.
  class Recording
    attr_reader :texts, :thinking, :tools, :heartbeats, :started

    def initialize(&on_text)
      @texts = []
      @thinking = []
      @tools = []
      @heartbeats = []
      @on_text = on_text
      @started = monotonic
    end

    def on_text(accumulated, delta)
      @texts << {accumulated: accumulated, delta: delta, at: monotonic - @started}
      @on_text&.call(accumulated, delta)
    end

    def on_thinking(accumulated, delta)
      @thinking << {accumulated: accumulated, delta: delta}
    end

    def on_tool_call(name, id)
      @tools << [name, id]
    end

    def on_heartbeat(elapsed)
      @heartbeats << {elapsed: elapsed, at: monotonic - @started, texts: @texts.size}
    end

    def monotonic
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end

  # A handler whose cancelled? turns true after `after` text flushes.
  class Cancelling < Recording
    attr_reader :polls

    def initialize(after:)
      super()
      @after = after
      @polls = 0
    end

    def cancelled?
      @polls += 1
      texts.size >= @after
    end
  end
end
