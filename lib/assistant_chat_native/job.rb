# frozen_string_literal: true

begin
  require "active_job"
rescue LoadError
  raise LoadError, "AssistantChatNative::Job is an ActiveJob class: add `gem \"activejob\"` (Rails has it) " \
    "to the Gemfile, or use the Sidekiq worker, AssistantChatNative::Worker"
end
require_relative "worker"

module AssistantChatNative
  # The ActiveJob class for one assistant chat turn, for apps whose jobs run on
  # Solid Queue, GoodJob or another ActiveJob adapter: the same turn as Worker
  # (TurnJob: arguments, locks, continuations, hooks, error copy), enqueued and
  # identified the ActiveJob way.
  #
  #   class AssistantChatJob < AssistantChatNative::Job
  #     def system_prompt(user_context) = "You answer questions about #{user_context["department"]}."
  #   end
  #
  #   AssistantChatJob.perform_later(conversation.id, "Show me sales by state", "claude-sonnet")
  #   AssistantChatJob.perform_later("conversation_id" => conversation.id,
  #     "user_message" => "Show me sales by state", "model" => "claude-sonnet")
  #
  # What the queue decides, and how it differs from Worker:
  # - no automatic retry: a rerun would answer twice. The class declares no retry_on,
  #   and perform rescues every StandardError itself (the user is told, the error
  #   reported), so neither ActiveJob's retry_on nor an adapter's retry sees one;
  # - the column lock and the turn's rows are keyed by the job's job_id, which a
  #   rerun of the same job keeps (Solid Queue's released claim, GoodJob's retried
  #   lock), so that rerun goes on from the turn's checkpoint, as a Sidekiq retry does;
  # - a job that dies with its process (Solid Queue marks it failed, the async adapter
  #   loses it) leaves a stale lock: the Reaper resumes the turn with perform_later;
  # - no progress store (sidekiq-status is Sidekiq's); rounds are in the turn's log line
  #   and its "turn.assistant_chat_native" event;
  # - ActiveJob's log lines leave the arguments out (log_arguments = false).
  class Job < ActiveJob::Base
    include TurnJob

    # ActiveJob logs each job's arguments unless told not to: the user's message and
    # user_context stay out of the log, as Sidekiq's log leaves them out.
    self.log_arguments = false

    class << self
      # TurnJob's continuations (and the Reaper's resume jobs): now, or after wait seconds.
      def enqueue_turn(arguments, wait: nil)
        (wait ? set(wait: wait) : self).perform_later(arguments)
      end
    end

    private

    def queue_job_id
      job_id
    end

    def queue_logger
      self.class.logger
    end
  end
end
