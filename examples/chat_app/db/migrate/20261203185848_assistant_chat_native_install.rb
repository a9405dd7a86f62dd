# frozen_string_literal: true

# The processing lock and error columns AssistantChatNative::ProcessingLock reads,
# and what the worker's message hooks store: the messages table.
class AssistantChatNativeInstall < ActiveRecord::Migration[7.2]
  def up
    unless table_exists?(:conversations)
      create_table :conversations do |t|
        t.bigint :user_id, index: true
        t.string :title
        t.timestamps
      end
    end

    add_column :conversations, :processing_by_id, :bigint unless column_exists?(:conversations, :processing_by_id)
    add_column :conversations, :processing_since, :datetime unless column_exists?(:conversations, :processing_since)
    add_column :conversations, :processing_job_id, :string unless column_exists?(:conversations, :processing_job_id)
    add_column :conversations, :cancel_requested_at, :datetime unless column_exists?(:conversations, :cancel_requested_at)
    add_column :conversations, :error_count, :integer, null: false, default: 0 unless column_exists?(:conversations, :error_count)
    add_column :conversations, :last_error_at, :datetime unless column_exists?(:conversations, :last_error_at)

    if table_exists?(:messages)
      add_column :messages, :role, :string unless column_exists?(:messages, :role)
      add_column :messages, :content, :text unless column_exists?(:messages, :content)
      add_column :messages, :job_id, :string unless column_exists?(:messages, :job_id)
      add_column :messages, :transcript, :text unless column_exists?(:messages, :transcript)
      add_column :messages, :status, :string unless column_exists?(:messages, :status)
      add_column :messages, :model, :string unless column_exists?(:messages, :model)
      add_column :messages, :continuation_state, :text unless column_exists?(:messages, :continuation_state)
    else
      create_table :messages do |t|
        t.references :conversation, null: false, index: true
        t.string :role, null: false
        t.text :content
        t.text :transcript
        t.string :status
        t.string :model
        t.string :job_id
        t.text :continuation_state
        t.timestamps
      end
    end
    add_once_per_job_index
  end

  def down
    remove_index :messages, name: "index_messages_once_per_job", if_exists: true
    remove_column :conversations, :processing_by_id, if_exists: true
    remove_column :conversations, :processing_since, if_exists: true
    remove_column :conversations, :processing_job_id, if_exists: true
    remove_column :conversations, :cancel_requested_at, if_exists: true
    remove_column :conversations, :error_count, if_exists: true
    remove_column :conversations, :last_error_at, if_exists: true
  end

  private

  # One user row and one assistant row per job, so a job Sidekiq runs again finds
  # its rows. Left out when rows already in the table repeat a job id.
  def add_once_per_job_index
    columns = %i[conversation_id job_id role]
    return if index_exists?(:messages, columns)

    table = quote_table_name(:messages)
    key = columns.map { |column| quote_column_name(column) }.join(", ")
    repeated = select_value("SELECT 1 FROM #{table} WHERE #{quote_column_name(:job_id)} IS NOT NULL " \
      "GROUP BY #{key} HAVING COUNT(*) > 1 LIMIT 1")
    if repeated
      say "messages has rows that repeat a job id: the once-per-job unique index was not added"
      return
    end

    add_index :messages, columns, unique: true, name: "index_messages_once_per_job"
  end
end
