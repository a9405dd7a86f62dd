# frozen_string_literal: true

require_relative "worker"

module AssistantChatNative
  # Finds turns whose job died without a trace (a process killed with SIGKILL, a
  # machine that went away: Sidekiq's basic fetch loses such a job) and sees them
  # through. A conversation is a candidate when its column lock was not refreshed
  # for stale_after seconds; it is reaped only when its advisory lock can be taken
  # at once (a live job holds that lock for as long as its database session lives,
  # so a slow but running turn is skipped). Then:
  #
  # - a turn with an unfinished checkpoint gets a resume job (the worker class the
  #   checkpoint names, with the arguments it saved, enqueued the way that class's queue
  #   takes it: perform_async for a Worker, perform_later for a Job), which takes the
  #   lock over and goes on from what the page shows;
  # - else the user is told, through the worker's broadcast_error, and the lock is cleared.
  #
  #   AssistantChatNative::Reaper.new.call        # => {42 => :resumed, 43 => :failed, 44 => :live}
  #
  # Run it from cron (`rake assistant_chat_native:reap`) or sidekiq-cron (ReaperJob).
  class Reaper
    # worker:      the app's worker or job class (or its name): its settings find the
    #              conversation model, its broadcast_error tells the user. Default:
    #              AssistantChatWorker, else AssistantChatJob, else Worker.
    # stale_after: seconds without a heartbeat after which a lock is a candidate.
    def initialize(worker: nil, stale_after: nil)
      @worker = worker
      @stale_after = stale_after
    end

    # Reaps every candidate; returns {conversation id => :resumed | :failed | :live | :fresh}.
    def call
      model = worker_class.settings.conversation_model
      candidates = model.where.not(processing_by_id: nil)
        .where("processing_since IS NULL OR processing_since < ?", Time.now - stale_after)
      candidates.to_a.to_h { |conversation| [conversation.id, reap(conversation)] }
    end

    # Reaps one conversation when it still qualifies; returns what happened. The
    # resume job is enqueued once the advisory lock is released, or it could find
    # the conversation busy.
    def reap(conversation)
      outcome = conversation.class.with_advisory_lock_result(conversation.processing_lock_key, timeout_seconds: 0) do
        conversation.reload
        stale?(conversation) ? [:reaped, worker_class.new.reap_conversation(conversation)] : [:fresh]
      end
      return :live unless outcome.lock_was_acquired?

      status, resume = outcome.result
      return status if status == :fresh
      return :failed unless resume

      worker, arguments = resume
      worker.enqueue_turn(arguments)
      :resumed
    end

    def stale_after
      @stale_after || 3 * AssistantChatNative.config.heartbeat_interval.to_f
    end

    private

    def stale?(conversation)
      since = conversation.processing_since
      !conversation.processing_by_id.nil? && (since.nil? || since < Time.now - stale_after)
    end

    def worker_class
      @worker_class ||= case @worker
      when nil
        name = %w[AssistantChatWorker AssistantChatJob].find { |candidate| Object.const_defined?(candidate) }
        name ? Object.const_get(name) : Worker
      when String then Object.const_get(@worker)
      else @worker
      end
    end
  end
end
