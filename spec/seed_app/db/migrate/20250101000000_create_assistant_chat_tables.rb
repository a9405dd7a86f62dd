# frozen_string_literal: true

# The app's tables before it installs the gem. Its messages table calls the text
# `body` and keeps the support team's notes beside the chat (kind "note"); its
# conversations carry the seed's two lock columns and count failed turns their own way.
class CreateAssistantChatTables < ActiveRecord::Migration[7.2]
  def change
    create_table :parties do |t|
      t.string :name
      t.timestamps
    end
    create_table :assistant_conversations do |t|
      t.references :party
      t.string :title
      t.bigint :processing_by_id
      t.datetime :processing_since
      t.integer :failed_turns_count, null: false, default: 0
      t.timestamps
    end
    create_table :assistant_messages do |t|
      t.references :assistant_conversation, null: false, foreign_key: true
      t.string :kind, null: false
      t.string :role, null: false
      t.text :body
      t.timestamps
    end
    create_table :uploads do |t|
      t.references :party
      t.string :filename
      t.string :content_type
      t.binary :data
      t.timestamps
    end
  end
end
