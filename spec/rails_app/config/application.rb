# frozen_string_literal: true

require_relative "boot"

require "logger"
require "rails"
require "active_record/railtie"
require "action_cable/engine"
# AssistantChatNative::Job's specs run it on Solid Queue, in this database (its tables
# loaded by SolidQueueHarness); the worker's specs never enqueue through ActiveJob.
require "active_job/railtie"
require "solid_queue"
require "sidekiq"
require "sidekiq-status"
require "turbo-rails" if ENV["ACN_TURBO"] == "1"
require "assistant_chat_native"
require "assistant_chat_native/railtie"

# The smallest Rails app that installs assistant_chat_native the way an app does:
# `bin/rails generate assistant_chat_native:install`, migrate, run the worker.
module RailsApp
  class Application < Rails::Application
    config.load_defaults 7.2
    config.root = File.expand_path("..", __dir__)
    config.eager_load = true
    config.secret_key_base = "test-only-secret-key-base-0123456789abcdef0123456789abcdef0123456789"
    config.logger = ActiveSupport::Logger.new(File.join(config.root, "log", "#{Rails.env}.log"))
    config.log_level = :info
    config.active_record.dump_schema_after_migration = false
    # Inline delivers each broadcast to subscribers in the broadcasting thread, in the
    # order the worker sent them, as a production Redis adapter does per channel; the
    # async adapter hands them to a thread pool, which may reorder them.
    config.action_cable.cable = {"adapter" => ENV.fetch("ACN_CABLE_ADAPTER", "inline")}
    config.active_job.queue_adapter = :solid_queue
  end
end
