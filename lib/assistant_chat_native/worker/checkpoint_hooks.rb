# frozen_string_literal: true

require "json"
require_relative "shown_text_statement"

module AssistantChatNative
  class Worker
    # The hooks that save a turn's checkpoints and find the one a dead job left, for
    # Hooks to include. A checkpoint lives on the turn's assistant message row:
    # status "streaming", the Turn's state (with what a new job needs to go on: the
    # job's arguments and the chain's start) in continuation_state, and the text the
    # page shows in content. It is written with one UPDATE; the first one inserts
    # the row. Between checkpoints, each chunk's text is saved in content before the
    # page gets it, so a job that goes on from the row starts from all the page saw.
    module CheckpointHooks
      # Assistant rows of a turn that has not ended: "streaming" (its job is running,
      # or died), "partial" (handed to a continuation job).
      UNFINISHED = %w[streaming partial].freeze
      STREAMING = "streaming"

      # Whether the pool's with_connection takes prevent_permanent_checkout (Rails 7.2
      # on): asked once per pool class, not on every flush.
      def self.prevents_permanent_checkout?(pool)
        (@prevents_permanent_checkout ||= {}).fetch(pool.class) do
          @prevents_permanent_checkout[pool.class] = pool.method(:with_connection).parameters
            .any? { |_type, name| name == :prevent_permanent_checkout }
        end
      end

      # Saves state and the visible text on this turn's row.
      def save_checkpoint(state, text)
        saved = JSON.generate(state.merge("job" => @job_meta))
        borrowing_connection do
          row = checkpoint_row(text)
          row.class.where(row.class.primary_key => row.id)
            .update_all(column(:content) => text.to_s, column(:status) => "streaming", column(:continuation_state) => saved)
        end
      end

      # Saves the text the page is about to be shown (one UPDATE of content, a
      # statement built once per turn: ShownTextStatement; none when this flush
      # inserted the row, which holds the text already).
      def save_shown_text(text)
        borrowing_connection do |connection|
          inserting = @checkpoint_row.nil?
          row = checkpoint_row(text)
          next 1 if inserting && row.previously_new_record?

          unless @shown_text_statement&.row.equal?(row)
            @shown_text_statement = ShownTextStatement.new(row: row, content: column(:content), status: column(:status))
          end
          @shown_text_statement.call(connection, text.to_s)
        end
      end

      # The latest unfinished turn's row and its state, which goes on from all the
      # text the page was shown (nil when there is none).
      def unfinished_checkpoint
        row = message_rows.where(column(:role) => "assistant", column(:status) => UNFINISHED).reorder(:id).last
        saved = row && row[column(:continuation_state)]
        return nil if saved.blank?

        [row, AssistantChatNative::Turn.with_shown_text(JSON.parse(saved), row[column(:content)])]
      end

      # The turn ended in an error the user was shown: its row is no longer one to go
      # on from.
      def fail_checkpoint
        @checkpoint_row.class.where(@checkpoint_row.class.primary_key => @checkpoint_row.id)
          .where(column(:status) => "streaming").update_all(column(:status) => "failed")
      end

      private

      # The row this turn's checkpoints and reply go to (inserted by the first checkpoint).
      # A new turn's row is inserted at once where the once-per-job unique index
      # makes that safe (one INSERT; the row a resumed turn began is found when the
      # insert collides with it), else found first.
      def checkpoint_row(text)
        @checkpoint_row ||= begin
          rows = message_rows.create_with(column(:content) => text.to_s, column(:status) => STREAMING)
          key = {column(:job_id) => reply_job_id, column(:role) => "assistant"}
          once_per_job_index? ? rows.create_or_find_by!(key) : rows.find_or_create_by!(key)
        end
      end

      # Whether the messages table has the generator's unique index on the
      # conversation key, job id and role (from the connection's schema cache, read
      # from the database once per process).
      def once_per_job_index?
        model = message_model
        key = [message_key.to_s, column(:job_id), column(:role)].sort
        model.connection_pool.with_connection do |connection|
          connection.schema_cache.indexes(model.table_name)
            .any? { |index| index.unique && Array(index.columns).map(&:to_s).sort == key }
        end
      end

      # The job id the turn's assistant row is keyed by: this job's, or the dead job's
      # whose turn this one finishes.
      def reply_job_id
        @reply_job_id || @job_id
      end

      # Runs the block on a connection borrowed for it (the job's own on its thread).
      def borrowing_connection(&block)
        pool = message_model.connection_pool
        if CheckpointHooks.prevents_permanent_checkout?(pool)
          pool.with_connection(prevent_permanent_checkout: true, &block)
        else
          pool.with_connection(&block)
        end
      end
    end
  end
end
