# frozen_string_literal: true

require "spec_helper"
require "sidekiq/api"
require_relative "../support/worker_process"

# Turns survive their worker process dying: a Sidekiq process of its own is killed
# mid-stream or mid-tool (kill -9, as the OOM killer does; TERM with a short
# timeout, as a deploy does), then a fresh one (and, for a job lost outright, the
# Reaper) finishes the turn. The page listens on Redis pubsub across both.
RSpec.describe "AssistantChatWorker whose process is killed mid-turn", :worker_integration do
  let(:provider) { WorkerHarness.provider }
  let(:conversation) { Conversation.create! }
  let(:reply) { (1..120).map { |index| "word#{index}" }.join(" ") }
  let(:rest) { "And that is the whole answer." }
  let!(:page) { WorkerProcess::PageLog.new(WorkerHarness.stream_for(conversation)) }
  let(:processes) { [] }

  before do
    # This suite's in-process Sidekiq would take the jobs these examples give
    # to their own worker processes.
    WorkerHarness.stop_sidekiq!
    WorkerProcess.prepare_tables!
  end

  after do
    processes.each(&:stop)
    page.close
    WorkerHarness.start_sidekiq!
  end

  def start_worker(**options)
    WorkerProcess.new(provider: provider, api_key: WorkerHarness::API_KEY, **options).tap { |process| processes << process }
  end

  def enqueue_turn
    AssistantChatWorker.perform_async(conversation.id, "Sales by state, at length", "claude-sonnet", ["app_db"], {})
  end

  # Round one calls the tool; round two streams the reply slowly enough to be
  # killed in the middle.
  def script_tool_then_slow_reply
    provider.enqueue(tool_calls: [{name: "query_database", id: "toolu_1", arguments: {"sql" => "SELECT 1"}}])
    provider.enqueue(text: reply, token_rate: 40)
  end

  def tool_runs
    ActiveRecord::Base.connection.select_rows("SELECT tool_call_id FROM tool_runs WHERE conversation_id = #{conversation.id}").flatten
  end

  def wait_for_shown_text
    WorkerHarness.wait_until(message: "the reply to be streaming; worker log:\n#{processes.last.log_tail}") { page.of(:chunk).sum { |chunk| chunk["delta"].length } > 40 }
  end

  def reap!
    AssistantChatNative::Reaper.new(stale_after: 0).call
  end

  def expect_turn_completed_once(resumed_from_text: true)
    WorkerHarness.wait_until(timeout: 30, message: "the turn to complete; got #{page.events.inspect[0, 800]}") { page.of(:complete).any? }
    WorkerHarness.wait_until(timeout: 10, message: "the column lock's release") { Conversation.find(conversation.id).processing_by_id.nil? }

    # The rerun goes on from the checkpoint: the text the killed process streamed, then the rest.
    texts = page.of(:complete).map { |event| event["text"] }
    expect(texts.size).to eq(1)
    expect(texts.first).to(resumed_from_text ? start_with("word1 word2").and(end_with(rest)) : eq(reply))
    rows = Message.where(conversation_id: conversation.id).order(:id)
    expect(rows.map { |row| [row.role, row.content] }).to eq([["user", "Sales by state, at length"], ["assistant", texts.first]])
    expect(tool_runs).to eq(["toolu_1"])
    # The worker lets the advisory lock go after the column lock, when its block returns: wait for it
    # too, rather than race the worker process to it.
    WorkerHarness.wait_until(timeout: 10, message: "the advisory lock's release") do
      Conversation.with_advisory_lock_result(conversation.processing_lock_key, timeout_seconds: 0) { true }.lock_was_acquired?
    end
  end

  it "TERM with a short timeout: the job goes back with its jid, and a fresh process finishes the turn" do
    script_tool_then_slow_reply
    provider.enqueue(text: rest)
    # One thread: an idle second one would wait in Sidekiq's 2 s BRPOP past the
    # 1 s timeout, take the job the hard shutdown pushes back, and be killed with it.
    worker = start_worker(timeout: 1, concurrency: 1)
    jid = enqueue_turn
    wait_for_shown_text

    worker.kill("TERM")
    worker.wait
    expect(Sidekiq::Queue.new("default").map(&:jid)).to eq([jid])

    start_worker
    expect_turn_completed_once
    expect(page.vanished_text).to eq([])
  end

  it "kill -9 mid-stream: the Reaper puts the lost job back, and a fresh process finishes the turn" do
    script_tool_then_slow_reply
    provider.enqueue(text: rest)
    worker = start_worker
    enqueue_turn
    wait_for_shown_text
    # Killed when the page shows words the last checkpoint's state does not hold:
    # they were saved with the chunks that showed them.
    WorkerHarness.wait_until(message: "more words shown than checkpointed") do
      saved = Message.where(conversation_id: conversation.id, role: "assistant").pick(:continuation_state)
      saved && page.shown_text.length > AssistantChatNative::Turn.shown_text(JSON.parse(saved)).length + 30
    end

    worker.kill("KILL")
    worker.wait
    expect(Sidekiq::Queue.new("default").size).to eq(0) # basic fetch lost it

    start_worker
    reap!
    expect_turn_completed_once
    expect(page.vanished_text).to eq([])
  end

  it "kill -9 mid-tool: the tool is not run again, and a fresh process finishes the turn" do
    script_tool_then_slow_reply
    worker = start_worker(tool_sleep: 30)
    enqueue_turn
    WorkerHarness.wait_until(message: "the tool to start") { tool_runs.any? }

    worker.kill("KILL")
    worker.wait

    start_worker
    reap!
    expect_turn_completed_once(resumed_from_text: false)
    expect(page.vanished_text).to eq([])
  end
end
