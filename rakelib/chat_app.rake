# frozen_string_literal: true

# `rake spec:chat_app`: the example Rails app (examples/chat_app) in headless
# Chromium. Starts Redis and PostgreSQL (TestServices), prepares the app's test
# database, and runs its system tests (`bin/rails test:system`) with the app's own
# bundle, in a process of their own; screenshots go to tmp/screenshots. Stops what
# it started. `bin/setup` installs chromium and the app's gems.
namespace :spec do
  desc "The example Rails app's system tests in headless Chromium"
  task chat_app: :compile do
    require "bundler"
    require_relative "../spec/support/services"

    root = File.expand_path("..", __dir__)
    app = File.join(root, "examples", "chat_app")
    screenshots = File.join(root, "tmp", "screenshots")
    TestServices.start
    begin
      env = {
        "BUNDLE_GEMFILE" => File.join(app, "Gemfile"),
        "RAILS_ENV" => "test",
        "DATABASE_URL" => TestServices.postgres_url.sub(%r{/acn_test\z}, "/chat_app_test"),
        "REDIS_URL" => TestServices.redis_url,
        "SCREENSHOT_DIR" => screenshots
      }
      # The app's bundle, not this one's: its Gemfile has Rails, Puma and Capybara.
      Bundler.with_unbundled_env do
        sh(env, "bundle check >/dev/null || { echo 'run bin/setup: the chat app has gems to install'; exit 1; }",
          chdir: app)
        sh(env, "bin/rails", "db:prepare", chdir: app)
        sh(env, "bin/rails", "test:system", chdir: app)
      end
      puts "screenshots: #{screenshots}"
    ensure
      TestServices.stop
    end
  end
end
