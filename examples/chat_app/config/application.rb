require_relative "boot"

require "rails"
# Pick the frameworks you want:
require "active_model/railtie"
require "active_job/railtie"
require "active_record/railtie"
require "action_controller/railtie"
require "action_view/railtie"
require "action_cable/engine"
require "rails/test_unit/railtie"

# Require the gems listed in Gemfile, including any gems
# you've limited to :test, :development, or :production.
Bundler.require(*Rails.groups)

module ChatApp
  class Application < Rails::Application
    # Initialize configuration defaults for originally generated Rails version.
    config.load_defaults 7.2

    # Please, add to the `ignore` list any other `lib` subdirectories that do
    # not contain `.rb` files, or that should not be reloaded or eager loaded.
    # Common ones are `templates`, `generators`, or `middleware`, for example.
    config.autoload_lib(ignore: %w[assets tasks])

    # A runnable example keeps no credentials file: production reads SECRET_KEY_BASE,
    # development and test fall back to a fixed key.
    config.secret_key_base = ENV.fetch("SECRET_KEY_BASE") do
      raise "set SECRET_KEY_BASE" if Rails.env.production?

      "chat-app-development-only-secret-key-base-0123456789abcdef0123456789abcdef"
    end
  end
end
