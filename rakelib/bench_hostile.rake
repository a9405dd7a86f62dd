# frozen_string_literal: true

namespace :bench do
  desc "Hostile provider input (crafted error bodies, floods of tool calls, oversized lines) through Stream, RubyStream and Turn: outcome, RSS growth, " \
       "a sibling thread's wait; writes bench/results/hostile.md (ONLY=inputs, CLIENTS=, HOSTILE_TIMEOUT=)"
  task hostile: :compile do
    ruby "-Ilib", "bench/hostile.rb"
  end
end
