# frozen_string_literal: true

# Run by `ruby` in a process of its own (spec/integration/active_job_shutdown_spec.rb
# spawns it): the app, relay, settings and recording tool of the Sidekiq worker process
# (worker_process.rb), then a Solid Queue supervisor in fork mode, as `bin/jobs` runs it,
# with one worker on the queue ACN_QUEUE names. TERM stops it as a deploy does: its worker
# waits SolidQueue.shutdown_timeout (ACN_SHUTDOWN_TIMEOUT) for its job, then the
# supervisor QUITs it.
require_relative "worker_process"

SolidQueue.shutdown_timeout = Float(ENV.fetch("ACN_SHUTDOWN_TIMEOUT"))
SolidQueue.logger = ActiveSupport::Logger.new(File.join(ENV.fetch("ACN_APP_ROOT"), "log", "solid_queue_process.log"))
SolidQueue.supervisor_pidfile = nil
SolidQueue::Supervisor.start(mode: :fork, skip_recurring: true, dispatchers: [],
  workers: [{queues: ENV.fetch("ACN_QUEUE"), threads: 1, polling_interval: 0.05}])
