# frozen_string_literal: true

# A file the user attached to a message; the worker copies `data` to a tempfile.
class Upload < ApplicationRecord
end
