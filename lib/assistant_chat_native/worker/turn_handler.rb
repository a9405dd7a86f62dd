# frozen_string_literal: true

module AssistantChatNative
  class Worker
    # The Turn's handler inside a job: it turns the turn's callbacks into
    # broadcasts (the reply append-only), keeps the column lock fresh on heartbeats, reports
    # progress, asks the worker's hooks about cancellation and compaction, and hands
    # each finished stream to its stream_observer (Instrumentation.turn sets it).
    class TurnHandler
      attr_reader :text, :flushes, :status_lines, :tool_results, :first_token_clock
      # Called with Turn's on_stream_end details as each stream ends; nil: nobody listens.
      attr_accessor :stream_observer

      # worker:               the Worker, through its TurnInterface
      # broadcaster:          a Broadcaster
      # cancel_poll_interval: seconds between two of the worker's cancelled? checks (the
      #                       Turn also asks between tools and while it waits to retry)
      def initialize(worker:, broadcaster:, cancel_poll_interval:,
        clock: -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) })
        @worker = worker
        @broadcaster = broadcaster
        @cancel_poll_interval = cancel_poll_interval
        @clock = clock
        @started_at = clock.call
        @text = +""
        # Bytes of @text the page has; nil: it has none of this job's reply yet, so the
        # next chunk starts the reply over (a page may still show an earlier reply).
        @sent_bytes = nil
        @flushes = 0
        @status_lines = []
        @tool_results = 0
        @cancelled = false
        @last_cancel_check_at = nil
        @first_token_clock = nil
        @stream_observer = nil
      end

      # The reply so far (the whole text, kept by reference: a chunk sends only what
      # grew since the last one). Sent at once: the stream is the reply's one throttle
      # (config.broadcast_interval), and it flushes before a tool call starts and when
      # the round ends, so no text waits here for a later event. Every callback that
      # touches the reply runs on the job's thread; heartbeats never send chunks.
      def on_text(accumulated, _delta = nil)
        @first_token_clock ||= @clock.call
        @text = accumulated.to_s
        @flushes += 1
        send_chunk
      end

      # What a job that dies can go on from (the Turn throttles these while text
      # streams): saved by the worker with the text the page shows.
      def on_checkpoint(state)
        @worker.turn_checkpoint(state, @text.dup)
      end

      # A turn resumed from a dead job's checkpoint: the page gets the text it had
      # (whole, at offset 0, so a page that saw less or more is re-synced), then the
      # words appended to it.
      def on_resume(text)
        @text = text.to_s
        @sent_bytes = nil
        send_chunk
      end

      def on_thinking(accumulated, _delta = nil)
        @first_token_clock ||= @clock.call
        @worker.turn_thinking(accumulated.to_s)
      end

      # A tool starts running: its status line (throttled by the broadcaster).
      def on_status(name, arguments = {})
        status_line(@worker.turn_status_line(name, arguments || {}))
      end

      # A round starts: the job's progress.
      def on_round(number, _model = nil)
        @worker.turn_progress(number.to_i - 1)
      end

      def on_retry(_attempt = nil, _delay = nil, _failure = nil)
        status_line("The assistant's provider is busy; trying again…")
      end

      def on_compaction(_count = nil, _failure = nil)
        status_line("Shortening the conversation to fit the model…")
      end

      def on_escalation(_from = nil, _to = nil, _reason = nil)
        status_line("Switching to a more capable model…")
      end

      def on_stream_end(details)
        @stream_observer&.call(details)
      end

      def on_tool_result(*)
        @tool_results += 1
        @broadcaster.flush_status
      end

      # A retry dropped a round's blank partial text: show what is left at once, whole.
      def on_text_reset(accumulated)
        @text = accumulated.to_s
        @sent_bytes = nil
        send_chunk
      end

      def on_heartbeat(elapsed = nil, *)
        @broadcaster.flush_status
        @worker.turn_heartbeat(elapsed)
      end

      def cancelled?
        return true if @cancelled

        now = @clock.call
        return false if @last_cancel_check_at && now - @last_cancel_check_at < @cancel_poll_interval

        @last_cancel_check_at = now
        @cancelled = @worker.turn_cancelled?
      end

      def compact(messages)
        @worker.turn_compact(messages)
      end

      private

      def status_line(line)
        @status_lines << line
        @broadcaster.status(line)
      end

      # What grew since the last chunk, sliced by bytes (no scan of the text before
      # it); the whole text when the page has none of it or the text shrank. Saved
      # before it is sent: the page never shows what a job that goes on would lose.
      def send_chunk
        size = @text.bytesize
        @worker.turn_shown_text(@text) unless size == @sent_bytes
        if @sent_bytes.nil? || size < @sent_bytes
          @broadcaster.reset_reply(@text.dup)
        elsif size > @sent_bytes
          @broadcaster.chunk(@text.byteslice(@sent_bytes, size - @sent_bytes))
        end
        @sent_bytes = size
      end
    end
  end
end
