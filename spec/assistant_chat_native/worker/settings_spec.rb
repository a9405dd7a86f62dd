# frozen_string_literal: true

require "spec_helper"
require "logger"
require "assistant_chat_native/worker"

# The worker's settings live inside the gem's Configuration (config.worker), and each
# setting has one name: the worker's old names for the gem's own settings set those.
RSpec.describe AssistantChatNative::Worker::Settings do
  around do |example|
    saved = AssistantChatNative.config
    AssistantChatNative.reset_config!
    AssistantChatNative::Worker::RenamedSettings.reset_warnings!
    example.run
  ensure
    AssistantChatNative.config = saved
    AssistantChatNative::Worker::RenamedSettings.reset_warnings!
  end

  let(:config) { AssistantChatNative.config }

  it "is the gem's configuration's, for the worker and every subclass of it" do
    subclass = Class.new(AssistantChatNative::Worker)
    expect(config.worker).to be(AssistantChatNative::Worker.settings)
    expect(subclass.settings).to be(config.worker)
    expect(config.worker.configuration).to be(config)

    config.worker.job_deadline = 120
    expect(subclass.settings.job_deadline).to eq(120)
  end

  it "starts again from the defaults with the configuration" do
    config.worker.job_deadline = 120
    AssistantChatNative.reset_config!
    expect(AssistantChatNative::Worker.settings.job_deadline).to eq(300)
  end

  {chunk_broadcast_interval: [:broadcast_interval, 0.25],
   cancel_check_interval: [:cancel_poll_interval, 0.3],
   max_rounds_per_job: [:max_rounds, 4]}.each do |old_name, (name, value)|
    it "sets config.#{name} through the deprecated config.worker.#{old_name}, and warns once where it is used" do
      expect(config.worker).not_to respond_to(name)

      line = __LINE__ + 1
      expect { config.worker.public_send(:"#{old_name}=", value) }.to output(
        a_string_including("#{__FILE__}:#{line}: warning: AssistantChatNative: config.worker.#{old_name} is deprecated; " \
          "set config.#{name}")
      ).to_stderr
      expect(config.public_send(name)).to eq(value)

      read = nil
      expect { read = config.worker.public_send(old_name) }.not_to output.to_stderr
      expect(read).to eq(value)
      config.public_send(:"#{name}=", value * 2)
      expect(config.worker.public_send(old_name)).to eq(value * 2)
    end
  end

  it "sets config.logger through the deprecated config.worker.logger, which the worker then logs to" do
    logger = Logger.new(File::NULL)
    line = __LINE__ + 1
    expect { config.worker.logger = logger }.to output(
      a_string_including("#{__FILE__}:#{line}: warning: AssistantChatNative: config.worker.logger is deprecated; set config.logger")
    ).to_stderr
    expect(config.logger).to be(logger)
    expect(config.worker.resolved_logger).to be(logger)
  end

  it "logs where Sidekiq does when no logger was set, outside Rails" do
    hide_const("Rails")
    expect(config.worker.resolved_logger).to be(Sidekiq.logger)
  end

  it "keeps settings the configuration does not have under their one name" do
    expect(config.worker).to have_attributes(job_deadline: 300, max_continuations: 5, status_broadcast_interval: nil,
      error_messages: :redacted)
    expect(config).to have_attributes(broadcast_interval: 0.1, cancel_poll_interval: 0.5, max_rounds: 10)
  end
end
