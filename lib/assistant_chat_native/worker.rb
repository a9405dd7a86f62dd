# frozen_string_literal: true

require "securerandom"
require "sidekiq"
require "active_support"
require "active_support/core_ext/hash/keys"

module AssistantChatNative
  # The drop-in Sidekiq job for one assistant chat turn: the seed's
  # AssistantChatWorker (same arguments, constants, locks, broadcasts and error
  # copy) with Turn and Stream underneath. An app whose worker inherited from
  # Object makes it inherit from this class and overrides the hooks it needs
  # (Worker::Hooks lists them). The turn itself is TurnJob's, shared with the
  # ActiveJob class (Job); this class adds what Sidekiq decides: the jid, retry: 0,
  # perform_async/perform_in, sidekiq-status progress and Sidekiq's logger.
  #
  #   class AssistantChatWorker < AssistantChatNative::Worker
  #     def system_prompt(user_context) = "You answer questions about #{user_context["department"]}."
  #   end
  #
  #   AssistantChatWorker.perform_async(conversation.id, "Show me sales by state", "claude-sonnet")
  #   AssistantChatWorker.perform_async("conversation_id" => conversation.id,
  #     "user_message" => "Show me sales by state", "model" => "claude-sonnet")
  class Worker
  end
end

require_relative "worker/renamed_settings"
require_relative "worker/settings"
require_relative "worker/tool_services"
require_relative "worker/error_copy"
require_relative "worker/reporter"
require_relative "provider_error"
require_relative "worker/turn_handler"
require_relative "worker/hooks"
require_relative "worker/turn_interface"
require_relative "worker/instrumentation"
require_relative "turn_job"

module AssistantChatNative
  class Worker
    include Sidekiq::Job
    include TurnJob

    # A turn is never retried by Sidekiq: a rerun would answer twice. A job stopped by a
    # shutdown is pushed back and goes on from its checkpoint (same jid); perform rescues
    # every StandardError itself (the user is told, the error reported).
    sidekiq_options retry: 0

    class << self
      # Includes Sidekiq::Status::Worker when the sidekiq-status gem is loaded,
      # whenever it was loaded: here, for each subclass, and from the Railtie once
      # every gem is in.
      def enable_status_reporting!
        return false unless defined?(::Sidekiq::Status::Worker)

        include ::Sidekiq::Status::Worker unless include?(::Sidekiq::Status::Worker)
        true
      end

      def inherited(subclass)
        super
        enable_status_reporting!
      end

      # An app's worker whose body includes Sidekiq::Job again (the seed's does) starts
      # with no options of its own: it takes this class's (retry: 0), not Sidekiq's defaults.
      def get_sidekiq_options
        self.sidekiq_options_hash ||= superclass.respond_to?(:get_sidekiq_options) ? superclass.get_sidekiq_options : super
      end

      # Enqueues with the seed's keyword form too: symbol keys (of the single Hash,
      # or of user_context) become strings, so the job passes Sidekiq 7's strict
      # argument check.
      def perform_async(*args)
        super(*stringify_arguments(args))
      end

      def perform_in(interval, *args)
        super(interval, *stringify_arguments(args))
      end

      # TurnJob's continuations (and the Reaper's resume jobs): now, or after wait seconds.
      def enqueue_turn(arguments, wait: nil)
        wait ? perform_in(wait, arguments) : perform_async(arguments)
      end

      def stringify_arguments(args)
        args.map { |arg| arg.is_a?(Hash) ? arg.deep_stringify_keys : arg }
      end
    end

    enable_status_reporting!

    private

    # Sidekiq's jid; a random one when perform is called outside Sidekiq.
    def queue_job_id
      jid || SecureRandom.hex(12)
    end

    def queue_logger
      ::Sidekiq.logger
    end

    # Rounds as progress, when sidekiq-status is loaded.
    def report_progress(round)
      super
      return unless respond_to?(:at, true) && defined?(::Sidekiq::Status::Worker)

      # Each store is a Redis round trip: nothing before a round is done (no progress to
      # show yet), the total once per job, then a round only when it changed.
      rounds = AssistantChatNative.config.max_rounds
      done = [@round_count, rounds].min
      return if @progress_stored == [done, rounds] || (@progress_stored.nil? && done.zero?)

      total(rounds) unless @progress_stored&.last == rounds
      at(done, "round #{@round_count}")
      @progress_stored = [done, rounds]
    rescue => e
      logger_for.debug("[#{self.class.name}] progress not stored: #{Redaction.text(e.message)}")
    end
  end
end
