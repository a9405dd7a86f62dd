# frozen_string_literal: true

require "active_support"
require "active_support/core_ext/object/blank"
require "active_support/core_ext/object/try"
require "active_support/core_ext/hash/keys"
require "active_support/notifications"
require_relative "broadcaster"
require_relative "redaction"
require_relative "provider_error"

module AssistantChatNative
  # One assistant chat turn as a queue job, whatever the queue: the seed's
  # AssistantChatWorker (same arguments, constants, locks, broadcasts and error copy)
  # with Turn and Stream underneath. Worker (Sidekiq) and Job (ActiveJob) include it
  # and add only what their queue decides, each as one private or class method:
  #
  #   queue_job_id                        the running job's id (the column lock's and the rows' key)
  #   .enqueue_turn(arguments, wait: nil) a continuation now, or a busy continuation's rerun after wait seconds
  #   queue_logger                        the log when neither the gem nor Rails has one
  #   report_progress(round)              rounds done, where the queue can show progress
  #
  # The app's own steps are Worker::Hooks, included here; the helpers this module uses
  # (ErrorCopy, TurnHandler, Instrumentation, Reporter, Settings) live under Worker, and
  # worker.rb, which requires them, requires this file after them.
  module TurnJob
    # Seconds between heartbeats while a turn runs (streams and tools alike).
    HEARTBEAT_INTERVAL = AssistantChatNative::HEARTBEAT_INTERVAL
    # Context-overflow compactions a turn tries before it gives up.
    MAX_COMPACTION_RETRIES = AssistantChatNative::MAX_COMPACTION_RETRIES
    # The model a low-tier model that stalls after tool calls (or a Gemini body-less
    # 400) is retried on, once.
    ESCALATION_MODEL = AssistantChatNative::ESCALATION_MODEL
    STATUS_BROADCAST_INTERVAL = Broadcaster::STATUS_BROADCAST_INTERVAL
    TOOLS_WITH_SUMMARIES = Broadcaster::TOOLS_WITH_SUMMARIES
    TOOL_DISPLAY_NAMES = Broadcaster::TOOL_DISPLAY_NAMES
    TOOL_PREFIXES = Broadcaster::TOOL_PREFIXES

    # The seed's constants a subclass (or a module it includes) may set, and the setting
    # of the gem's configuration each one overrides for that class's turns.
    CONSTANT_SETTINGS = {HEARTBEAT_INTERVAL: :heartbeat_interval,
                         MAX_COMPACTION_RETRIES: :max_compaction_retries,
                         ESCALATION_MODEL: :escalation_model}.freeze

    BUSY_MESSAGE = Worker::ErrorCopy::BUSY
    # Bytes of the provider's words a log line and an error report carry (the seed's 500).
    RESPONSE_BODY_BYTES = 500
    # Seconds a rerun of a job waits for its earlier run, still exiting, to let the locks go.
    EARLIER_RUN_WAIT = 30
    NULL_SENDER = Struct.new(:id).new(0).freeze
    ARGUMENT_NAMES = %w[conversation_id user_message model tool_services user_context upload_ids].freeze

    include Worker::Hooks
    include Worker::TurnInterface

    def self.included(base)
      super
      base.extend(ClassMethods)
    end

    module ClassMethods
      # The turn's settings: the gem's (config.worker), shared by every job class;
      # what a class sets for itself alone is its constants (CONSTANT_SETTINGS).
      def settings
        AssistantChatNative.config.worker
      end

      def configure
        yield settings
        settings
      end
    end

    # perform(conversation_id, user_message, model, tool_services = [], user_context = {}, upload_ids = [])
    # or perform({"conversation_id" => ..., "user_message" => ..., "model" => ..., ...}).
    def perform(*args)
      arguments = parse_arguments(args)
      @conversation_id = arguments["conversation_id"]
      model = arguments["model"]
      tool_services = Array(arguments["tool_services"])
      user_context = (arguments["user_context"] || {}).to_h.stringify_keys
      upload_ids = Array(arguments["upload_ids"])
      # true, or (from this version on) the chain's start and the wait for a busy conversation.
      continuation = arguments["continuation"]
      continuation = {} if continuation == true

      @job_id = queue_job_id
      @attachment_tempfiles = []
      @continuation_due = nil
      @worker_started_at = Time.now
      @rounds_before = 0
      @chain_started_at = continuation.is_a?(Hash) ? continuation["chain_started_at"]&.to_f : nil
      @conversation = find_conversation(@conversation_id)
      @sending_user = find_sender(user_context)

      # Non-blocking: when another job holds the advisory lock, this one gives way.
      locked = ->(wait) { run_locked(arguments, model, tool_services, user_context, upload_ids, continuation, wait: wait) }
      result = locked.call(0)
      if !result&.lock_was_acquired? && earlier_run_holds_lock?
        # This very job ran before and that run still holds the locks: Sidekiq's hard
        # shutdown pushed the job back (Solid Queue released its claim) while the process
        # running it was still exiting. That run lets go within moments; waiting for it
        # beats telling the user their own message is busy, and dropping it.
        logger_for.info("[#{self.class.name}] conversation #{@conversation_id}: an earlier run of job " \
          "#{@job_id} still holds the lock; waiting up to #{EARLIER_RUN_WAIT}s for it")
        result = locked.call(EARLIER_RUN_WAIT)
      end

      unless result&.lock_was_acquired?
        if continuation
          # A continuation is part of a turn the user is waiting for: never dropped.
          retry_busy_continuation(arguments, continuation)
        else
          logger_for.info("[#{self.class.name}] Skipped: conversation #{@conversation_id} is locked by another worker")
          broadcast_error(BUSY_MESSAGE)
        end
      end

      # After every lock is released, so the continuation acquires them at once.
      schedule_continuation(**@continuation_due) if @continuation_due
    rescue => e
      handle_error(e, model)
    ensure
      cleanup_attachment_tempfiles
    end

    # The seed's broadcast methods.
    def broadcast_lock_state(locked:)
      broadcaster.lock_state(locked: locked)
    end

    # Broadcasts the friendly copy for an error message: copy the job chose already
    # (Worker::ErrorCopy::Chosen) as it is, a raw message through Worker::ErrorCopy
    # (redacted, or generic when settings.error_messages is :generic). A host module
    # that defines its own broadcast_error receives the same copy, a String.
    def broadcast_error(message)
      broadcaster.error(Worker::ErrorCopy.for_message(message, unknown: settings.error_messages))
    end

    # The Reaper's work on a conversation whose job died (the Reaper holds its
    # advisory lock) => the resume job to enqueue once that lock is free, as
    # [worker class, arguments], when the turn left a checkpoint (its lock is marked
    # fresh, so the next sweep leaves it to that job); else nil, after the user is
    # told and the lock cleared.
    def reap_conversation(conversation)
      @conversation = conversation
      @conversation_id = conversation.id
      @job_id = conversation.try(:processing_job_id).to_s
      _row, state = unfinished_checkpoint
      job = state && state["job"]
      if job
        worker = (job["worker"] && Object.const_get(job["worker"])) || self.class
        conversation.class.where(id: conversation.id).update_all(processing_since: Time.now)
        logger_for.warn("[#{self.class.name}] conversation #{conversation.id}: its job died; resuming it in a new job")
        [worker, {"conversation_id" => conversation.id, "user_message" => nil,
                  "model" => job["model"], "tool_services" => Array(job["tool_services"]),
                  "user_context" => job["user_context"].to_h, "upload_ids" => Array(job["upload_ids"]),
                  "continuation" => {"chain_started_at" => job["chain_started_at"], "then" => job["then"]}.compact}]
      else
        logger_for.warn("[#{self.class.name}] conversation #{conversation.id}: its job died before a checkpoint; clearing the lock")
        broadcast_error(Worker::ErrorCopy::INTERRUPTED)
        release_lock
        broadcast_lock_state(locked: false)
        nil
      end
    end

    private

    def settings
      self.class.settings
    end

    # Takes the advisory lock (waiting at most wait seconds for it), then the column lock,
    # and runs the turn between the two lock-state broadcasts; every lock is released
    # after. Returns with_advisory_lock's result.
    def run_locked(arguments, model, tool_services, user_context, upload_ids, continuation, wait:)
      @conversation.class.with_advisory_lock_result(@conversation.processing_lock_key, timeout_seconds: wait) do
        # The advisory lock is won, so a column lock still held belongs to a job
        # that crashed without cleanup: take it over.
        sender = @sending_user || null_sender
        unless @conversation.acquire_processing_lock!(sender, job_id: @job_id)
          logger_for.warn("[#{self.class.name}] Stale processing lock on conversation #{@conversation.id} " \
            "(by_id=#{@conversation.processing_by_id}, since=#{@conversation.processing_since}, " \
            "job=#{@conversation.try(:processing_job_id)}). Force-acquiring: the advisory lock proves no other worker is active.")
          @conversation.force_processing_lock!(sender, job_id: @job_id)
        end
        @locked_at = @conversation.processing_since
        @chain_started_at ||= @locked_at&.to_f || Time.now.to_f

        begin
          broadcast_lock_state(locked: true)
          process_query(arguments["user_message"], model, tool_services, user_context, upload_ids, continuation)
        ensure
          release_lock
          broadcast_lock_state(locked: false)
        end
      end
    end

    # Whether row is one this run created (a host hook may return something else).
    def just_inserted?(row)
      row.respond_to?(:previously_new_record?) && row.previously_new_record?
    end

    # Whether the column lock names this job: the holder is an earlier run of it.
    def earlier_run_holds_lock?
      return false unless @conversation.has_attribute?(:processing_job_id)

      model = @conversation.class
      model.uncached { model.where(id: @conversation.id).pick(:processing_job_id) }.to_s == @job_id.to_s
    end

    def parse_arguments(args)
      if args.size == 1 && args.first.is_a?(Hash)
        hash = args.first.stringify_keys
        unknown = hash.keys - ARGUMENT_NAMES - %w[continuation]
        raise ArgumentError, "unknown argument(s) #{unknown.join(", ")}; expected #{ARGUMENT_NAMES.join(", ")}" if unknown.any?
        raise ArgumentError, "conversation_id is required" unless hash["conversation_id"]

        hash
      elsif args.size.between?(3, 7)
        ARGUMENT_NAMES.zip(args).to_h.merge("continuation" => args[6])
      else
        raise ArgumentError, "perform takes (conversation_id, user_message, model, tool_services = [], " \
          "user_context = {}, upload_ids = []) or one Hash of those names; got #{args.size} argument(s)"
      end
    end

    def process_query(user_message, model, tool_services, user_context, upload_ids, continuation)
      attachments = attachments_for(upload_ids)
      user_row = persist_user_message(user_message.to_s, attachments) unless continuation

      # A user row this run inserted means no run of this job got further: no reply to look for.
      if !just_inserted?(user_row) && (saved = persisted_reply)
        # A rerun of a job that finished its turn before it was stopped.
        broadcaster.complete(message_text(saved), model: model, message: saved)
        return
      end

      job = {"worker" => self.class.name, "model" => model, "tool_services" => tool_services,
             "user_context" => user_context, "upload_ids" => upload_ids}
      row, state = unfinished_checkpoint
      if state && !continuation && row[column(:job_id)].to_s != @job_id
        # A turn whose job died (or whose continuation has not run yet) comes first:
        # it is finished in its own row, then this message is answered after it.
        finish_earlier_turn(row, state, job.merge("job_id" => @job_id))
        return if @continuation_due

        state = nil
      elsif state
        # This job's own turn (its queue ran it again) or a chain's next link: go on in the
        # turn's row, so that a turn is one row whatever the jobs it took.
        @reply_job_id = row[column(:job_id)].to_s
      elsif continuation && state.nil?
        logger_for.info("[#{self.class.name}] conversation #{@conversation.id}: no unfinished turn to continue")
        return
      end

      meta = state&.fetch("job", nil) || {}
      @chain_started_at = meta["chain_started_at"].to_f if state && meta["chain_started_at"]
      later = (continuation.is_a?(Hash) && continuation["then"]) || meta["then"]
      @job_meta = job.merge("chain_started_at" => @chain_started_at, "then" => later).compact
      attachments = attachments_for(Array(meta["upload_ids"])) if state && upload_ids.empty? && meta["upload_ids"].present?
      run_turn(state ? relink_attachments(state, attachments) : nil, model, tool_services, user_context, attachments)
      answer_later_message(later) if later && !@continuation_due
    end

    # The message a job left for after the turn it finished first (its job's
    # arguments and id): answered now, in the row that job would have written.
    def answer_later_message(job)
      @reply_job_id = job["job_id"].to_s
      @checkpoint_row = nil
      @chain_started_at = Time.now.to_f
      @job_meta = job.merge("chain_started_at" => @chain_started_at)
      attachments = attachments_for(Array(job["upload_ids"]))
      run_turn(nil, job["model"], Array(job["tool_services"]), job["user_context"].to_h, attachments)
    end

    # Finishes the unfinished turn of an earlier job (state, on its row) with that
    # job's model, tools and context, before this job answers its own message.
    def finish_earlier_turn(row, state, job)
      meta = state["job"] || job
      @reply_job_id = row[column(:job_id)].to_s
      @chain_started_at = meta["chain_started_at"]&.to_f || @chain_started_at
      @job_meta = meta.merge("chain_started_at" => @chain_started_at, "then" => job)
      attachments = attachments_for(Array(meta["upload_ids"]))
      tool_services = Array(meta["tool_services"] || job["tool_services"])
      user_context = (meta["user_context"] || job["user_context"]).to_h
      run_turn(relink_attachments(state, attachments), meta["model"] || job["model"], tool_services, user_context, attachments)
      @reply_job_id = nil
      @checkpoint_row = nil
      @broadcaster = nil
      @chain_started_at = @locked_at&.to_f
    end

    # Runs one turn (resumed from state, or new from the history) to its end in this
    # job: saved and broadcast, handed to a continuation, or raised as a failure.
    def run_turn(state, model, tool_services, user_context, attachments)
      config = turn_config
      handler = Worker::TurnHandler.new(worker: self, broadcaster: broadcaster,
        cancel_poll_interval: config.cancel_poll_interval)
      turn = build_turn(model, user_context, tool_services, attachments, handler, state, config)
      # A job stopped mid-turn (its queue's shutdown) needs nothing saved here: each chunk
      # was saved before the page got it, so the next job goes on from what the page shows.
      outcome = Worker::Instrumentation.turn(worker: self.class.name, conversation_id: @conversation.id,
        model: model, handler: handler, logger: logger_for) { turn.run }
      report_progress(@rounds_before + outcome.rounds.to_i)

      case outcome.status
      when :completed
        message = persist_reply(outcome)
        broadcaster.complete(outcome.text.to_s, model: outcome.model.to_s, message: message)
      when :continue
        continue_or_stop(outcome, tool_services, user_context)
      when :cancelled
        message = persist_cancelled(outcome)
        broadcaster.complete(outcome.text.to_s, model: outcome.model.to_s, cancelled: true, message: message)
      else
        raise ProviderError.from(outcome.failure, model: outcome.model)
      end
    end

    # Hands the rest of the turn to a continuation job, unless the chain already has
    # max_continuations: then the turn ends here, with copy that says so.
    def continue_or_stop(outcome, tool_services, user_context)
      if outcome.state["continuations"].to_i >= settings.max_continuations
        text = [outcome.text.to_s, Worker::ErrorCopy::TOO_MANY_CONTINUATIONS].reject(&:empty?).join("\n\n")
        logger_for.warn("[#{self.class.name}] conversation #{@conversation.id}: turn ended after " \
          "#{settings.max_continuations} continuations (end=max_continuations)")
        message = persist_stopped(outcome, text)
        broadcaster.complete(text, model: outcome.model.to_s, message: message, stopped: :max_continuations)
        return
      end

      persist_partial(outcome)
      @continuation_due = {model: outcome.model.to_s, tool_services: tool_services, user_context: user_context,
                           upload_ids: Array(@job_meta["upload_ids"]), later: @job_meta["then"]}
    end

    # A new Turn from the history, or the Turn resumed from a saved state (a
    # continuation's, or a dead job's checkpoint).
    def build_turn(model, user_context, tool_services, attachments, handler, state, config)
      options = {system: system_prompt(user_context), tools: tools_for(tool_services, user_context),
                 handler: handler, deadline: Time.now + settings.job_deadline, config: config}
      if state
        @rounds_before = state["rounds"].to_i
        AssistantChatNative::Turn.resume(state, **options)
      else
        @rounds_before = 0
        AssistantChatNative::Turn.new(model: model, messages: history_messages(attachments), **options)
      end
    end

    # Attachments travel by upload id: the state's parts point at an earlier job's
    # tempfiles (gone with it), so each is pointed at this job's copy of its upload.
    def relink_attachments(state, attachments)
      by_upload = attachments.to_h { |part| [upload_id_of(part["path"]), part["path"]] }
      relink = lambda do |value|
        case value
        when Array then value.map(&relink)
        when Hash
          if value["path"] && (id = upload_id_of(value["path"])) && by_upload[id]
            value.merge("path" => by_upload[id])
          else
            value.transform_values(&relink)
          end
        else value
        end
      end
      state.merge("messages" => relink.call(state["messages"]))
    end

    def upload_id_of(path)
      File.basename(path.to_s)[/\Aacn-upload-([^-]+)-/, 1]
    end

    # The gem's configuration, with the constants this class sets itself in place of
    # the settings they stand for (CONSTANT_SETTINGS): `HEARTBEAT_INTERVAL = 10` in the
    # app's worker changes its turns' heartbeat, as in the seed.
    def turn_config
      config = AssistantChatNative.config
      overridden = CONSTANT_SETTINGS.select { |constant, _setting| own_constant?(constant) }
      return config if overridden.empty?

      config.dup.tap do |copy|
        overridden.each { |constant, setting| copy.public_send(:"#{setting}=", self.class.const_get(constant)) }
      end
    end

    # Whether the constant comes from the job class or a module it includes rather than
    # from TurnJob itself.
    def own_constant?(name)
      owner = self.class.ancestors.find { |mod| mod.const_defined?(name, false) }
      !owner.nil? && owner != TurnJob
    end

    # A tool's status line, named the way the app's TOOL_DISPLAY_NAMES, TOOL_PREFIXES
    # and TOOLS_WITH_SUMMARIES say (the settings when set, else the worker class's
    # constants, which a host Broadcaster module may define).
    def tool_status_line(name, arguments)
      Broadcaster.status_line(name, arguments,
        display_names: settings.tool_display_names || self.class::TOOL_DISPLAY_NAMES,
        prefixes: settings.tool_prefixes || self.class::TOOL_PREFIXES,
        with_summaries: settings.tools_with_summaries || self.class::TOOLS_WITH_SUMMARIES)
    end

    def schedule_continuation(model:, tool_services:, user_context:, upload_ids:, later: nil)
      self.class.enqueue_turn({"conversation_id" => @conversation.id, "user_message" => nil,
        "model" => model, "tool_services" => tool_services, "user_context" => user_context,
        "upload_ids" => upload_ids, "continuation" => {"chain_started_at" => @chain_started_at, "then" => later}.compact})
    end

    # Runs the continuation again later, waiting longer each time (at most
    # settings.continuation_busy_wait seconds in all, then the user is told).
    def retry_busy_continuation(arguments, continuation)
      now = Time.now.to_f
      busy_since = (continuation["busy_since"] || now).to_f
      attempts = continuation["busy_attempts"].to_i
      if now - busy_since > settings.continuation_busy_wait
        logger_for.warn("[#{self.class.name}] conversation #{@conversation_id} stayed busy for " \
          "#{settings.continuation_busy_wait}s; the continuation gives up")
        broadcast_error(BUSY_MESSAGE)
        return
      end

      delay = [settings.continuation_retry_delay * (2**attempts), settings.continuation_busy_wait].min
      logger_for.info("[#{self.class.name}] conversation #{@conversation_id} is busy; continuing in #{delay.round(2)}s")
      self.class.enqueue_turn(arguments.merge("continuation" => continuation.merge(
        "busy_since" => busy_since, "busy_attempts" => attempts + 1
      )), wait: delay)
    end

    # The log line, the report and the broadcast each get the error as Redaction leaves
    # it: the reporter receives an exception of the same class and backtrace whose
    # message (and causes') lost any key, token or credential and was cut to size.
    # The user's copy goes out through broadcast_error, as the seed's did, so a host
    # module's broadcast_error sees every error, provider failures included.
    def handle_error(error, model)
      failure = error.is_a?(ProviderError) ? error.failure : nil
      shown = Redaction.exception(error)
      body = failure&.detail || (error.respond_to?(:response) ? error.response.try(:body) : nil)
      response_body = body && Redaction.text(body, max_bytes: RESPONSE_BODY_BYTES)
      logger_for.error("[#{self.class.name}] Error: #{shown.class}: #{shown.message}\n" \
        "#{Array(shown.backtrace).first(5).join("\n")}#{"\nResponse body: #{response_body}" if response_body.present?}")
      release_lock if @conversation
      fail_checkpoint if @checkpoint_row
      @conversation&.track_error!
      report_error(shown, user_id: @sending_user&.id, custom_data: {
        worker: self.class.name, conversation_id: @conversation&.id || @conversation_id,
        model: model, response_body: response_body
      })
      broadcast_error(user_copy(error, failure))
    rescue => nested
      logger_for.error("[#{self.class.name}] Error while handling #{error.class}: #{nested.class}: " \
        "#{Redaction.text(nested.message)}")
    end

    # What the user reads about error: a classified failure's copy, or the copy for
    # the exception's message (never the raw message: it may carry a secret).
    def user_copy(error, failure)
      if failure
        Worker::ErrorCopy.for_failure(failure, unknown: settings.error_messages)
      else
        Worker::ErrorCopy.for_message(error.message, unknown: settings.error_messages)
      end
    end

    def report_error(error, user_id:, custom_data:)
      reporter = settings.reporter || Worker::Reporter.new(logger: logger_for)
      reporter.call(error, user_id: user_id, custom_data: custom_data)
    end

    def broadcaster
      @broadcaster ||= Broadcaster.new(stream: broadcast_stream, logger: logger_for,
        renderer: ->(payload) { render_broadcast(payload) },
        delivery: settings.delivery, status_interval: settings.status_broadcast_interval || self.class::STATUS_BROADCAST_INTERVAL)
    end

    # Clears the column lock if this job holds it: by job id when the conversation's
    # release_processing_lock! takes one (ProcessingLock's does), else after reading
    # processing_job_id when the table has it. A host method without either clears it
    # as the seed did.
    def release_lock
      if @conversation.method(:release_processing_lock!).parameters.any? { |_type, name| name == :job_id }
        @conversation.release_processing_lock!(job_id: @job_id)
      elsif lock_holder_is_us?
        @conversation.release_processing_lock!
      else
        logger_for.warn("[#{self.class.name}] not releasing conversation #{@conversation.id}'s lock: " \
          "job #{@conversation.try(:processing_job_id)} holds it")
      end
    end

    def lock_holder_is_us?
      return true unless @conversation.has_attribute?(:processing_job_id)

      model = @conversation.class
      holder = model.uncached { model.where(id: @conversation.id).pick(:processing_job_id) }
      holder.nil? || holder.to_s == @job_id
    end

    # Keeps the column lock fresh. Beats during tools and waits come from a thread of
    # their own: it borrows a connection for the one UPDATE and gives it back, even when
    # the model's method leases one (`connection`), so it never keeps a second one from a
    # pool sized to the queue's concurrency. (On the job's own thread, with_connection
    # reuses the connection the job holds.)
    def heartbeat(_elapsed)
      return unless @conversation.respond_to?(:touch_processing_lock!)

      pool = @conversation.class.connection_pool
      touch = proc { @conversation.touch_processing_lock!(job_id: @job_id) }
      if pool.method(:with_connection).parameters.any? { |_type, name| name == :prevent_permanent_checkout }
        pool.with_connection(prevent_permanent_checkout: true, &touch)
      else
        pool.with_connection(&touch)
      end
    end

    # Rounds done so far; a queue that shows progress stores it too (Worker: sidekiq-status).
    def report_progress(round)
      @round_count = round.to_i
    end

    # Who holds the lock when the sender is unknown: the sender model's row with id 0,
    # unsaved (the seed's Party.new(id: 0)), or a bare object answering id 0 when the
    # app has no sender model.
    def null_sender
      model = settings.sender_model
      active_record = defined?(::ActiveRecord::Base) && model.is_a?(Class) && model < ::ActiveRecord::Base
      active_record ? model.new(id: 0) : NULL_SENDER
    end

    def cleanup_attachment_tempfiles
      Array(@attachment_tempfiles).each do |tempfile|
        tempfile.close!
      rescue => e
        logger_for.warn("[#{self.class.name}] could not remove #{tempfile.path}: #{Redaction.text(e.message)}")
      end
      @attachment_tempfiles = []
    end

    def logger_for
      settings.resolved_logger(queue_logger: queue_logger)
    end
  end
end
