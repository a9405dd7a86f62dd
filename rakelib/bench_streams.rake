# frozen_string_literal: true

namespace :bench do
  desc "N concurrent streams (1, 10, 50) from LocalProvider through Stream, RubyStream and ruby-openai, " \
       "at full speed and 100 events/s; writes bench/results/streams.md (STREAMS=, TOKENS=, RATE=, PACED_SECONDS=)"
  task streams: :compile do
    ruby "-Ilib", "bench/streams.rb"
  end
end
