# frozen_string_literal: true

# The app's error reporting. Here it keeps every call, so the scenarios can read
# what the worker reported.
module ErrorReporting
  CALLS = Queue.new

  def self.error(error, source:, user_id:, custom_data:)
    CALLS << {error: error, source: source, user_id: user_id, custom_data: custom_data}
    nil
  end

  # The calls since the last one, oldest first.
  def self.calls
    list = []
    list << CALLS.pop until CALLS.empty?
    list
  end
end
