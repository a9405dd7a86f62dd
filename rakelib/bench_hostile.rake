# frozen_string_literal: true

namespace :bench do
  desc "Every hostile input of the hostile-provider-input issue through Stream and RubyStream: outcome, RSS growth, " \
       "a sibling thread's wait; writes bench/results/hostile.md (ONLY=inputs, CLIENTS=, HOSTILE_TIMEOUT=)"
  task hostile: :compile do
    ruby "-Ilib", "bench/hostile.rb"
  end
end
