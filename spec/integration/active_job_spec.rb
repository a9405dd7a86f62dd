# frozen_string_literal: true

require "spec_helper"

# A process-level exception a tool raises to end its job where a killed process would
# have stopped it: not a StandardError, so neither the Turn, the job nor ActiveJob
# treats it as the turn's error.
class ProcessKilledMidTurn < Exception; end # rubocop:disable Lint/InheritException

# AssistantChatJob (the app's AssistantChatNative::Job) on a real Solid Queue in the
# suite's PostgreSQL (SolidQueueHarness), with LocalProvider as the model.
RSpec.describe "AssistantChatJob on Solid Queue", :worker_integration, :solid_queue do
  before(:context) { SolidQueueHarness.start! }
  after(:context) { SolidQueueHarness.stop! }

  let(:job_class) { AssistantChatJob }

  def enqueue_on(klass, *arguments)
    job = klass.perform_later(*arguments)
    expect(job.successfully_enqueued?).to be(true)
    job.job_id
  end

  def wait_for_job(job_id)
    SolidQueueHarness.wait_for_job(job_id)
  end

  def busy_rerun_enqueued?
    SolidQueue::Job.where(class_name: job_class.name, finished_at: nil).where.not(scheduled_at: nil)
      .map { |job| ActiveJob::Arguments.deserialize(job.arguments["arguments"]).first }
      .any? { |arguments| arguments.is_a?(Hash) && arguments.dig("continuation", "busy_attempts") }
  end

  it_behaves_like "a queue that runs chat turns"

  describe "what the queue decides" do
    include_context "a user's conversation the page watches"

    after do
      AssistantChatNative.config.max_rounds = 10
    end

    it "enqueues the continuation as a job of the same class on Solid Queue" do
      AssistantChatNative.config.max_rounds = 1
      provider.enqueue(tool_calls: [{name: "query_database", id: "toolu_0", arguments: {"sql" => "SELECT 1"}}])
      provider.enqueue(text: "Done in two jobs.")
      first = enqueue_on(job_class, conversation.id, "Run a query", "claude-haiku", ["app_db"], {"user_id" => user.id})
      broadcasts.wait_for_end(count: 2)

      jobs = SolidQueue::Job.where(class_name: "AssistantChatJob").order(:id).to_a
      expect(jobs.map(&:active_job_id).first).to eq(first)
      expect(jobs.size).to eq(2)
      continuation = ActiveJob::Arguments.deserialize(jobs.last.arguments["arguments"]).first
      expect(continuation).to include("conversation_id" => conversation.id, "user_message" => nil, "model" => "claude-haiku",
        "tool_services" => ["app_db"], "user_context" => {"user_id" => user.id})
      expect(continuation["continuation"]).to include("chain_started_at")
      expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["Done in two jobs."])
    end

    it "is never retried by ActiveJob: a failed turn ends as a finished job, not a failed or retried one" do
      provider.enqueue(status: 500, body: "", times: 3)
      id = enqueue_on(job_class, conversation.id, "Hello", "claude-sonnet", [], {"user_id" => user.id})
      wait_for_job(id)

      expect(broadcasts.of(:error).size).to eq(1)
      expect(SolidQueue::Job.where(class_name: "AssistantChatJob").count).to eq(1)
      expect(SolidQueue::FailedExecution.count).to eq(0)
      expect(AssistantChatJob.rescue_handlers).to be_empty
    end

    it "keeps the user's message and context out of ActiveJob's log lines" do
      provider.enqueue(text: "Private answer.")
      id = enqueue_on(job_class, conversation.id, "my salary is 123456", "claude-sonnet", [], {"user_id" => user.id, "name" => "Dana Secretname"})
      wait_for_job(id)
      log = File.read(File.join(SpecRailsApp.root, "log", "test.log"))
      expect(log).to include("Performed AssistantChatJob (Job ID: #{id})")
      expect(log).not_to include("123456", "Secretname")
    end

    let(:runs) { Hash.new(0) }

    # "refund" counts its runs and is not idempotent; "weather" dies on its first run,
    # leaving the turn's checkpoint after the refund, and is idempotent.
    def kill_a_turn_mid_tool
      AssistantChatNative.config.checkpoint_interval = 0.1
      counts = runs
      dying = [true]
      AssistantChatNative.config.worker.tool_services.register("durable") do
        [AssistantChatNative::Tool.new(name: "refund_order", description: "Refunds an order") do |arguments|
          counts["refund_order"] += 1
          "refunded #{arguments["order"]}"
        end,
          AssistantChatNative::Tool.new(name: "get_weather", description: "The weather", idempotent: true) do |_arguments|
            counts["get_weather"] += 1
            raise ProcessKilledMidTurn, "the process was killed" if dying.shift

            "sunny"
          end]
      end
      provider.enqueue(text: "Refunding first.", tool_calls: [{name: "refund_order", id: "toolu_refund", arguments: {order: 7}},
        {name: "get_weather", id: "toolu_weather", arguments: {}}])
      provider.enqueue(text: "Refunded, and it is sunny.")
      dead = enqueue_on(job_class, conversation.id, "Refund order 7", "claude-sonnet", ["durable"], {"user_id" => user.id})
      WorkerHarness.wait_until(message: "the job's death") { counts["get_weather"] == 1 && SolidQueue::ClaimedExecution.none? }
      # What a process killed with SIGKILL (or QUIT after shutdown_timeout) leaves: the column lock, stale.
      Conversation.where(id: conversation.id)
        .update_all(processing_by_id: user.id, processing_since: Time.now - 3600, processing_job_id: dead)
      dead
    end

    # The turn finished once, in the row the dead job began, the refund not run again.
    def expect_turn_finished_once(dead)
      WorkerHarness.wait_until(message: "the resumed reply") { broadcasts.of(:complete).any? }
      expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["Refunding first.\n\nRefunded, and it is sunny."])
      rows = Message.where(conversation_id: conversation.id).order(:id)
      expect(rows.map { |row| [row.role, row.status, row.job_id] })
        .to eq([["user", nil, dead], ["assistant", "completed", dead]])
      expect(runs["refund_order"]).to eq(1)
      WorkerHarness.wait_until(message: "the lock's release") { Conversation.find(conversation.id).processing_by_id.nil? }
    end

    it "resumes a turn whose job died through the Reaper, with perform_later on Solid Queue" do
      dead = kill_a_turn_mid_tool
      expect(SolidQueue::FailedExecution.joins(:job).where(job: {active_job_id: dead}).count).to eq(1)

      expect(AssistantChatNative::Reaper.new(worker: "AssistantChatJob").call).to eq(conversation.id => :resumed)
      resumed = WorkerHarness.wait_until(message: "the resume job") do
        SolidQueue::Job.where(class_name: "AssistantChatJob").where.not(active_job_id: dead).first
      end
      expect(ActiveJob::Arguments.deserialize(resumed.arguments["arguments"]).first)
        .to include("conversation_id" => conversation.id, "user_message" => nil)
      expect_turn_finished_once(dead)
    end

    it "goes on from the checkpoint when Solid Queue's failed execution of the dead job is retried (same job_id)" do
      dead = kill_a_turn_mid_tool
      SolidQueue::FailedExecution.joins(:job).find_by!(job: {active_job_id: dead}).retry

      expect_turn_finished_once(dead)
      expect(SolidQueue::Job.where(class_name: "AssistantChatJob").pluck(:active_job_id)).to eq([dead])
    end
  end
end

RSpec.describe "AssistantChatJob on ActiveJob's async adapter", :worker_integration do
  include_context "a conversation the page watches"

  it "runs a tool-calling turn in this process, with the same locks and broadcasts" do
    stub_const("AsyncAssistantChatJob", Class.new(AssistantChatJob) { self.queue_adapter = :async })
    provider.enqueue(tool_calls: [{name: "query_database", id: "toolu_1", arguments: {"sql" => "SELECT 1"}}])
    provider.enqueue(text: "Answered in process.")
    job = AsyncAssistantChatJob.perform_later(conversation.id, "Hello", "claude-sonnet", ["app_db"])
    broadcasts.wait_for_end

    expect(broadcasts.of(:lock).map { |event| event["locked"] }).to eq([true, false])
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["Answered in process."])
    expect(Message.where(conversation_id: conversation.id).order(:id).pluck(:role, :job_id))
      .to eq([["user", job.job_id], ["assistant", job.job_id]])
    expect(SolidQueue::Job.where(active_job_id: job.job_id)).to be_empty
  end
end
