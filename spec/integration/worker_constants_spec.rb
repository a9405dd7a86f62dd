# frozen_string_literal: true

require "spec_helper"

# A module the app's worker includes, as the seed's includes AssistantChat::Broadcaster:
# its constants name the tools in status lines.
module HostToolNames
  TOOL_DISPLAY_NAMES = {"query_database" => "Looking up sales"}.freeze
  TOOLS_WITH_SUMMARIES = [].freeze
  TOOL_PREFIXES = ["warehouse_"].freeze
end

# The seed's constants set in the app's own worker class.
class TunedChatWorker < AssistantChatNative::Worker
  include HostToolNames

  HEARTBEAT_INTERVAL = 0.2
  MAX_COMPACTION_RETRIES = 0
  ESCALATION_MODEL = "gpt"
end

RSpec.describe "A worker subclass that sets the seed's constants", :worker_integration do
  include_context "a conversation the page watches"

  it "escalates to its own ESCALATION_MODEL" do
    provider.enqueue(status: 400, body: "", provider: :gemini)
    provider.enqueue(text: "Answered by GPT.", provider: :openai)
    TunedChatWorker.perform_async(conversation.id, "Hello", "gemini-flash")
    broadcasts.wait_for_end
    expect(broadcasts.of(:error)).to be_empty
    expect(broadcasts.of(:complete).map { |event| [event["text"], event["model"]] }).to eq([["Answered by GPT.", "gpt"]])
    expect(provider.requests.map(&:provider)).to eq(%i[gemini openai])
  end

  it "compacts at most MAX_COMPACTION_RETRIES times: none" do
    overflow = JSON.generate({"type" => "error", "error" => {"type" => "invalid_request_error",
                                                             "message" => "prompt is too long: 250000 tokens > 200000 maximum"}})
    provider.enqueue(status: 400, body: overflow)
    provider.enqueue(text: "Never asked for.")
    TunedChatWorker.perform_async(conversation.id, "And now?", "claude-sonnet")
    broadcasts.wait_for_end
    WorkerHarness.wait_until(message: "the error broadcast") { broadcasts.of(:error).any? }
    expect(broadcasts.of(:status)).to be_empty
    expect(provider.requests.size).to eq(1)
  end

  it "beats every HEARTBEAT_INTERVAL seconds, keeping its lock fresh" do
    provider.enqueue(text: "word " * 60, token_rate: 60)
    TunedChatWorker.perform_async(conversation.id, "Talk slowly", "claude-sonnet")
    taken = WorkerHarness.wait_until(message: "the lock") { Conversation.find(conversation.id).processing_since }
    refreshed = WorkerHarness.wait_until(timeout: 5, message: "a heartbeat to refresh the lock") do
      since = Conversation.find(conversation.id).processing_since
      since if since && since > taken
    end
    expect(refreshed).to be > taken
    broadcasts.wait_for_end
  end

  it "names tools in status lines with the constants of the module it includes" do
    provider.enqueue(tool_calls: [{name: "query_database", id: "toolu_1", arguments: {"sql" => "SELECT 1"}}])
    provider.enqueue(text: "Done.")
    TunedChatWorker.perform_async(conversation.id, "Sales?", "claude-sonnet", ["app_db"])
    broadcasts.wait_for_end
    expect(broadcasts.of(:status).map { |event| event["text"] }).to eq(["Looking up sales"])
  end
end
