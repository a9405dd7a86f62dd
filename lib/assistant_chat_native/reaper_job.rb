# frozen_string_literal: true

require "sidekiq"
require_relative "reaper"

module AssistantChatNative
  # Runs the Reaper from Sidekiq, for hosts that schedule jobs with sidekiq-cron:
  #
  #   # config/schedule.yml
  #   reap_assistant_chats:
  #     cron: "* * * * *"
  #     class: "AssistantChatNative::ReaperJob"
  #
  # worker: the app's worker class name when it is not AssistantChatWorker.
  class ReaperJob
    include Sidekiq::Job

    sidekiq_options retry: 0

    def perform(worker = nil)
      reaped = Reaper.new(worker: worker).call
      Sidekiq.logger.info("[#{self.class.name}] #{reaped.inspect}") if reaped.any?
    end
  end
end
