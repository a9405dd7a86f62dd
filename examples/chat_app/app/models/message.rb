# frozen_string_literal: true

class Message < ApplicationRecord
  # A turn's assistant row while it streams (the worker saves each chunk's text in
  # it before the page gets the chunk) or waits for its continuation job.
  UNFINISHED = AssistantChatNative::Worker::CheckpointHooks::UNFINISHED

  belongs_to :conversation, class_name: "Conversation"

  # The rows a page shows as messages: the user's, and replies that ended.
  scope :shown, -> { where(status: nil).or(where.not(status: UNFINISHED)) }
  # The reply still streaming, shown in the reply target.
  scope :streaming, -> { where(role: "assistant", status: UNFINISHED) }

  def assistant?
    role == "assistant"
  end
end
