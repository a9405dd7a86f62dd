# frozen_string_literal: true

require "spec_helper"
require "tmpdir"
require "active_record"
require "assistant_chat_native/processing_lock"
require "assistant_chat_native/worker"

# On a real SQLite database (the embedded default); the PostgreSQL path runs in
# spec/integration/worker_locks_spec.rb.
RSpec.describe AssistantChatNative::ProcessingLock do
  before(:context) do
    @dir = Dir.mktmpdir("acn-lock-spec-")
    # with_advisory_lock's file locks (its SQLite path) go to FLOCK_DIR, else the working directory.
    @flock_dir = ENV["FLOCK_DIR"]
    ENV["FLOCK_DIR"] = @dir
    # Its own connection, so a Rails app booted by other specs in this process keeps its database.
    base = Class.new(ActiveRecord::Base) { self.abstract_class = true }
    Object.const_set(:LockSpecRecord, base)
    base.establish_connection(adapter: "sqlite3", database: File.join(@dir, "locks.sqlite3"))
    base.connection.create_table(:lock_spec_conversations) do |t|
      t.bigint :processing_by_id
      t.datetime :processing_since
      t.string :processing_job_id
      t.integer :error_count, null: false, default: 0
      t.datetime :last_error_at
    end
    model = Class.new(base) do
      self.table_name = "lock_spec_conversations"
      include AssistantChatNative::ProcessingLock
    end
    Object.const_set(:LockSpecConversation, model)
  end

  after(:context) do
    LockSpecRecord.remove_connection
    Object.send(:remove_const, :LockSpecConversation)
    Object.send(:remove_const, :LockSpecRecord)
    ENV["FLOCK_DIR"] = @flock_dir
    FileUtils.rm_rf(@dir)
  end

  let(:sender) { Struct.new(:id).new(42) }
  let(:conversation) { LockSpecConversation.create! }

  it "takes a free lock and records who, since when and which job" do
    expect(conversation.acquire_processing_lock!(sender, job_id: "jid-1")).to be(true)
    row = LockSpecConversation.find(conversation.id)
    expect([row.processing_by_id, row.processing_job_id]).to eq([42, "jid-1"])
    expect(row.processing_since).to be_within(5).of(Time.now)
    expect(conversation.processing?).to be(true)
  end

  it "refuses a lock another job holds, and lets the same job take it again" do
    conversation.acquire_processing_lock!(sender, job_id: "jid-1")
    other = LockSpecConversation.find(conversation.id)
    expect(other.acquire_processing_lock!(Struct.new(:id).new(7), job_id: "jid-2")).to be(false)
    expect(other.acquire_processing_lock!(sender, job_id: "jid-1")).to be(true)
    expect(LockSpecConversation.find(conversation.id).processing_job_id).to eq("jid-1")
  end

  # The statements a block runs on the conversations table.
  def statements_during
    statements = []
    subscriber = ActiveSupport::Notifications.subscribe("sql.active_record") do |*, payload|
      statements << payload[:sql] if payload[:sql].include?("lock_spec_conversations")
    end
    yield
    statements
  ensure
    ActiveSupport::Notifications.unsubscribe(subscriber)
  end

  it "takes and releases the lock with one UPDATE each, and the record holds what the database does" do
    conversation
    taking = statements_during { conversation.acquire_processing_lock!(sender, job_id: "jid-1") }
    expect(taking).to match([a_string_starting_with("UPDATE")])
    row = LockSpecConversation.find(conversation.id)
    expect(%i[processing_by_id processing_since processing_job_id].map { |name| conversation.public_send(name) })
      .to eq(%i[processing_by_id processing_since processing_job_id].map { |name| row.public_send(name) })
    expect(conversation.changed?).to be(false)

    releasing = statements_during { conversation.release_processing_lock!(job_id: "jid-1") }
    expect(releasing).to match([a_string_starting_with("UPDATE")])
    expect([conversation.processing_by_id, conversation.processing_since, conversation.processing_job_id]).to eq([nil, nil, nil])
  end

  it "shows the holder's lock after a release that another job's lock refused" do
    conversation.acquire_processing_lock!(sender, job_id: "jid-holder")
    stale_copy = LockSpecConversation.find(conversation.id)
    stale_copy.processing_job_id = nil
    stale_copy.clear_attribute_changes(%i[processing_job_id])
    expect(stale_copy.release_processing_lock!(job_id: "jid-other")).to be(false)
    expect(stale_copy.processing_job_id).to eq("jid-holder")
  end

  it "force-takes a held lock and releases it" do
    conversation.acquire_processing_lock!(sender, job_id: "crashed")
    conversation.force_processing_lock!(Struct.new(:id).new(0), job_id: "jid-2")
    expect(LockSpecConversation.find(conversation.id).processing_job_id).to eq("jid-2")
    conversation.release_processing_lock!
    row = LockSpecConversation.find(conversation.id)
    expect([row.processing_by_id, row.processing_since, row.processing_job_id]).to eq([nil, nil, nil])
  end

  it "releases by job id only for the job that holds the lock" do
    conversation.acquire_processing_lock!(sender, job_id: "jid-holder")
    stale_copy = LockSpecConversation.find(conversation.id)
    expect(stale_copy.release_processing_lock!(job_id: "jid-other")).to be(false)
    expect(LockSpecConversation.find(conversation.id).processing_job_id).to eq("jid-holder")
    expect(stale_copy.release_processing_lock!(job_id: "jid-holder")).to be(true)
    expect(LockSpecConversation.find(conversation.id).processing_job_id).to be_nil
  end

  it "counts errors atomically and stamps the last one" do
    conversation.track_error!
    LockSpecConversation.find(conversation.id).track_error!
    expect(conversation.track_error!).to be(true)
    row = LockSpecConversation.find(conversation.id)
    expect(row.error_count).to eq(3)
    expect(row.last_error_at).to be_within(5).of(Time.now)
    expect(conversation.error_count).to eq(3)
  end

  it "reports a lock as stale only when its holder stopped refreshing it" do
    conversation.acquire_processing_lock!(sender, job_id: "jid-1")
    expect(conversation.processing_stale?(after: 60)).to be(false)
    LockSpecConversation.where(id: conversation.id).update_all(processing_since: Time.now - 120)
    conversation.reload
    expect(conversation.processing_stale?(after: 60)).to be(true)
    expect(conversation.touch_processing_lock!(job_id: "jid-1")).to be(true)
    expect(conversation.reload.processing_stale?(after: 60)).to be(false)
    expect(conversation.touch_processing_lock!(job_id: "another")).to be(false)
  end

  it "names one advisory lock per conversation, which a second holder cannot take" do
    expect(conversation.processing_lock_key).to eq("lock_spec_conversations:processing:#{conversation.id}")
    inner = nil
    outer = LockSpecConversation.with_advisory_lock_result(conversation.processing_lock_key, timeout_seconds: 0) do
      inner = Thread.new do
        LockSpecConversation.connection_pool.with_connection do
          LockSpecConversation.with_advisory_lock_result(conversation.processing_lock_key, timeout_seconds: 0) { :second }
        end
      end.value
      :first
    end
    expect(outer.lock_was_acquired?).to be(true)
    expect(inner.lock_was_acquired?).to be(false)
  end
end
