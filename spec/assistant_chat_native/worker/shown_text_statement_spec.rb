# frozen_string_literal: true

require "spec_helper"
require "tmpdir"
require "active_record"
require "assistant_chat_native/worker"

# The statements a turn runs on every flush and every cancel poll, on a real SQLite
# database; on PostgreSQL they run in every worker spec under spec/integration.
RSpec.describe "the worker's per-flush statements" do
  before(:context) do
    @dir = Dir.mktmpdir("acn-statements-spec-")
    base = Class.new(ActiveRecord::Base) { self.abstract_class = true }
    Object.const_set(:StatementSpecRecord, base)
    base.establish_connection(adapter: "sqlite3", database: File.join(@dir, "statements.sqlite3"))
    base.connection.create_table(:statement_spec_messages) do |t|
      t.text :body
      t.string :status
    end
    base.connection.create_table(:statement_spec_conversations) do |t|
      t.datetime :cancel_requested_at
    end
    Object.const_set(:StatementSpecMessage, Class.new(base) { self.table_name = "statement_spec_messages" })
    Object.const_set(:StatementSpecConversation, Class.new(base) { self.table_name = "statement_spec_conversations" })
  end

  after(:context) do
    StatementSpecRecord.remove_connection
    %i[StatementSpecMessage StatementSpecConversation StatementSpecRecord].each { |name| Object.send(:remove_const, name) }
    FileUtils.rm_rf(@dir)
  end

  describe AssistantChatNative::Worker::ShownTextStatement do
    def write(row, text)
      StatementSpecMessage.connection_pool.with_connection do |connection|
        described_class.new(row: row, content: "body", status: "status").call(connection, text)
      end
    end

    it "writes the text into the content column the settings name while the row streams" do
      row = StatementSpecMessage.create!(body: "", status: "streaming")
      other = StatementSpecMessage.create!(body: "untouched", status: "streaming")

      expect(write(row, "Hello, \"world\" 'quoted'; DROP TABLE x; ✓")).to eq(1)
      expect(row.reload.body).to eq("Hello, \"world\" 'quoted'; DROP TABLE x; ✓")
      expect(other.reload.body).to eq("untouched")
    end

    it "clears the query cache, so a later read in the job sees the text" do
      row = StatementSpecMessage.create!(body: "", status: "streaming")
      StatementSpecMessage.cache do
        expect(StatementSpecMessage.where(id: row.id).pick(:body)).to eq("")
        write(row, "Shown before the broadcast.")
        expect(StatementSpecMessage.where(id: row.id).pick(:body)).to eq("Shown before the broadcast.")
      end
    end

    it "leaves a row that stopped streaming as it is" do
      row = StatementSpecMessage.create!(body: "The final reply.", status: "completed")

      expect(write(row, "a late chunk")).to eq(0)
      expect(row.reload.body).to eq("The final reply.")
    end

    it "keeps each flush's text, the last one winning" do
      row = StatementSpecMessage.create!(body: "", status: "streaming")
      statement = described_class.new(row: row, content: "body", status: "status")
      StatementSpecMessage.connection_pool.with_connection do |connection|
        ["One", "One two", "One two three"].each { |text| statement.call(connection, text) }
      end

      expect(row.reload.body).to eq("One two three")
    end
  end

  describe AssistantChatNative::Worker::CancelPoll do
    it "reads cancel_requested_at afresh on every poll, query cache or not" do
      conversation = StatementSpecConversation.create!
      poll = described_class.new(conversation)

      StatementSpecConversation.cache do
        expect(poll.requested_at).to be_nil
        at = Time.utc(2026, 12, 3, 12, 0, 0)
        # From another connection, as the web process sets it: nothing clears this one's cache.
        SQLite3::Database.new(File.join(@dir, "statements.sqlite3")) do |db|
          db.execute("UPDATE statement_spec_conversations SET cancel_requested_at = ? WHERE id = ?",
            ["2026-12-03 12:00:00", conversation.id])
        end
        expect(poll.requested_at).to eq(at)
      end
    end
  end
end
