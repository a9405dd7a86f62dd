# frozen_string_literal: true

require "timeout"
require "sidekiq/api"

# What the system tests run against, all real: PostgreSQL and Redis (DATABASE_URL and
# REDIS_URL, which `rake spec:chat_app` in the gem's checkout sets; without them the
# gem's TestServices starts both here), LocalProvider playing the model (LocalModel,
# in this process), and a Sidekiq child process that runs the turns and broadcasts
# through Redis to the Puma that Capybara starts. Everything started here stops at exit.
module ChatServices
  APP_ROOT = File.expand_path("../..", __dir__)
  GEM_ROOT = File.expand_path("../..", APP_ROOT)

  class << self
    attr_reader :provider

    # Before the app boots: the database and Redis it connects to.
    def prepare_environment
      return if ENV["DATABASE_URL"] && ENV["REDIS_URL"]

      require File.join(GEM_ROOT, "spec", "support", "services")
      TestServices.start
      ENV["DATABASE_URL"] = TestServices.postgres_url.sub(%r{/acn_test\z}, "/chat_app_test")
      ENV["REDIS_URL"] = TestServices.redis_url
      system({"RAILS_ENV" => "test"}, "bin/rails", "db:prepare", chdir: APP_ROOT, exception: true)
    end

    # After it boots: the model and the process that runs the turns.
    def start
      return if @provider

      @provider = LocalModel.start
      at_exit { stop }
      ENV["ANTHROPIC_BASE_URL"] = @provider.base_url_for(:anthropic)
      ENV["ANTHROPIC_API_KEY"] = "local-provider"
      start_sidekiq
    end

    def stop
      stop_sidekiq
      @provider&.stop
      @provider = nil
    end

    # Waits until no turn is queued or holds a conversation's lock, so the next test
    # starts on tables no job still writes to. (Sidekiq's own list of running jobs is
    # refreshed only by its heartbeat, so it can miss a short turn: the lock cannot.)
    def wait_until_idle(timeout: 60)
      Timeout.timeout(timeout) do
        sleep 0.05 until Sidekiq::Queue.new.size.zero? && !Conversation.where.not(processing_by_id: nil).exists?
      end
    end

    private

    def start_sidekiq
      log = Rails.root.join("log", "sidekiq_test.log").to_s
      env = {"RAILS_ENV" => "test", "DATABASE_URL" => ENV["DATABASE_URL"], "REDIS_URL" => ENV["REDIS_URL"],
             "ANTHROPIC_BASE_URL" => ENV["ANTHROPIC_BASE_URL"], "ANTHROPIC_API_KEY" => ENV["ANTHROPIC_API_KEY"],
             "BUNDLE_GEMFILE" => Rails.root.join("Gemfile").to_s}
      @sidekiq_pid = Process.spawn(env, "bundle", "exec", "sidekiq", "-c", "5", "-t", "5",
        chdir: Rails.root.to_s, out: [log, "w"], err: [:child, :out])
      Timeout.timeout(60) do
        until Sidekiq::ProcessSet.new.any? { |process| process["pid"] == @sidekiq_pid }
          raise "sidekiq exited; see #{log}" if Process.wait(@sidekiq_pid, Process::WNOHANG)

          sleep 0.1
        end
      end
    end

    def stop_sidekiq
      return unless @sidekiq_pid

      Process.kill("TERM", @sidekiq_pid)
      Timeout.timeout(15) { Process.wait(@sidekiq_pid) }
    rescue Errno::ESRCH, Errno::ECHILD
      nil
    rescue Timeout::Error
      Process.kill("KILL", @sidekiq_pid)
      Process.wait(@sidekiq_pid)
    ensure
      @sidekiq_pid = nil
    end
  end
end
