# frozen_string_literal: true

require "spec_helper"
require_relative "seed_app_helpers"

RSpec.describe "The seed's app running turns through its changed AssistantChatWorker", :worker_integration do
  include SeedAppHelpers

  it "answers with tools and saves both messages in its own table through the conversation's association" do
    script_tool_then_reply("California leads with 120 sales, then New York with 80.")
    jid = AssistantChatWorker.perform_async(conversation.id, "Show me sales by state", "claude-sonnet", ["app_db"], party_context)
    wait_for_release

    expect(host_locks).to eq([true, false])
    expect(host_errors).to be_empty
    # Saved through the association: its scope gave both rows kind "chat".
    expect(AssistantMessage.where(assistant_conversation_id: conversation.id).order(:id).pluck(:kind, :role, :body, :job_id, :status)).to eq([
      ["chat", "user", "Show me sales by state", jid, nil],
      ["chat", "assistant", "California leads with 120 sales, then New York with 80.", jid, "completed"]
    ])
    tool_results = JSON.parse(messages.last.transcript).flat_map { |message| Array(message["content"]) }
      .select { |part| part.is_a?(Hash) && part["type"] == "tool_result" }
    expect(tool_results.map { |part| part["tool_call_id"] }).to eq(["toolu_1"])
    expect(request_texts(provider.requests.first).first).to eq(["user", "Show me sales by state"])
    expect(provider.requests.last.json["system"].to_s).to include("name: Dana")
    expect(conversation.reload.slice(:processing_by_id, :processing_since, :failed_turns_count))
      .to eq("processing_by_id" => nil, "processing_since" => nil, "failed_turns_count" => 0)
    expect(ErrorReporting.calls).to be_empty
  end

  it "sends the earlier messages of the conversation's association as the history, not the support notes" do
    conversation.assistant_messages.create!(role: "user", body: "Which state sold most?")
    AssistantMessage.create!(assistant_conversation: conversation, kind: "note", role: "user", body: "Called the party back.")
    conversation.assistant_messages.create!(role: "assistant", body: "California.")
    provider.enqueue(text: "New York is second.")
    AssistantChatWorker.perform_async(conversation.id, "And second?", "claude-sonnet", [], party_context)
    wait_for_release

    expect(request_texts(provider.requests.last))
      .to eq([["user", "Which state sold most?"], ["assistant", "California."], ["user", "And second?"]])
    expect(messages.pluck(:body).last).to eq("New York is second.")
  end

  it "holds the lock in the party's name, and a second job gets the busy copy through the app's broadcast_error" do
    provider.enqueue(text: (1..60).map { |index| "token#{index}" }.join(" "), token_rate: 60)
    provider.enqueue(text: "This reply must never be streamed.")
    AssistantChatWorker.perform_async(conversation.id, "First question", "claude-sonnet", [], party_context)
    WorkerHarness.wait_until(message: "the first job to hold the lock") do
      provider.requests.any? && AssistantConversation.find(conversation.id).processing_by_id == party.id
    end

    AssistantChatWorker.perform_async(conversation.id, "Second question", "claude-sonnet", [], party_context)
    WorkerHarness.wait_until(message: "the busy copy") { host_errors.any? }
    expect(host_errors).to eq(["This conversation is currently being processed. Please try again in a moment."])

    wait_for_release(timeout: 30)
    expect(host_locks).to eq([true, false])
    expect(provider.requests.size).to eq(1)
    expect(messages.where(role: "user").pluck(:body)).to eq(["First question"])
    expect(ErrorReporting.calls).to be_empty
  end

  it "force-acquires a column lock a crashed job left, since the advisory lock proves no holder is alive" do
    conversation.update_columns(processing_by_id: 999, processing_since: 2.hours.ago)
    provider.enqueue(text: "Taking over works.")
    AssistantChatWorker.perform_async(conversation.id, "Are you there?", "claude-sonnet", [], party_context)
    wait_for_release

    expect(host_errors).to be_empty
    expect(host_locks).to eq([true, false])
    expect(messages.where(role: "assistant").pluck(:body)).to eq(["Taking over works."])
    expect(conversation.reload.processing_by_id).to be_nil
    log = File.read(File.join(SpecRailsApp.root, "log", "test.log"))
    expect(log).to include("Stale processing lock on conversation #{conversation.id} (by_id=999")
  end

  it "sends an upload to the provider and removes its tempfile" do
    upload = Upload.create!(party: party, filename: "notes.txt", content_type: "text/plain", data: "quarterly notes")
    provider.enqueue(text: "I read your notes.")
    before = Dir.glob(File.join(Dir.tmpdir, "acn-upload-*"))
    jid = AssistantChatWorker.perform_async(conversation.id, "Summarize my notes", "claude-sonnet", [], party_context, [upload.id])
    wait_for_release
    WorkerHarness.wait_for_job(jid)

    document = provider.requests.last.json["messages"].last["content"].find { |part| part["type"] == "document" }
    expect(Base64.decode64(document.dig("source", "data"))).to eq("quarterly notes")
    expect(Dir.glob(File.join(Dir.tmpdir, "acn-upload-*")) - before).to be_empty
    expect(messages.pluck(:role, :body)).to eq([["user", "Summarize my notes"], ["assistant", "I read your notes."]])
  end

  it "hands a turn that needs more rounds to a second job, which finishes it in the same row" do
    AssistantChatNative.config.max_rounds = 2
    3.times do |index|
      provider.enqueue(tool_calls: [{name: "query_database", id: "toolu_#{index}", arguments: {"sql" => "SELECT #{index}"}}])
    end
    provider.enqueue(text: "All three queries agree.")
    first = AssistantChatWorker.perform_async(conversation.id, "Run three queries", "claude-haiku", ["app_db"], party_context)
    wait_for_release(count: 2)

    expect(host_errors).to be_empty
    expect(host_locks).to eq([true, false, true, false])
    rows = messages.to_a
    expect(rows.map { |row| [row.role, row.status] }).to eq([["user", nil], ["assistant", "completed"]])
    expect(rows.last.body).to eq("All three queries agree.")
    # The turn keeps the row its first job began, whichever job finished it.
    expect(rows.map(&:job_id)).to eq([first, first])
    expect(provider.requests.size).to eq(4)
    expect(conversation.reload.processing_by_id).to be_nil
  ensure
    AssistantChatNative.config.max_rounds = 10
  end

  it "stops when the party cancels, saves what was shown as cancelled and releases the lock" do
    provider.enqueue(text: (1..300).map { |index| "w#{index}" }.join(" "), token_rate: 30)
    AssistantChatWorker.perform_async(conversation.id, "Long one", "claude-sonnet", [], party_context)
    WorkerHarness.wait_until(message: "the stream to start") { provider.requests.any? }
    conversation.update_columns(cancel_requested_at: Time.current)
    wait_for_release

    expect(host_errors).to be_empty
    reply = messages.find_by(role: "assistant")
    expect(reply.status).to eq("cancelled")
    expect(reply.body).not_to include("w300")
    expect(conversation.reload.processing_by_id).to be_nil
  end
end
