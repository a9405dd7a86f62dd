# frozen_string_literal: true

namespace :bench do
  desc "A Sidekiq process running 25 chat turns at once, native Stream against RubyStream, on LocalProvider: " \
       "jobs per minute and sibling-thread delay; writes bench/results/worker.md " \
       "(TURNS=, CONCURRENCY=, WORDS=, TOKEN_RATE= to change the run)"
  task worker: :compile do
    ruby "-Ilib", File.expand_path("../bench/worker.rb", __dir__)
  end
end
