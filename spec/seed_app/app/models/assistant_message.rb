# frozen_string_literal: true

class AssistantMessage < ApplicationRecord
  ROLES = %w[user assistant].freeze
  KINDS = %w[chat note].freeze

  belongs_to :assistant_conversation

  validates :role, inclusion: {in: ROLES}
  validates :kind, inclusion: {in: KINDS}
end
