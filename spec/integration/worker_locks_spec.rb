# frozen_string_literal: true

require "spec_helper"

# A worker whose sender lookup fails: the job errors before it tries any lock.
class SenderLookupFailsWorker < AssistantChatNative::Worker
  def find_sender(_user_context)
    raise ActiveRecord::ConnectionNotEstablished, "the sender's database is down"
  end
end

# Beats every 0.1 s, so a slow tool sees several heartbeats from the heartbeat thread;
# its conversations are LeasingConversation (defined by the example that uses it).
class QuickHeartbeatWorker < AssistantChatNative::Worker
  HEARTBEAT_INTERVAL = 0.1

  def find_conversation(id)
    LeasingConversation.find(id)
  end
end

RSpec.describe "AssistantChatWorker's processing locks", :worker_integration do
  include_context "a user's conversation the page watches"

  it "lets one of two jobs for the same conversation stream while the other broadcasts the busy message" do
    provider.enqueue(text: (1..60).map { |index| "token#{index}" }.join(" "), token_rate: 60)
    provider.enqueue(text: "This reply must never be streamed.")
    first = AssistantChatWorker.perform_async(conversation.id, "First question", "claude-sonnet", [], {"user_id" => user.id})
    WorkerHarness.wait_until(message: "the first job to stream") { broadcasts.of(:chunk).any? }
    expect(Conversation.find(conversation.id).processing_job_id).to eq(first)

    AssistantChatWorker.perform_async(conversation.id, "Second question", "claude-sonnet", [], {"user_id" => user.id})
    WorkerHarness.wait_until(message: "the busy message") { broadcasts.of(:error).any? }
    expect(broadcasts.of(:error).map { |event| event["text"] })
      .to eq(["This conversation is currently being processed. Please try again in a moment."])
    expect(Conversation.find(conversation.id).processing_job_id).to eq(first)

    broadcasts.wait_for_end(timeout: 30)
    expect(broadcasts.of(:lock).map { |event| event["locked"] }).to eq([true, false])
    expect(broadcasts.of(:complete).size).to eq(1)
    expect(provider.requests.size).to eq(1)
    expect(Message.where(conversation_id: conversation.id, role: "user").pluck(:content)).to eq(["First question"])
    expect(Conversation.find(conversation.id).processing_by_id).to be_nil
  end

  it "takes over a column lock left by a crashed job, since the advisory lock proves no holder is alive" do
    conversation.update_columns(processing_by_id: 999, processing_since: 2.hours.ago, processing_job_id: "crashed-jid")
    provider.enqueue(text: "Taking over works.")
    AssistantChatWorker.perform_async(conversation.id, "Are you there?", "claude-sonnet", [], {"user_id" => user.id})
    broadcasts.wait_for_end
    expect(broadcasts.of(:error)).to be_empty
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["Taking over works."])
    expect(Conversation.find(conversation.id).processing_by_id).to be_nil
    log = File.read(File.join(SpecRailsApp.root, "log", "test.log"))
    expect(log).to include("Stale processing lock on conversation #{conversation.id} (by_id=999")
    expect(log).to include("job=crashed-jid). Force-acquiring")
  end

  it "does not take a column lock that a live job holds (the advisory lock is held elsewhere)" do
    held = Queue.new
    release = Queue.new
    holder = Thread.new do
      Conversation.with_advisory_lock(conversation.processing_lock_key, timeout_seconds: 0) do
        held << true
        release.pop
      end
    end
    Timeout.timeout(5) { held.pop }
    conversation.update_columns(processing_by_id: user.id, processing_since: Time.current, processing_job_id: "live-jid")

    AssistantChatWorker.perform_async(conversation.id, "Hello?", "claude-sonnet")
    WorkerHarness.wait_until(message: "the busy message") { broadcasts.of(:error).any? }
    expect(broadcasts.of(:error).map { |event| event["text"] })
      .to eq(["This conversation is currently being processed. Please try again in a moment."])
    expect(Conversation.find(conversation.id).processing_job_id).to eq("live-jid")
    expect(provider.requests).to be_empty
  ensure
    release << true
    holder&.join(5)
  end

  it "waits for an earlier run of the same job to let go, rather than calling its own message busy" do
    # The earlier run: Sidekiq's hard shutdown pushed the job back while the process
    # running it still held both locks and had saved the user's message.
    holder = AdvisoryLockHolder.new(Conversation, conversation.processing_lock_key)
    conversation.update_columns(processing_by_id: user.id, processing_since: Time.current, processing_job_id: "rerun-jid")
    Message.create!(conversation_id: conversation.id, role: "user", content: "Still there?", job_id: "rerun-jid")
    provider.enqueue(text: "Yes, still here.")

    Sidekiq::Client.push("class" => AssistantChatWorker, "jid" => "rerun-jid",
      "args" => [conversation.id, "Still there?", "claude-sonnet", [], {"user_id" => user.id}])
    log_path = File.join(SpecRailsApp.root, "log", "test.log")
    WorkerHarness.wait_until(message: "the rerun to wait for its earlier run") do
      File.read(log_path).include?("an earlier run of job rerun-jid still holds the lock")
    end
    # The earlier run's process exits: its ensure clears the column lock, its session the advisory lock.
    conversation.update_columns(processing_by_id: nil, processing_since: nil, processing_job_id: nil)
    holder.release

    broadcasts.wait_for_end(timeout: 30)
    expect(broadcasts.of(:error)).to be_empty
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["Yes, still here."])
    expect(Message.where(conversation_id: conversation.id, role: "user").pluck(:content)).to eq(["Still there?"])
    expect(Conversation.find(conversation.id).processing_job_id).to be_nil
  ensure
    holder&.release
  end

  it "keeps the lock fresh during a slow tool without keeping a connection for the heartbeat" do
    # Its lock refresh leases the thread a connection (`connection`, as models written
    # before Rails 7.2 do), which the thread keeps unless it is given back.
    stub_const("LeasingConversation", Class.new(Conversation) {
      def touch_processing_lock!(job_id:)
        self.class.connection.update(self.class.sanitize_sql(["UPDATE conversations SET processing_since = ? " \
          "WHERE id = ? AND processing_job_id = ?", Time.current, id, job_id]))
        true
      end
    })
    AssistantChatNative.config.worker.tool_services.register("slow") do
      [AssistantChatNative::Tool.new(name: "slow_report", description: "Takes a while") { |_| sleep(0.8) && "done" }]
    end
    provider.enqueue(tool_calls: [{name: "slow_report", id: "toolu_slow", arguments: {}}])
    provider.enqueue(text: "Report ready.")
    # The job broadcasts to the record it found, a LeasingConversation: with GlobalID loaded
    # (ActiveJob loads it), that record's stream is its own.
    page = WorkerHarness::BroadcastLog.new(WorkerHarness.stream_for(LeasingConversation.find(conversation.id)))
    QuickHeartbeatWorker.perform_async(conversation.id, "Run the report", "claude-sonnet", ["slow"])
    taken = WorkerHarness.wait_until(message: "the lock") { Conversation.find(conversation.id).processing_since }
    WorkerHarness.wait_until(message: "a heartbeat during the tool") do
      since = Conversation.find(conversation.id).processing_since
      since && since > taken
    end
    page.wait_for_end
    expect(page.of(:complete).map { |event| event["text"] }).to eq(["Report ready."])
    # The heartbeat thread has ended; a connection it kept would still be checked out.
    held = ActiveRecord::Base.connection_pool.connections.select(&:in_use?).map { |connection| connection.owner&.name }
    expect(held).not_to include("acn-heartbeat")
  ensure
    page&.close
  end

  it "leaves another job's column lock alone when it fails" do
    conversation.update_columns(processing_by_id: user.id, processing_since: Time.current, processing_job_id: "live-jid")
    SenderLookupFailsWorker.perform_async(conversation.id, "Hello?", "claude-sonnet")
    WorkerHarness.wait_until(message: "the error broadcast") { broadcasts.of(:error).any? }
    WorkerHarness.wait_until(message: "the error to be counted") { Conversation.find(conversation.id).error_count.positive? }
    expect(Conversation.find(conversation.id).processing_job_id).to eq("live-jid")
    expect(provider.requests).to be_empty
  end
end

RSpec.describe "The Railtie in an app", :worker_integration do
  it "loads the worker, the concern and the benchmark tasks into the app" do
    expect(Conversation.ancestors).to include(AssistantChatNative::ProcessingLock)
    expect(AssistantChatWorker.superclass).to eq(AssistantChatNative::Worker)
    env = {"DATABASE_URL" => ENV["DATABASE_URL"], "RAILS_ENV" => "test", "ACN_ROOT" => SpecRailsApp::GEM_ROOT}
    output, status = Open3.capture2e(env, RbConfig.ruby, "bin/rails", "-T", "bench", chdir: SpecRailsApp.root)
    expect(status).to be_success, output
    expect(output).to include("rails bench:worker")
  end
end
