# frozen_string_literal: true

require "spec_helper"
require "open3"
require "assistant_chat_native/job"

RSpec.describe AssistantChatNative::Job do
  # A job class of the app's, on ActiveJob's test adapter (which records what is enqueued).
  let(:job_class) do
    stub_const("RecordedTurnJob", Class.new(described_class) { self.queue_adapter = :test })
  end

  it "is an ActiveJob running the worker's turn, with the seed's constants and the same settings" do
    expect(described_class.ancestors).to include(ActiveJob::Base, AssistantChatNative::TurnJob, AssistantChatNative::Worker::Hooks)
    expect(described_class.ancestors).not_to include(Sidekiq::Job)
    expect(described_class::HEARTBEAT_INTERVAL).to eq(30)
    expect(described_class::MAX_COMPACTION_RETRIES).to eq(2)
    expect(described_class::ESCALATION_MODEL).to eq("claude-sonnet")
    expect(described_class.settings).to be(AssistantChatNative::Worker.settings)
  end

  it "is loaded only when named: the gem, its worker and the Reaper load without ActiveJob" do
    script = 'require "assistant_chat_native"; AssistantChatNative::Worker; AssistantChatNative::Reaper; ' \
      'abort "ActiveJob was loaded" if defined?(::ActiveJob); print "without ActiveJob"'
    output, status = Open3.capture2e(RbConfig.ruby, "-Ilib", "-e", script, chdir: SpecRailsApp::GEM_ROOT)
    expect(status).to be_success, output
    expect(output).to eq("without ActiveJob")
  end

  it "enqueues a continuation with perform_later and a busy continuation's rerun with set(wait:)" do
    arguments = {"conversation_id" => 7, "user_message" => nil, "model" => "gpt", "continuation" => {"busy_attempts" => 1}}
    # ActiveJob's logger is shared by every job class (and, in the suite, the Rails app's).
    logger = ActiveJob::Base.logger
    begin
      ActiveJob::Base.logger = Logger.new(File::NULL)
      job_class.enqueue_turn(arguments)
      job_class.enqueue_turn(arguments, wait: 30)
    ensure
      ActiveJob::Base.logger = logger
    end

    now, later = job_class.queue_adapter.enqueued_jobs
    expect([now[:job], later[:job]]).to eq([job_class, job_class])
    expect(ActiveJob::Arguments.deserialize(now[:args])).to eq([arguments])
    expect(now[:at]).to be_nil
    expect(later[:at]).to be_within(5).of(Time.now.to_f + 30)
  end
end
