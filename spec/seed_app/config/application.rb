# frozen_string_literal: true

require_relative "boot"

require "logger"
require "rails"
require "active_record/railtie"
require "action_cable/engine"
require "sidekiq"
require "sidekiq-status"
require "assistant_chat_native"
require "assistant_chat_native/railtie"

# An app shaped like the one the seed's AssistantChatWorker came from: its own
# AssistantConversation (with its own processing-lock methods), Party, Upload, an
# assistant_messages table of its own, ErrorReporting and AssistantChat::Broadcaster.
# It installs the gem the way that app would: migrate, generate, migrate, and change
# the worker's superclass.
module SeedApp
  class Application < Rails::Application
    config.load_defaults 7.2
    config.root = File.expand_path("..", __dir__)
    config.eager_load = true
    config.secret_key_base = "test-only-secret-key-base-0123456789abcdef0123456789abcdef0123456789"
    config.logger = ActiveSupport::Logger.new(File.join(config.root, "log", "#{Rails.env}.log"))
    config.log_level = :info
    config.active_record.dump_schema_after_migration = false
    config.action_cable.cable = {"adapter" => "inline"}
  end
end
