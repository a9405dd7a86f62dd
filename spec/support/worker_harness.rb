# frozen_string_literal: true

require "json"

# What the worker integration specs (spec/integration/worker_*_spec.rb, the ActiveJob
# ones on top of it, spec/integration/active_job_spec.rb, and the
# seed app's scenarios, spec/seed_app/scenarios) run on: their own Redis and
# PostgreSQL (TestServices), a spec Rails app installed by the generator
# (SpecRailsApp: spec/rails_app, or spec/seed_app in a process of its own),
# LocalProvider for the LLM, and Sidekiq's own embedded launcher running the jobs
# in this process. Started in before(:suite) only when such a spec is part of the run.
module WorkerHarness
  API_KEY = "sk-acn-test-0123456789-not-a-real-key"
  REPORTS = Queue.new

  class << self
    attr_reader :provider, :sidekiq

    # app: the spec app's source; its own error reporting is used when host_reporter
    # is true (the seed app's ErrorReporting), else REPORTS collects the reports.
    def setup!(app: SpecRailsApp::SOURCE, host_reporter: false)
      return if @provider

      @host_reporter = host_reporter
      TestServices.start
      SpecRailsApp.boot!(database_url: TestServices.postgres_url, source: app)
      @provider = AssistantChatNative::LocalProvider.start
      configure_gem!
      start_sidekiq!
    end

    def teardown!
      stop_sidekiq!
      @provider&.stop
      @provider = nil
    end

    # The defaults, then what the app's initializer (written by the generator) sets, then
    # the specs' own settings: as the app starts, with a fast provider and quick retries.
    def configure_gem!
      AssistantChatNative.reset_config!
      initializer = File.join(SpecRailsApp.root, "config", "initializers", "assistant_chat_native.rb")
      load initializer if File.exist?(initializer)
      AssistantChatNative.configure do |config|
        QuickSettings.apply(config, base_url: provider.method(:base_url_for), api_key: API_KEY)
        config.max_rounds = 10
        config.worker.status_broadcast_interval = 0.5
        config.worker.reporter = @host_reporter ? nil : ->(error, user_id:, custom_data:) { REPORTS << {error: error, user_id: user_id, custom_data: custom_data} }
        config.worker.tool_services.register("app_db") { |user_context, _conversation| [sales_tool(user_context)] }
      end
    end

    def sales_tool(user_context)
      AssistantChatNative::Tool.new(name: "query_database", description: "Runs a read-only SQL query",
        input_schema: {type: "object", properties: {sql: {type: "string"}}, required: ["sql"]}) do |arguments|
        {"rows" => [["CA", 120], ["NY", 80]], "sql" => arguments["sql"], "asked_by" => user_context["name"]}
      end
    end

    def start_sidekiq!(concurrency: 5)
      @sidekiq ||= Sidekiq.configure_embed do |config|
        config.redis = {url: TestServices.redis_url}
        config.concurrency = concurrency
        config.queues = %w[default]
        Sidekiq::Status.configure_server_middleware(config, expiration: 600)
        config.server_middleware { |chain| chain.add(InFlight) }
        Sidekiq::Status.configure_client_middleware(config, expiration: 600)
        # Longer than Sidekiq's 2 s BRPOP, so idle processors have left Redis before
        # a hard shutdown pushes unfinished jobs back (else one of them may take
        # a requeued job with it as it is killed).
        config[:timeout] = 3
        # Scheduled jobs (a busy continuation's retry) move to the queue within about a
        # second. Unset, the poller first waits 10-15 s after each start of Sidekiq, then
        # 5 s per process Redis still lists (stopped ones linger a minute): longer than a
        # spec waits for the retried job to end.
        config[:poll_interval_average] = 1
        config.logger = Sidekiq::Logger.new(File.join(SpecRailsApp.root, "log", "sidekiq.log"))
        config.logger.level = Logger::INFO
      end
      @sidekiq.run
      @sidekiq_running = true
    end

    def stop_sidekiq!
      @sidekiq&.stop if @sidekiq_running
      @sidekiq_running = false
    end

    def sidekiq_stopped?
      @sidekiq && !@sidekiq_running
    end

    # The stream `turbo_stream_from record` subscribes to, by turbo-rails' rule
    # (Turbo::Streams::StreamName): the record's GlobalID param (the app loads GlobalID
    # with ActiveJob), else its to_param.
    def stream_for(record)
      record.try(:to_gid_param) || record.to_param
    end

    def reports
      list = []
      list << REPORTS.pop until REPORTS.empty?
      list
    end

    # Empties the queues and the app's tables between examples, once no job of an
    # earlier example is still running (a job ends with its error report and
    # tempfile cleanup after its last broadcast, which is all most examples wait for).
    def clean!
      require "sidekiq/api"
      wait_until(timeout: 30, message: "the jobs of earlier examples to finish") { InFlight.count.zero? }
      Sidekiq::Queue.all.each(&:clear)
      Sidekiq::ScheduledSet.new.clear
      Sidekiq::RetrySet.new.clear
      SpecRailsApp.clean!
      provider.reset
      REPORTS.clear
    end

    # Waits until Sidekiq saw job jid's perform return (its ensure included), as
    # sidekiq-status records it; returns the job's status Hash.
    def wait_for_job(jid)
      wait_until(message: "job #{jid} to finish") do
        Sidekiq::Status.get_all(jid).then { |all| (all["status"] == "complete") ? all : nil }
      end
    end

    # Waits (at most timeout seconds) until the block returns truthy; returns its value.
    def wait_until(timeout: 15, message: "condition")
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      loop do
        value = yield
        return value if value
        raise "timed out after #{timeout}s waiting for #{message}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

        sleep 0.02
      end
    end
  end

  # Sidekiq server middleware that counts the jobs running in this process.
  class InFlight
    @count = 0
    @lock = Mutex.new

    class << self
      def count
        @lock.synchronize { @count }
      end

      def change(by)
        @lock.synchronize { @count += by }
      end
    end

    def call(_job_instance, _job, _queue)
      self.class.change(1)
      yield
    ensure
      self.class.change(-1)
    end
  end

  # Every broadcast on one stream, as Action Cable delivers it (JSON decoded),
  # with the monotonic time it arrived.
  class BroadcastLog
    attr_reader :stream

    def initialize(stream)
      @stream = stream
      @events = []
      @lock = Mutex.new
      ready = Queue.new
      @callback = ->(message) { @lock.synchronize { @events << [Process.clock_gettime(Process::CLOCK_MONOTONIC), JSON.parse(message)] } }
      ActionCable.server.pubsub.subscribe(stream, @callback, -> { ready << true })
      Timeout.timeout(5) { ready.pop }
    end

    def close
      ActionCable.server.pubsub.unsubscribe(stream, @callback)
    end

    def events
      @lock.synchronize { @events.map(&:last) }
    end

    def timed
      @lock.synchronize { @events.dup }
    end

    def of(type)
      events.select { |event| event["type"] == type.to_s }
    end

    # Waits until the job released the lock (its last broadcast) or an error arrived.
    # key and lock name the lock broadcasts ("type" => "lock" is the gem's format).
    def wait_for_end(timeout: 20, count: 1, key: "type", lock: "lock")
      WorkerHarness.wait_until(timeout: timeout, message: "the job's end on #{stream}; got #{events.inspect[0, 500]}") do
        events.count { |event| event[key] == lock && event["locked"] == false } >= count
      end
    end
  end
