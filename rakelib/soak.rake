# frozen_string_literal: true

desc "TURNS chat turns (default 1000) through a Sidekiq process with LocalProvider faults and KILLS process " \
     "kills (default 10); checks every turn ends, no lost messages, no repeated tool runs, no locks left, flat " \
     "RSS and fds; writes bench/results/soak.md"
task soak: :compile do
  ruby "-Ilib", File.expand_path("../bench/soak.rb", __dir__)
end
