# frozen_string_literal: true

# What spec/integration/active_job_spec.rb runs AssistantChatJob on: Solid Queue in the
# suite's PostgreSQL, in the app's own database as Solid Queue documents for a single
# database (its schema loaded beside the app's tables), and a Solid Queue supervisor in
# async mode (its worker and dispatcher as threads of this process, the way its Puma
# plugin runs it), so the jobs broadcast to the specs' Action Cable and use the suite's
# LocalProvider. Set up in before(:suite) only when such a spec is part of the run, on
# top of WorkerHarness (the app, PostgreSQL, LocalProvider); the supervisor runs only
# while the examples that need it do (start!, stop!).
module SolidQueueHarness
  SCHEMA = "lib/generators/solid_queue/install/templates/db/queue_schema.rb"

  class << self
    # The app, its Solid Queue tables and Solid Queue's logging; once per process.
    def setup!
      return if @set_up

      WorkerHarness.setup!
      quiet_rails_logger!
      load_schema!
      SolidQueue.logger = ActiveSupport::Logger.new(File.join(SpecRailsApp.root, "log", "solid_queue.log"))
      SolidQueue.shutdown_timeout = 5
      # A job that dies on purpose (the Reaper's spec) is logged, not reported to Rails.error.
      SolidQueue.on_thread_error = ->(error) { SolidQueue.logger.error("#{error.class}: #{error.message}") }
      @set_up = true
    end

    # Starts the supervisor, for the examples that run jobs on Solid Queue only: its
    # threads poll the database, which the other specs' measurements would count.
    def start!
      setup!
      return if @supervisor

      # A worker with threads to spare (a turn and its continuation, a busy job beside a
      # running one) and a dispatcher that moves a scheduled job (a busy continuation's
      # rerun) to the queue within a tenth of a second.
      @supervisor = SolidQueue::Supervisor.start(mode: :async, standalone: false, skip_recurring: true,
        workers: [{queues: "*", threads: 5, polling_interval: 0.05}],
        dispatchers: [{polling_interval: 0.1, batch_size: 100, concurrency_maintenance: false}])
      WorkerHarness.wait_until(message: "Solid Queue's worker to register") do
        SolidQueue::Process.where(kind: "Worker").exists?
      end
    end

    # Stops the supervisor once its running jobs ended: a stop that outwaits
    # shutdown_timeout ends this process with exit!.
    def stop!
      return unless @supervisor

      WorkerHarness.wait_until(timeout: 30, message: "Solid Queue's running jobs to end") do
        SolidQueue::ClaimedExecution.none?
      end
      @supervisor.stop
      @supervisor = nil
    end

    # Waits for the jobs of earlier examples to end, then empties the queues and forgets
    # every job (finished ones too: the examples count the jobs they enqueued).
    def clean!
      WorkerHarness.wait_until(timeout: 30, message: "Solid Queue's running jobs to end") do
        SolidQueue::ClaimedExecution.none?
      end
      # Every execution table's rows go with their job (ON DELETE CASCADE).
      SolidQueue::Job.delete_all
    end

    # Waits until Solid Queue saw the job's perform return (its ensure included); returns
    # its SolidQueue::Job.
    def wait_for_job(active_job_id)
      WorkerHarness.wait_until(message: "job #{active_job_id} to finish") do
        SolidQueue::Job.where.not(finished_at: nil).find_by(active_job_id: active_job_id)
      end
    end

    private

    # Sidekiq's Rails integration, run by its embedded launcher, also sends Rails.logger
    # to Sidekiq's own standard-output logger (meant for a Sidekiq process's console):
    # the Solid Queue threads log through Rails.logger, so their lines would fill the
    # spec run's output. They still go to log/test.log.
    def quiet_rails_logger!
      logger = Rails.logger
      return unless logger.respond_to?(:broadcasts)

      logger.broadcasts.select { |broadcast| ActiveSupport::Logger.logger_outputs_to?(broadcast, $stdout) }
        .each { |broadcast| logger.stop_broadcasting_to(broadcast) }
    end

    def load_schema!
      return if ActiveRecord::Base.connection.table_exists?("solid_queue_jobs")

      ActiveRecord::Schema.verbose = false
      load File.join(Gem.loaded_specs.fetch("solid_queue").full_gem_path, SCHEMA)
      SolidQueue::Record.descendants.each(&:reset_column_information)
    end
  end
end

RSpec.configure do |config|
  config.before(:suite) do
    files = RSpec.world.example_groups.map { |group| group.metadata[:file_path].to_s }
    SolidQueueHarness.setup! if files.any? { |file| file.include?("spec/integration/active_job") }
  end

  config.after(:suite) { SolidQueueHarness.stop! }

  config.before(:each, :solid_queue) { SolidQueueHarness.clean! }
end
