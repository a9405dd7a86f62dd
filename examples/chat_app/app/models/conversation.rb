# frozen_string_literal: true

class Conversation < ApplicationRecord
  include AssistantChatNative::ProcessingLock

  belongs_to :user
  has_many :messages, class_name: "Message", dependent: :delete_all
end
