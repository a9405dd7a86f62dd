# frozen_string_literal: true

require "redis-client"
require_relative "page_replay"

# A Sidekiq process of its own (`bundle exec sidekiq -r spec/rails_app/script/worker_process.rb`)
# running this suite's spec app against its PostgreSQL, Redis and LocalProvider,
# so a spec can kill it (kill -9, or TERM with a short shutdown timeout) the way
# a deploy or the OOM killer does, and start a fresh one.
class WorkerProcess
  BOOT = File.expand_path("../rails_app/script/worker_process.rb", __dir__)

  attr_reader :pid, :log

  # Creates the table the boot file's tool records its runs in.
  def self.prepare_tables!
    ActiveRecord::Base.connection.execute(<<~SQL)
      CREATE TABLE IF NOT EXISTS tool_runs (id bigserial PRIMARY KEY, conversation_id bigint,
        tool_call_id text, pid integer, created_at timestamptz NOT NULL DEFAULT now())
    SQL
  end

  # timeout: Sidekiq's shutdown timeout (seconds a TERM waits for jobs before it
  # pushes them back); tool_sleep: seconds each tool run takes.
  def initialize(provider:, api_key:, timeout: 1, tool_sleep: 0, concurrency: 2)
    @log = File.join(SpecRailsApp.root, "log", "worker_process.log")
    env = {"ACN_APP_ROOT" => SpecRailsApp.root, "ACN_ROOT" => SpecRailsApp::GEM_ROOT, "DATABASE_URL" => ENV["DATABASE_URL"],
           "ACN_REDIS_URL" => TestServices.redis_url, "ACN_API_KEY" => api_key, "ACN_TOOL_SLEEP" => tool_sleep.to_s,
           "BUNDLE_GEMFILE" => File.join(SpecRailsApp::GEM_ROOT, "Gemfile"), "RAILS_ENV" => "test"}
    AssistantChatNative::Providers.names.each { |name| env["ACN_PROVIDER_#{name.upcase}"] = provider.base_url_for(name) }
    @reader, writer = IO.pipe
    @pid = Process.spawn(env, "bundle", "exec", "sidekiq", "-r", BOOT, "-c", concurrency.to_s, "-t", timeout.to_s,
      "-q", "default", out: writer, err: [@log, "a"], chdir: SpecRailsApp::GEM_ROOT, pgroup: true)
    writer.close
    wait_ready
  end

  # Resident memory (kB) and open file descriptors, from /proc.
  def resources
    rss = File.read("/proc/#{@pid}/status")[/^VmRSS:\s+(\d+)/, 1].to_i
    {rss_kb: rss, fds: Dir.children("/proc/#{@pid}/fd").size}
  end

  def log_tail
    File.read(@log).lines.last(30).join
  end

  def kill(signal)
    Process.kill(signal, @pid)
  end

  # Waits for the process to end (a TERM's shutdown, or a kill -9); true if it did.
  def wait(timeout: 20)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    until Process.wait(@pid, Process::WNOHANG)
      raise "worker process #{@pid} did not exit within #{timeout}s" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      sleep 0.02
    end
    @reader.close
    true
  end

  def stop
    kill("TERM")
    wait
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  end

  private

  def wait_ready
    Timeout.timeout(60) do
      loop do
        line = @reader.gets or raise "worker process #{@pid} exited before it was ready; see #{@log}:\n#{File.read(@log)[-3000..]}"
        break if line.start_with?("WORKER_PROCESS_READY")
      end
    end
    # Sidekiq logs to stdout: into the log, which keeps the pipe drained.
    Thread.new {
      begin
        File.open(@log, "a") { |file| IO.copy_stream(@reader, file) }
      rescue
        IOError
      end
    }
  end

  # Every message published on one stream (Redis pubsub), JSON decoded, as the
  # page receives them from whichever worker process sends them.
  class PageLog
    def initialize(stream)
      @events = []
      @lock = Mutex.new
      @pubsub = RedisClient.new(url: TestServices.redis_url).pubsub
      @pubsub.call("SUBSCRIBE", stream)
      @pubsub.next_event(5) # the subscription's confirmation
      @open = true
      @thread = Thread.new do
        while @open
          event = @pubsub.next_event(0.1)
          @lock.synchronize { @events << JSON.parse(event[2]) } if event&.first == "message"
        end
      end
    end

    def events
      @lock.synchronize { @events.dup }
    end

    def of(type)
      events.select { |event| event["type"] == type.to_s }
    end

    def close
      @open = false
      @thread.join(2)
      @pubsub.close
    end

    # The reply text the page shows now.
    def shown_text
      PageReplay.texts(events).last.to_s
    end

    # Every chunk that took back text already shown (see PageReplay.shrinks).
    def vanished_text
      PageReplay.shrinks(events)
    end
  end
end
