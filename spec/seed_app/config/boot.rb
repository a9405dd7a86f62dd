# frozen_string_literal: true

# The gem's own Gemfile (its integration group carries Rails); ACN_ROOT points at
# the gem when this app runs from a copy elsewhere.
ENV["BUNDLE_GEMFILE"] ||= File.join(ENV.fetch("ACN_ROOT", File.expand_path("../../..", __dir__)), "Gemfile")
require "bundler/setup"
