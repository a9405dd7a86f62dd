# frozen_string_literal: true

namespace :bench do
  desc "Decode a large Anthropic stream with the C decoder and with event_stream_parser + JSON.parse; " \
       "writes bench/results/parse.md (DELTAS=, CHUNK=, RUNS= to change the run)"
  task parse: :compile do
    ruby "-Ilib", "bench/parse.rb"
  end
end
