# frozen_string_literal: true

namespace :bench do
  desc "A Sidekiq process running 25 chat turns at once, native Stream against RubyStream, on LocalProvider: " \
       "CPU per turn, sibling-thread delay, jobs per minute; writes bench/results/worker.md, worker.svg and worker.json " \
       "(TURNS=, CONCURRENCY=, WORDS=, TOKEN_RATE=, REPEAT=, LONG_WORDS= to change the run; " \
       "BASELINE=<an earlier worker.json> to show it beside, BEFORE_ROOT=<another checkout> to run its worker " \
       "in the same run; PROFILE=1 to profile a native turn)"
  task worker: :compile do
    ruby "-Ilib", File.expand_path("../bench/worker.rb", __dir__)
  end

  desc "rake bench:worker with a stackprof profile of native turns (CPU and wall), grouped by concern, in worker.md"
  task :worker_profile do
    ENV["PROFILE"] = "1"
    Rake::Task["bench:worker"].invoke
  end
end
