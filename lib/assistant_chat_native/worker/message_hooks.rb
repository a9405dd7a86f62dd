# frozen_string_literal: true

require "json"

module AssistantChatNative
  class Worker
    # The hooks that read and write the conversation's messages, for Hooks to
    # include. They work with the generator's messages table and with one the app
    # already has: columns are read and written under the names
    # settings.message_columns gives (`{"content" => "body"}` when the app calls
    # its text `body`), and rows are saved through the conversation model's
    # has_many association for the message class when it has one
    # (`@conversation.assistant_messages.create!`), so the app's own association
    # scope and callbacks apply; else through the message class and
    # settings.message_foreign_key.
    #
    # Every save is idempotent per job id: a job Sidekiq runs again after a
    # shutdown finds its rows instead of adding them twice.
    module MessageHooks
      # What the hooks store, each under the column settings.message_column names.
      COLUMNS = %w[role content job_id transcript status model continuation_state].freeze

      # Saves the user's message once per job id; returns its row.
      def persist_user_message(text, attachments)
        key = {column(:job_id) => @job_id, column(:role) => "user"}
        message_rows.find_by(key) || message_rows.create!(key.merge(column(:content) => text,
          column(:transcript) => attachments.empty? ? nil : JSON.generate(attachment_refs(attachments))))
      end

      # This job's saved reply, when an earlier run of the same job got that far.
      def persisted_reply
        message_rows.find_by(column(:job_id) => @job_id, column(:role) => "assistant",
          column(:status) => %w[completed cancelled stopped])
      end

      # The conversation's messages, oldest first, as normalized messages. An
      # assistant row with a transcript expands into the tool calls and results it
      # made; this job's user message carries the attachments.
      def history_messages(attachments)
        message_rows.reorder(:id).to_a.flat_map do |row|
          role = row[column(:role)].to_s
          transcript = row[column(:transcript)]
          if role == "assistant" && transcript.present?
            JSON.parse(transcript)
          elsif role == "user" && row[column(:job_id)] == reply_job_id && attachments.any?
            [{"role" => "user", "content" => [{"type" => "text", "text" => message_text(row)}] + attachments}]
          else
            [{"role" => role, "content" => message_text(row)}]
          end
        end
      end

      # Saves the reply with its tool transcript, in the turn's one row (a chain's
      # jobs and a dead job's successor all write the row the turn began). Returns it.
      def persist_reply(outcome)
        save_assistant_row(outcome, status: "completed")
      end

      # Saves what a cancelled turn showed, with its transcript so far; returns its row.
      def persist_cancelled(outcome)
        save_assistant_row(outcome, status: "cancelled")
      end

      # Saves a turn's transcript, and the state to resume from, before a
      # continuation job picks it up; returns its row.
      def persist_partial(outcome)
        save_assistant_row(outcome, status: "partial",
          continuation_state: JSON.generate(outcome.state.merge("job" => @job_meta)))
      end

      # Saves what a turn stopped at max_continuations showed, followed by the copy
      # that says so; returns its row.
      def persist_stopped(outcome, text)
        save_assistant_row(outcome, status: "stopped", text: text)
      end

      private

      # The text a message row holds.
      def message_text(row)
        row[column(:content)].to_s
      end

      # The column that stores what the hooks call name.
      def column(name)
        settings.message_column(name)
      end

      def message_model
        settings.resolve(settings.message_class)
      end

      def message_key
        settings.message_foreign_key.to_sym
      end

      # The conversation's messages: its association for the message class when
      # the conversation model has one, else the message class scoped by the key.
      def message_rows
        association = message_association
        association ? @conversation.public_send(association) : message_model.where(message_key => @conversation.id)
      end

      def message_association
        model = @conversation.class
        return nil unless model.respond_to?(:reflect_on_all_associations)

        name = message_model.name
        model.reflect_on_all_associations(:has_many)
          .find { |reflection| !reflection.options[:through] && reflection.class_name == name }&.name
      end

      # The turn's row: its transcript is what the chain's earlier jobs saved there
      # (checkpoints do not write it), then this job's part.
      def save_assistant_row(outcome, status:, continuation_state: nil, text: outcome.text)
        row = checkpointed_row || message_rows.find_or_initialize_by(column(:job_id) => reply_job_id, column(:role) => "assistant")
        earlier = row[column(:transcript)].present? ? JSON.parse(row[column(:transcript)]) : []
        write_column(row, :content, text.to_s)
        row[column(:transcript)] = JSON.generate(earlier + outcome.transcript)
        write_column(row, :status, status)
        row[column(:model)] = outcome.model.to_s if row.has_attribute?(column(:model))
        write_column(row, :continuation_state, continuation_state) if continuation_state
        row.save!
        row
      end

      # The row this job's checkpoints wrote, when they wrote the turn's row: it needs no
      # second read. Its transcript is as read (only the final save writes it); content,
      # status and continuation_state were written around the record (write_column).
      def checkpointed_row
        row = @checkpoint_row
        row if row&.persisted? && row[column(:job_id)].to_s == reply_job_id.to_s && row[column(:role)].to_s == "assistant"
      end

      # Sets a column the checkpoints may have written with an UPDATE of their own:
      # marked as changed whatever the record last read, so the save writes it.
      def write_column(row, name, value)
        attribute = column(name)
        row.public_send(:"#{attribute}_will_change!") if row.persisted?
        row[attribute] = value
      end

      def attachment_refs(attachments)
        attachments.map { |part| part.merge("path" => File.basename(part["path"].to_s)) }
      end
    end
  end
end
