# frozen_string_literal: true

require "spec_helper"
require "sidekiq/api"

# The behaviours every queue keeps (spec/support/turn_job_examples.rb), on Sidekiq.
RSpec.describe "AssistantChatWorker on Sidekiq", :worker_integration do
  let(:job_class) { AssistantChatWorker }

  def enqueue_on(klass, *arguments)
    klass.perform_async(*arguments)
  end

  def wait_for_job(jid)
    WorkerHarness.wait_for_job(jid)
  end

  def busy_rerun_enqueued?
    Sidekiq::ScheduledSet.new.any? { |job| job.args.first.is_a?(Hash) && job.args.first.dig("continuation", "busy_attempts") }
  end

  it_behaves_like "a queue that runs chat turns"
end
