# frozen_string_literal: true

# Who sends a message (the seed's sender: user_context["party_id"]).
class Party < ApplicationRecord
  has_many :assistant_conversations
end
