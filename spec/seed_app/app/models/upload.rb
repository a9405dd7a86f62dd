# frozen_string_literal: true

# A file attached to a message; its bytes are in `data`.
class Upload < ApplicationRecord
  belongs_to :party, optional: true
end
