# frozen_string_literal: true

require "spec_helper"
require "sidekiq/api"

# A process-level exception a tool raises to end its job where a killed process
# would have stopped it: not a StandardError, so neither the Turn nor the worker
# treats it as the turn's error.
class SimulatedDeath < Exception; end # rubocop:disable Lint/InheritException

RSpec.describe "AssistantChatWorker's durable turns", :worker_integration do
  include_context "a user's conversation the page watches"
  let(:runs) { Hash.new(0) }

  after do
    AssistantChatNative.config.max_rounds = 10
    AssistantChatWorker.settings.max_continuations = 5
    AssistantChatWorker.settings.continuation_retry_delay = 1.0
    AssistantChatWorker.settings.continuation_busy_wait = 600
  end

  before { AssistantChatNative.config.checkpoint_interval = 0.1 }

  # "refund" counts its runs and is not idempotent; "weather" dies on its first run
  # when told to, and is idempotent, so the job that goes on runs it again.
  def register_tools(die: false, gate: nil)
    counts = runs
    dying = [die]
    AssistantChatNative.config.worker.tool_services.register("durable") do |_user_context, _conversation|
      [AssistantChatNative::Tool.new(name: "refund_order", description: "Refunds an order") do |arguments, tool_call_id:|
        counts[["refund_order", tool_call_id]] += 1
        "refunded #{arguments["order"]}"
      end,
        AssistantChatNative::Tool.new(name: "get_weather", description: "The weather", idempotent: true) do |_arguments, tool_call_id:|
          gate&.pop
          counts[["get_weather", tool_call_id]] += 1
          raise SimulatedDeath, "the process was killed" if dying.shift

          "sunny"
        end]
    end
  end

  def script_refund_then_weather(reply:)
    provider.enqueue(text: "Refunding first.", tool_calls: [{name: "refund_order", id: "toolu_refund", arguments: {order: 7}},
      {name: "get_weather", id: "toolu_weather", arguments: {}}])
    provider.enqueue(text: reply)
  end

  def rows
    Message.where(conversation_id: conversation.id).order(:id)
  end

  def assistant_state
    saved = rows.where(role: "assistant").last&.continuation_state
    saved && JSON.parse(saved)
  end

  it "saves a checkpoint on the reply's row after each tool and while the text streams" do
    gate = Queue.new
    register_tools(gate: gate)
    provider.enqueue(text: "Refunding first.", tool_calls: [{name: "refund_order", id: "toolu_refund", arguments: {order: 7}},
      {name: "get_weather", id: "toolu_weather", arguments: {}}])
    provider.enqueue(text: (1..30).map { |index| "word#{index}" }.join(" "), token_rate: 30)
    AssistantChatWorker.perform_async(conversation.id, "Refund order 7", "claude-sonnet", ["durable"], {"user_id" => user.id})

    # The weather tool waits: the refund's result is saved already, with the text shown.
    # (The checkpoint after the refund, with nothing running, comes just before this one.)
    state = WorkerHarness.wait_until(message: "the weather tool's checkpoint") { assistant_state&.then { |saved| saved if saved.dig("tools", "running") == "toolu_weather" } }
    expect(state.dig("tools", "results", "toolu_refund").to_s).to include("refunded 7")
    expect(state.dig("tools", "running")).to eq("toolu_weather")
    expect(state["job"]).to include("worker" => "AssistantChatWorker", "model" => "claude-sonnet",
      "tool_services" => ["durable"], "user_context" => {"user_id" => user.id}, "upload_ids" => [])
    expect(state["job"]["chain_started_at"]).to be_a(Float)
    expect(rows.map { |row| [row.role, row.status, row.content] })
      .to eq([["user", nil, "Refund order 7"], ["assistant", "streaming", "Refunding first."]])
    gate << true

    # While the reply streams, the row's text grows with it (each chunk's), and
    # checkpoints hold the round's text.
    partial = WorkerHarness.wait_until(message: "a checkpoint while streaming") do
      # The state first: the row's text, saved before each chunk, holds at least its words.
      saved = assistant_state["partial_text"].to_s
      row = rows.last
      row.content if row.status == "streaming" && saved.start_with?("word1")
    end
    expect(partial).to start_with("Refunding first.\n\nword1")
    broadcasts.wait_for_end
    expect(rows.last.status).to eq("completed")
    expect(rows.last.content).to start_with(partial.sub(/word\d+\z/, ""))
    expect(rows.where(role: "assistant").count).to eq(1)
  end

  it "goes on from the dead job's checkpoint when Sidekiq runs the same job again: no tool twice, one user message" do
    register_tools(die: true)
    script_refund_then_weather(reply: "Refunded, and it is sunny.")
    args = [conversation.id, "Refund order 7 and check the weather", "claude-sonnet", ["durable"], {"user_id" => user.id}, []]
    jid = AssistantChatWorker.perform_async(*args)
    broadcasts.wait_for_end
    WorkerHarness.wait_until(message: "the job's death") { runs[["get_weather", "toolu_weather"]] == 1 }
    expect(rows.map { |row| [row.role, row.status] }).to eq([["user", nil], ["assistant", "streaming"]])
    expect(broadcasts.of(:complete)).to be_empty

    Sidekiq::Client.push("class" => AssistantChatWorker, "args" => args, "jid" => jid)
    broadcasts.wait_for_end(count: 2)

    expect(runs).to eq({["refund_order", "toolu_refund"] => 1, ["get_weather", "toolu_weather"] => 2})
    expect(rows.map { |row| [row.role, row.status, row.content] }).to eq([
      ["user", nil, "Refund order 7 and check the weather"],
      ["assistant", "completed", "Refunding first.\n\nRefunded, and it is sunny."]
    ])
    expect(provider.requests.size).to eq(2)
    # The job that went on sent the model the dead job's round: its calls and both results.
    sent = provider.requests.last.json["messages"]
    expect(sent.flat_map { |message| Array(message["content"]) }.filter_map { |part| part["id"] if part.is_a?(Hash) && part["type"] == "tool_use" })
      .to eq(%w[toolu_refund toolu_weather])
    expect(sent.last["content"].map { |part| [part["tool_use_id"], part["content"]] })
      .to eq([["toolu_refund", "refunded 7"], ["toolu_weather", "sunny"]])
    # The page never lost text: the re-sync at offset 0 showed what it had, then the rest was appended.
    expect(PageReplay.shrinks(broadcasts.events)).to eq([])
    expect(broadcasts.of(:chunk).count { |event| event["offset"].zero? }).to eq(2)
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["Refunding first.\n\nRefunded, and it is sunny."])
  end

  it "finishes a dead job's turn before it answers the next message, in order" do
    register_tools(die: true)
    script_refund_then_weather(reply: "Refunded, and it is sunny.")
    AssistantChatWorker.perform_async(conversation.id, "Refund order 7", "claude-sonnet", ["durable"], {"user_id" => user.id})
    broadcasts.wait_for_end
    WorkerHarness.wait_until(message: "the job's death") { runs[["get_weather", "toolu_weather"]] == 1 }

    provider.enqueue(text: "You are welcome.")
    AssistantChatWorker.perform_async(conversation.id, "Thanks", "claude-sonnet", [], {"user_id" => user.id})
    broadcasts.wait_for_end(count: 2)

    expect(rows.map { |row| [row.role, row.status, row.content] }).to eq([
      ["user", nil, "Refund order 7"],
      ["assistant", "completed", "Refunding first.\n\nRefunded, and it is sunny."],
      ["user", nil, "Thanks"],
      ["assistant", "completed", "You are welcome."]
    ])
    expect(runs[["refund_order", "toolu_refund"]]).to eq(1)
    expect(broadcasts.of(:complete).map { |event| event["text"] })
      .to eq(["Refunding first.\n\nRefunded, and it is sunny.", "You are welcome."])
    # The new message's request carries the finished turn before it.
    contents = provider.requests.last.json["messages"].map { |message| message["content"].to_s }
    expect(contents.index { |text| text.include?("Refunded, and it is sunny.") })
      .to be < contents.index { |text| text.include?("Thanks") }
  end

  it "answers the next message after the chain that finishes a dead job's turn, when that turn needs a continuation" do
    AssistantChatNative.config.max_rounds = 1
    register_tools(die: true)
    provider.enqueue(text: "Refunding first.", tool_calls: [{name: "refund_order", id: "toolu_refund", arguments: {order: 7}},
      {name: "get_weather", id: "toolu_weather", arguments: {}}])
    AssistantChatWorker.perform_async(conversation.id, "Refund order 7", "claude-sonnet", ["durable"], {"user_id" => user.id})
    broadcasts.wait_for_end
    WorkerHarness.wait_until(message: "the job's death") { runs[["get_weather", "toolu_weather"]] == 1 }

    # The dead turn's next round asks for another tool, so it goes on in a continuation job,
    # and the new message waits for the chain's last job.
    provider.enqueue(text: "One more refund.", tool_calls: [{name: "refund_order", id: "toolu_refund_8", arguments: {order: 8}}])
    provider.enqueue(text: "Both refunded.")
    provider.enqueue(text: "You are welcome.")
    AssistantChatWorker.perform_async(conversation.id, "Thanks", "claude-sonnet", [], {"user_id" => user.id})
    WorkerHarness.wait_until(timeout: 20, message: "both replies") { broadcasts.of(:complete).size == 2 }

    expect(broadcasts.of(:complete).map { |event| event["text"] })
      .to eq(["Refunding first.\n\nOne more refund.\n\nBoth refunded.", "You are welcome."])
    expect(rows.map { |row| [row.role, row.status, row.content] }).to eq([
      ["user", nil, "Refund order 7"],
      ["assistant", "completed", "Refunding first.\n\nOne more refund.\n\nBoth refunded."],
      ["user", nil, "Thanks"],
      ["assistant", "completed", "You are welcome."]
    ])
    expect(runs).to eq({["refund_order", "toolu_refund"] => 1, ["get_weather", "toolu_weather"] => 2,
                        ["refund_order", "toolu_refund_8"] => 1})
    # The new message's request holds the whole turn before it: each call before its result.
    sent = provider.requests.last.json["messages"]
    texts = sent.map { |message| message["content"].to_s }
    expect(texts.index { |text| text.include?("Both refunded.") }).to be < texts.index { |text| text.include?("Thanks") }
    calls = []
    sent.flat_map { |message| Array(message["content"]) }.grep(Hash).each do |part|
      calls << part["id"] if part["type"] == "tool_use"
      expect(calls).to include(part["tool_use_id"]) if part["type"] == "tool_result"
    end
    expect(calls).to eq(%w[toolu_refund toolu_weather toolu_refund_8])
    WorkerHarness.wait_until(message: "the column lock's release") { Conversation.find(conversation.id).processing_by_id.nil? }
  end

  describe "the Reaper" do
    # What a process killed with SIGKILL leaves: the column lock, stale, and no
    # session holding the advisory lock.
    def leave_stale_lock(jid)
      Conversation.where(id: conversation.id)
        .update_all(processing_by_id: user.id, processing_since: Time.now - 3600, processing_job_id: jid)
    end

    it "re-enqueues a resume job for a stale lock with a checkpoint, which finishes the turn" do
      register_tools(die: true)
      script_refund_then_weather(reply: "Refunded, and it is sunny.")
      jid = AssistantChatWorker.perform_async(conversation.id, "Refund order 7", "claude-sonnet", ["durable"], {"user_id" => user.id})
      broadcasts.wait_for_end
      WorkerHarness.wait_until(message: "the job's death") { runs[["get_weather", "toolu_weather"]] == 1 }
      leave_stale_lock(jid)

      expect(AssistantChatNative::Reaper.new(worker: AssistantChatWorker).call).to eq(conversation.id => :resumed)
      broadcasts.wait_for_end(count: 2)

      expect(rows.map { |row| [row.role, row.status, row.content] }).to eq([
        ["user", nil, "Refund order 7"], ["assistant", "completed", "Refunding first.\n\nRefunded, and it is sunny."]
      ])
      expect(runs[["refund_order", "toolu_refund"]]).to eq(1)
      expect(Conversation.find(conversation.id).processing_by_id).to be_nil
      expect(PageReplay.shrinks(broadcasts.events)).to eq([])
    end

    it "tells the user and clears a stale lock that has no checkpoint" do
      Message.create!(conversation_id: conversation.id, role: "user", content: "Hello", job_id: "dead-job")
      leave_stale_lock("dead-job")

      expect(AssistantChatNative::Reaper.new(worker: AssistantChatWorker).call).to eq(conversation.id => :failed)

      expect(broadcasts.of(:error).map { |event| event["text"] })
        .to eq([AssistantChatNative::Worker::ErrorCopy::INTERRUPTED])
      expect(broadcasts.of(:lock).map { |event| event["locked"] }).to eq([false])
      expect(Conversation.find(conversation.id).processing_by_id).to be_nil
    end

    it "skips a stale-looking lock whose job is alive (it holds the advisory lock)" do
      leave_stale_lock("live-job")
      holder = AdvisoryLockHolder.new(Conversation, conversation.processing_lock_key)

      expect(AssistantChatNative::Reaper.new(worker: AssistantChatWorker).call).to eq(conversation.id => :live)
      expect(Conversation.find(conversation.id).processing_job_id).to eq("live-job")
      expect(broadcasts.events).to be_empty
    ensure
      holder&.release
    end
  end

  describe "continuations" do
    def script_queries(count, reply:)
      count.times do |index|
        provider.enqueue(tool_calls: [{name: "query_database", id: "toolu_#{index}", arguments: {"sql" => "SELECT #{index}"}}])
      end
      provider.enqueue(text: reply)
    end

    it "ends a turn past max_continuations with copy that says so, saved and broadcast, not an error" do
      AssistantChatNative.config.max_rounds = 1
      AssistantChatWorker.settings.max_continuations = 2
      script_queries(5, reply: "Never reached.")
      AssistantChatWorker.perform_async(conversation.id, "Run five queries", "claude-haiku", ["app_db"], {"user_id" => user.id})
      broadcasts.wait_for_end(count: 3)
      WorkerHarness.wait_until(message: "the stopped reply") { broadcasts.of(:complete).any? }

      # The first job and two continuations, one round each.
      expect(provider.requests.size).to eq(3)
      copy = AssistantChatNative::Worker::ErrorCopy::TOO_MANY_CONTINUATIONS
      expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq([copy])
      expect(broadcasts.of(:error)).to be_empty
      expect(WorkerHarness.reports).to be_empty
      expect(rows.map { |row| [row.role, row.status] })
        .to eq([["user", nil], ["assistant", "stopped"]])
      expect(rows.last.content).to eq(copy)
      expect(Conversation.find(conversation.id).processing_by_id).to be_nil
    end

    it "stops the whole chain on a cancel requested between two continuation jobs" do
      AssistantChatNative.config.max_rounds = 1
      script_queries(3, reply: "Never reached.")
      # The first job hands its continuation to the spec, which enqueues it once the
      # cancel is in: between the two jobs.
      handed = Queue.new
      stub_const("HandOverWorker", Class.new(AssistantChatWorker) { define_method(:schedule_continuation) { |**arguments| handed << arguments } })
      jid = HandOverWorker.perform_async(conversation.id, "Run three queries", "claude-haiku", ["app_db"], {"user_id" => user.id})
      WorkerHarness.wait_for_job(jid)
      chain_started_at = assistant_state["job"]["chain_started_at"]
      expect(handed.size).to eq(1)
      expect(handed.pop).to include(model: "claude-haiku")
      Conversation.where(id: conversation.id).update_all(cancel_requested_at: Time.now)
      AssistantChatWorker.perform_async("conversation_id" => conversation.id, "user_message" => nil,
        "model" => "claude-haiku", "tool_services" => ["app_db"], "user_context" => {"user_id" => user.id},
        "continuation" => {"chain_started_at" => chain_started_at})
      WorkerHarness.wait_until(message: "the cancelled reply") { broadcasts.of(:complete).any? }

      expect(broadcasts.of(:complete).map { |event| event["cancelled"] }).to eq([true])
      expect(provider.requests.size).to eq(1)
      expect(rows.map { |row| [row.role, row.status] }).to eq([["user", nil], ["assistant", "cancelled"]])
    end

    it "rebuilds a continuation's attachments from their upload ids" do
      AssistantChatNative.config.max_rounds = 1
      upload = Upload.create!(filename: "notes.txt", content_type: "text/plain", data: "quarterly notes")
      script_queries(1, reply: "I read your notes twice.")
      AssistantChatWorker.perform_async(conversation.id, "Summarize my notes", "claude-sonnet", ["app_db"], {}, [upload.id])
      broadcasts.wait_for_end(count: 2)

      expect(broadcasts.of(:error)).to eq([])
      expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["I read your notes twice."])
      expect(provider.requests.size).to eq(2)
      documents = provider.requests.map do |request|
        part = request.json["messages"].flat_map { |message| Array(message["content"]) }
          .find { |candidate| candidate.is_a?(Hash) && candidate["type"] == "document" }
        Base64.decode64(part.dig("source", "data"))
      end
      expect(documents).to eq(["quarterly notes", "quarterly notes"])
    end
  end
end
