# frozen_string_literal: true

require "monitor"

module AssistantChatNative
  class Worker
    # The Turn's handler inside a job: it turns the turn's callbacks into
    # broadcasts (throttled; the reply append-only), keeps the column lock fresh on heartbeats, reports
    # progress, asks the worker's hooks about cancellation and compaction, and hands
    # each finished stream to its stream_observer (Instrumentation.turn sets it).
    class TurnHandler
      attr_reader :text, :flushes, :status_lines, :tool_results, :first_token_clock
      # Called with Turn's on_stream_end details as each stream ends; nil: nobody listens.
      attr_accessor :stream_observer

      # worker:               the Worker (its hooks answer cancelled? and compact)
      # broadcaster:          a Broadcaster
      # cancel_poll_interval: seconds between two of the worker's cancelled? checks (the
      #                       Turn also asks between tools and while it waits to retry)
      def initialize(worker:, broadcaster:, chunk_interval:, cancel_poll_interval:,
        clock: -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) })
        @worker = worker
        @broadcaster = broadcaster
        @chunk_interval = chunk_interval
        @cancel_poll_interval = cancel_poll_interval
        @clock = clock
        @started_at = clock.call
        @text = +""
        # Bytes of @text the page has; nil: it has none of this job's reply yet, so the
        # next chunk starts the reply over (a page may still show an earlier reply).
        @sent_bytes = nil
        @last_chunk_at = nil
        @held_chunk = false
        @flushes = 0
        @status_lines = []
        @tool_results = 0
        @cancelled = false
        @last_cancel_check_at = nil
        @first_token_clock = nil
        @stream_observer = nil
        # The stream's thread and the heartbeat's both send held chunks: one at a time.
        @chunk_lock = Monitor.new
      end

      # The reply so far (the whole text, kept by reference: a chunk sends only what
      # grew since the last one).
      def on_text(accumulated, _delta = nil)
        @first_token_clock ||= @clock.call
        @chunk_lock.synchronize do
          @text = accumulated.to_s
          @flushes += 1
          now = @clock.call
          if @last_chunk_at && now - @last_chunk_at < @chunk_interval
            @held_chunk = true
            return
          end
          send_chunk(now)
        end
      end

      # What a job that dies can go on from (the Turn throttles these while text
      # streams): saved by the worker with the text the page shows.
      def on_checkpoint(state)
        text = @chunk_lock.synchronize { @text.dup }
        @worker.send(:save_checkpoint, state, text)
      end

      # The job is being stopped (Sidekiq's shutdown, a process-level exception):
      # the words the throttle held back are saved and sent, so the job that goes on
      # starts from all the turn streamed.
      def save_final_checkpoint
        flush_chunk
      end

      # A turn resumed from a dead job's checkpoint: the page gets the text it had
      # (whole, at offset 0, so a page that saw less or more is re-synced), then the
      # words appended to it.
      def on_resume(text)
        @chunk_lock.synchronize do
          @text = text.to_s
          @sent_bytes = nil
          send_chunk(@clock.call)
        end
      end

      def on_thinking(accumulated, _delta = nil)
        @first_token_clock ||= @clock.call
        @worker.send(:on_thinking_text, accumulated.to_s)
      end

      # A tool starts running: its status line (throttled by the broadcaster).
      def on_status(name, arguments = {})
        status_line(@worker.send(:tool_status_line, name, arguments || {}))
      end

      # A round starts: the job's progress.
      def on_round(number, _model = nil)
        @worker.send(:report_progress, number.to_i - 1)
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

      # A retry dropped a round's partial text: show what is left at once, whole.
      def on_text_reset(accumulated)
        @chunk_lock.synchronize do
          @text = accumulated.to_s
          @sent_bytes = nil
          send_chunk(@clock.call)
        end
      end

      def on_heartbeat(elapsed = nil, *)
        flush_chunk
        @broadcaster.flush_status
        @worker.send(:heartbeat, elapsed)
      end

      def cancelled?
        return true if @cancelled

        now = @clock.call
        return false if @last_cancel_check_at && now - @last_cancel_check_at < @cancel_poll_interval

        @last_cancel_check_at = now
        @cancelled = @worker.send(:cancelled?) ? true : false
      end

      def compact(messages)
        @worker.send(:compact_messages, messages)
      end

      # Sends the reply held back by the throttle.
      def flush_chunk
        @chunk_lock.synchronize do
          return unless @held_chunk

          send_chunk(@clock.call)
        end
      end

      private

      def status_line(line)
        flush_chunk
        @status_lines << line
        @broadcaster.status(line)
      end

      # What grew since the last chunk, sliced by bytes (no scan of the text before
      # it); the whole text when the page has none of it or the text shrank. Saved
      # before it is sent: the page never shows what a job that goes on would lose.
      def send_chunk(now)
        @held_chunk = false
        @last_chunk_at = now
        size = @text.bytesize
        @worker.send(:save_shown_text, @text) unless size == @sent_bytes
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
