# frozen_string_literal: true

require "spec_helper"
require "sidekiq/api"

RSpec.describe "AssistantChatWorker stopped by Sidekiq's shutdown mid-turn", :worker_integration do
  include_context "a user's conversation the page watches"

  after do
    WorkerHarness.start_sidekiq! if WorkerHarness.sidekiq_stopped?
  end

  it "leaves no lock held and its text saved; run again, it goes on from that text without a second user message" do
    provider.enqueue(text: (1..200).map { |index| "slow#{index}" }.join(" "), token_rate: 20)
    jid = AssistantChatWorker.perform_async(conversation.id, "A long question", "claude-sonnet", [], {"user_id" => user.id})
    WorkerHarness.wait_until(message: "the reply to start streaming") { broadcasts.of(:chunk).any? }
    expect(Conversation.find(conversation.id).processing_job_id).to eq(jid)

    WorkerHarness.stop_sidekiq!

    WorkerHarness.wait_until(timeout: 5, message: "the column lock's release") { Conversation.find(conversation.id).processing_by_id.nil? }
    expect(broadcasts.of(:lock).map { |event| event["locked"] }).to eq([true, false])
    free = Conversation.with_advisory_lock_result(conversation.processing_lock_key, timeout_seconds: 0) { true }
    expect(free.lock_was_acquired?).to be(true)
    queued = WorkerHarness.wait_until(timeout: 5, message: "the job back in its queue") { Sidekiq::Queue.new("default").map(&:jid).presence }
    expect(queued).to eq([jid])
    # The stopped job saved what the page shows (each chunk is saved before it is sent, so
    # a job stopped between the two saved one chunk more), and its checkpoint goes on from
    # all of it.
    seen = PageReplay.texts(broadcasts.events).last
    rows = Message.where(conversation_id: conversation.id).order(:id)
    expect(rows.map { |row| [row.role, row.status] }).to eq([["user", nil], ["assistant", "streaming"]])
    saved = rows.last.content
    expect(saved).to start_with(seen)
    state = JSON.parse(rows.last.continuation_state)
    expect(state).to include("checkpoint" => true)
    expect(AssistantChatNative::Turn.shown_text(AssistantChatNative::Turn.with_shown_text(state, saved))).to eq(saved)
    expect(broadcasts.of(:complete)).to be_empty
    expect(broadcasts.of(:error)).to be_empty
    expect(WorkerHarness.reports).to be_empty

    provider.enqueue(text: " and the rest of it.")
    WorkerHarness.start_sidekiq!
    broadcasts.wait_for_end(count: 2)

    rows = Message.where(conversation_id: conversation.id).order(:id)
    expect(rows.map { |row| [row.role, row.status, row.content] })
      .to eq([["user", nil, "A long question"], ["assistant", "completed", "#{saved} and the rest of it."]])
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["#{saved} and the rest of it."])
    # The page was re-synced with the text it had (offset 0), then got the rest appended.
    expect(PageReplay.shrinks(broadcasts.events)).to eq([])
    expect(PageReplay.texts(broadcasts.events).last).to eq("#{saved} and the rest of it.")
    expect(provider.requests.last.json["messages"].last["content"].to_s).to include("interrupted")
    expect(Conversation.find(conversation.id).processing_by_id).to be_nil
  end
end

RSpec.describe "AssistantChatWorker delivered again after its turn finished", :worker_integration do
  include_context "a conversation the page watches"

  it "shows the saved reply without asking the model again or saving anything twice" do
    provider.enqueue(text: "Answered once.")
    args = [conversation.id, "Question", "claude-sonnet", [], {}, []]
    jid = AssistantChatWorker.perform_async(*args)
    broadcasts.wait_for_end

    Sidekiq::Client.push("class" => AssistantChatWorker, "args" => args, "jid" => jid)
    broadcasts.wait_for_end(count: 2)

    expect(provider.requests.size).to eq(1)
    expect(Message.where(conversation_id: conversation.id).order(:id).pluck(:role, :content))
      .to eq([["user", "Question"], ["assistant", "Answered once."]])
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["Answered once.", "Answered once."])
  end
end
