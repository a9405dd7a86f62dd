# frozen_string_literal: true

require_relative "lib/assistant_chat_native/version"

Gem::Specification.new do |spec|
  spec.name = "assistant_chat_native"
  spec.version = AssistantChatNative::VERSION
  spec.summary = "A drop-in Sidekiq worker for AI assistant chats that streams LLM replies in C, off the GVL"
  spec.description = <<~TEXT
    Streams Anthropic, OpenAI and Gemini replies over libcurl, parses server-sent events and
    provider JSON with yajl, throttles chunks and classifies errors in a C extension that runs
    without the GVL, and keeps locks, ActiveRecord and Turbo Streams broadcasting in a thin
    Sidekiq job.
  TEXT
  spec.authors = ["assistant_chat_native maintainers"]
  spec.license = "MIT"
  spec.homepage = "https://rubygems.org/gems/assistant_chat_native"
  spec.required_ruby_version = ">= 3.1"

  spec.files = Dir[
    "lib/**/*.rb", "lib/**/*.erb", "lib/**/*.tt", "lib/**/*.rake",
    "ext/**/*.{c,h,def,rb}", "README.md", "LICENSE", "bin/local_provider",
    # `rake bench:*` in a host app (the Railtie loads these): the scripts, for
    # bench:worker the Redis/PostgreSQL starter and the small Rails app it drives,
    # for bench:hostile the worker-thread runner the hostile-input specs share.
    "bench/*.rb", "rakelib/bench*.rake", "spec/support/services.rb", "spec/support/rails_app.rb",
    "spec/support/hostile_input.rb",
    "spec/rails_app/**/*.{rb,yml}", "spec/rails_app/Rakefile", "spec/rails_app/bin/rails"
  ]
  spec.require_paths = ["lib"]
  spec.bindir = "bin"
  spec.executables = ["local_provider"]
  spec.extensions = ["ext/assistant_chat_native/extconf.rb"]

  spec.add_dependency "event_stream_parser", "~> 1.0"
  spec.add_dependency "sidekiq", ">= 7.0", "< 9"
  spec.add_dependency "with_advisory_lock", ">= 5.1"
end
