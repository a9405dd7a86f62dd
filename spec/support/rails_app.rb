# frozen_string_literal: true

require "fileutils"
require "open3"
require "tmpdir"

# The spec Rails app (spec/rails_app), installed the way an app installs the gem:
# a fresh copy gets `bin/rails generate assistant_chat_native:install`, then is
# booted in this process against the given database and migrated.
module SpecRailsApp
  SOURCE = File.expand_path("../rails_app", __dir__)
  GEM_ROOT = File.expand_path("../..", __dir__)

  class << self
    attr_reader :root, :generator_output

    # Copies the app, runs the generator, boots the app and migrates. Once per process.
    def boot!(database_url:)
      return if @booted

      @root = Dir.mktmpdir("acn-rails-app-")
      FileUtils.cp_r(File.join(SOURCE, "."), @root)
      FileUtils.mkdir_p(File.join(@root, "log"))
      ENV["DATABASE_URL"] = database_url
      ENV["RAILS_ENV"] = "test"
      ENV["ACN_ROOT"] = GEM_ROOT
      generate!
      require File.join(@root, "config", "environment")
      migrate!
      @booted = true
      at_exit { FileUtils.rm_rf(@root) }
    end

    def generate!
      env = {"DATABASE_URL" => ENV["DATABASE_URL"], "RAILS_ENV" => "test", "ACN_ROOT" => GEM_ROOT,
             "BUNDLE_GEMFILE" => File.join(GEM_ROOT, "Gemfile")}
      @generator_output, status = Open3.capture2e(env, RbConfig.ruby, "bin/rails", "generate",
        "assistant_chat_native:install", chdir: @root)
      raise "the install generator failed:\n#{@generator_output}" unless status.success?
    end

    def migrate!
      ActiveRecord::Migration.verbose = false
      paths = [File.join(@root, "db", "migrate")]
      ActiveRecord::MigrationContext.new(paths).migrate
      ActiveRecord::Base.descendants.each(&:reset_column_information)
    end

    # Empties the app's tables between examples.
    def clean!
      %w[messages conversations uploads users].each do |table|
        ActiveRecord::Base.connection.execute("DELETE FROM #{table}")
      end
    end
  end
end
