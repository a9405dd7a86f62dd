# frozen_string_literal: true

# Where the hostile-input specs (spec/hostile/) run the gem: in a thread of its
# own with Ruby's default VM stack and machine stack, as a Sidekiq processor
# thread runs a job, not on the main thread whose stack is larger.
module HostileInput
  # Runs the block in a new thread and returns its value; an exception raised in
  # the thread (SystemStackError included) is raised here.
  def self.in_worker_thread(&block)
    thread = Thread.new(&block)
    thread.report_on_exception = false
    thread.value
  end

  # Builds a JSON text nested `depth` arrays deep around `inner`.
  def self.nested_arrays(depth, inner = "1")
    ("[" * depth) + inner + ("]" * depth)
  end
end
