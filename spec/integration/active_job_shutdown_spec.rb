# frozen_string_literal: true

require "spec_helper"
require_relative "../support/worker_process"

# A turn on Solid Queue whose process stops mid-stream: a Solid Queue process of its own
# (spec/rails_app/script/solid_queue_process.rb, fork mode, a 1 s shutdown timeout) gets
# a deploy's TERM, or its worker a kill -9. On TERM the worker either gave up waiting and
# released the job (which runs again with the same job_id) or was QUIT by its supervisor
# first; a killed worker's job is marked failed, its lock left behind. Either way the turn
# finishes once, from what the page was shown, on the Solid Queue that runs next, with the
# Reaper for a failed job.
RSpec.describe "AssistantChatJob whose Solid Queue process is stopped mid-turn", :worker_integration, :solid_queue do
  let(:provider) { WorkerHarness.provider }
  let(:conversation) { Conversation.create! }
  let(:reply) { (1..120).map { |index| "word#{index}" }.join(" ") }
  let(:rest) { "And that is the whole answer." }
  let!(:page) { WorkerProcess::PageLog.new(WorkerHarness.stream_for(conversation)) }

  before do
    SolidQueueHarness.stop!
    WorkerProcess.prepare_tables!
  end

  after do
    Process.kill("KILL", @pid) if @pid && !@exited
    page.close
    SolidQueueHarness.stop!
  end

  def start_solid_queue_process
    env = {"ACN_APP_ROOT" => SpecRailsApp.root, "ACN_ROOT" => SpecRailsApp::GEM_ROOT, "DATABASE_URL" => ENV["DATABASE_URL"],
           "ACN_REDIS_URL" => TestServices.redis_url, "ACN_API_KEY" => WorkerHarness::API_KEY, "ACN_TOOL_SLEEP" => "0",
           "ACN_SHUTDOWN_TIMEOUT" => "1", "ACN_QUEUE" => "deploy",
           "BUNDLE_GEMFILE" => File.join(SpecRailsApp::GEM_ROOT, "Gemfile"), "RAILS_ENV" => "test"}
    AssistantChatNative::Providers.names.each { |name| env["ACN_PROVIDER_#{name.upcase}"] = provider.base_url_for(name) }
    log = File.join(SpecRailsApp.root, "log", "solid_queue_process.out")
    @pid = Process.spawn(env, RbConfig.ruby, File.join(SpecRailsApp::GEM_ROOT, "spec/rails_app/script/solid_queue_process.rb"),
      out: [log, "a"], err: [log, "a"], chdir: SpecRailsApp::GEM_ROOT)
    # Its supervisor's worker (a killed worker of an earlier example may still have a row).
    WorkerHarness.wait_until(timeout: 60, message: "the Solid Queue process's worker; see #{log}") do
      SolidQueue::Process.where(kind: "Worker", supervisor_id: SolidQueue::Process.where(pid: @pid).select(:id)).exists?
    end
  end

  def tool_runs
    ActiveRecord::Base.connection.select_rows("SELECT tool_call_id FROM tool_runs WHERE conversation_id = #{conversation.id}").flatten
  end

  # Round one calls the tool; round two streams the reply slowly enough to be stopped
  # in the middle; the job that goes on streams the rest. Returns the job's id once the
  # page shows some of the reply.
  def start_turn
    provider.enqueue(tool_calls: [{name: "query_database", id: "toolu_1", arguments: {"sql" => "SELECT 1"}}])
    provider.enqueue(text: reply, token_rate: 40)
    provider.enqueue(text: rest)
    start_solid_queue_process
    id = AssistantChatJob.set(queue: "deploy").perform_later(conversation.id, "Sales by state, at length", "claude-sonnet",
      ["app_db"], {}).job_id
    WorkerHarness.wait_until(message: "the reply to be streaming") { page.of(:chunk).sum { |chunk| chunk["delta"].length } > 40 }
    id
  end

  def stop_solid_queue_process
    Process.kill("TERM", @pid)
    Timeout.timeout(20) { Process.wait(@pid) }
    @exited = true
  end

  def executions(id)
    job = SolidQueue::Job.find_by!(active_job_id: id)
    {released: SolidQueue::ReadyExecution.exists?(job_id: job.id), failed: SolidQueue::FailedExecution.exists?(job_id: job.id)}
  end

  def reap!
    expect(AssistantChatNative::Reaper.new(worker: "AssistantChatJob", stale_after: 0).call).to eq(conversation.id => :resumed)
  end

  # The turn finished once, in the rows of the job that began it, from what the page showed.
  def expect_turn_completed_once(id)
    WorkerHarness.wait_until(timeout: 30, message: "the turn to complete") do
      Message.where(conversation_id: conversation.id, role: "assistant", status: "completed").exists?
    end
    rows = Message.where(conversation_id: conversation.id).order(:id)
    expect(rows.map { |row| [row.role, row.job_id] }).to eq([["user", id], ["assistant", id]])
    expect(rows.last.content).to start_with("word1 word2").and(end_with(rest))
    expect(rows.last.content).to include(page.shown_text)
    expect(tool_runs).to eq(["toolu_1"])
    WorkerHarness.wait_until(message: "the column lock's release") { Conversation.find(conversation.id).processing_by_id.nil? }
  end

  it "TERM mid-stream: released or failed, the turn goes on from what the page was shown, once" do
    id = start_turn
    stop_solid_queue_process
    outcome = executions(id)
    expect([{released: true, failed: false}, {released: false, failed: true}]).to include(outcome)

    SolidQueueHarness.start!
    reap! if outcome[:failed]
    expect_turn_completed_once(id)
  end

  it "kill -9 of the worker process mid-stream: the job is failed, and the Reaper's resume job finishes the turn" do
    id = start_turn
    worker = SolidQueue::Process.find_by!(kind: "Worker", supervisor_id: SolidQueue::Process.where(pid: @pid).select(:id))
    Process.kill("KILL", worker.pid)
    WorkerHarness.wait_until(message: "the supervisor to fail the killed worker's job") { executions(id)[:failed] }
    stop_solid_queue_process
    expect(executions(id)).to eq(released: false, failed: true)
    expect(SolidQueue::FailedExecution.sole.exception_class).to eq("SolidQueue::Processes::ProcessExitError")

    SolidQueueHarness.start!
    reap!
    expect_turn_completed_once(id)
  end
end