end

RSpec.configure do |config|
  config.before(:suite) do
    files = RSpec.world.example_groups.map { |group| group.metadata[:file_path].to_s }
    worker_specs = files.any? { |file| file.match?(%r{spec/integration/(worker_|active_job)}) }
    seed_app_specs = files.any? { |file| file.include?("spec/seed_app/") }
    if worker_specs && seed_app_specs
      raise "spec/seed_app boots a Rails app of its own: run it alone (rake spec:seed_app)"
    elsif seed_app_specs
      WorkerHarness.setup!(app: SpecRailsApp::SEED_SOURCE, host_reporter: true)
    elsif worker_specs
      WorkerHarness.setup!
    end
  end

  config.after(:suite) { WorkerHarness.teardown! }

  # Other specs may reset the gem's configuration: set ours again for each example.
  config.before(:each, :worker_integration) do
    WorkerHarness.configure_gem!
    WorkerHarness.clean!
  end
end

# A job's conversation and what its page receives: the broadcasts on the stream the job
# sends to, recorded from before the job runs, and LocalProvider playing the model.
RSpec.shared_context "a conversation the page watches" do
  let(:provider) { WorkerHarness.provider }
  let(:conversation) { Conversation.create! }
  let!(:broadcasts) { WorkerHarness::BroadcastLog.new(WorkerHarness.stream_for(conversation)) }

  after { broadcasts.close }
end

# The same, for a conversation that belongs to a user (the job's sender).
RSpec.shared_context "a user's conversation the page watches" do
  include_context "a conversation the page watches"
  let(:user) { User.create!(name: "Dana") }
  let(:conversation) { Conversation.create!(user_id: user.id) }
end
