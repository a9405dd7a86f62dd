# frozen_string_literal: true

module AssistantChatNative
  class Worker
    # What a running turn's handler (TurnHandler) asks of its job, in public. Each
    # method calls the hook or step it names, so a hook the app overrides, privately
    # as the seed's methods are, is still the one that runs.
    module TurnInterface
      # A checkpoint of the turn and the text the page shows (save_checkpoint).
      def turn_checkpoint(state, text) = save_checkpoint(state, text)

      # The text the page is about to be shown (save_shown_text).
      def turn_shown_text(text) = save_shown_text(text)

      # The model's reasoning so far (on_thinking_text).
      def turn_thinking(text) = on_thinking_text(text)

      # The status line for a tool that starts running.
      def turn_status_line(name, arguments) = tool_status_line(name, arguments)

      # Rounds done so far, as the job's progress.
      def turn_progress(rounds_done) = report_progress(rounds_done)

      # Keeps the job's lock fresh.
      def turn_heartbeat(elapsed) = heartbeat(elapsed)

      # Whether the user asked to stop (cancelled?), as true or false.
      def turn_cancelled? = !!cancelled?

      # A shorter history after a context overflow (compact_messages).
      def turn_compact(messages) = compact_messages(messages)
    end
  end
end
