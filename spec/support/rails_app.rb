# frozen_string_literal: true

require "fileutils"
require "open3"
require "tmpdir"

# A spec Rails app (spec/rails_app, or spec/seed_app: an app shaped like the
# seed's), installed the way an app installs the gem: a fresh copy is migrated
# with its own migrations, gets `bin/rails generate assistant_chat_native:install`,
# then is booted in this process against the given database and migrated again.
# A Rails app boots once per process, so one process runs one of them.
module SpecRailsApp
  SOURCE = File.expand_path("../rails_app", __dir__)
  SEED_SOURCE = File.expand_path("../seed_app", __dir__)
  GEM_ROOT = File.expand_path("../..", __dir__)
  # Rails' own tables, which clean! leaves alone.
  INTERNAL_TABLES = %w[schema_migrations ar_internal_metadata].freeze
  # Solid Queue's tables, also left alone: a running Solid Queue process stops when its
  # row goes; SolidQueueHarness.clean! empties its queues itself.
  QUEUE_TABLES = /\Asolid_queue_/

  class << self
    attr_reader :root, :source, :generator_output

    # Copies the app, migrates it, runs the generator, boots the app and migrates.
    # Once per process.
    def boot!(database_url:, source: SOURCE)
      if @booted
        raise "#{@source} is already booted in this process; #{source} needs a process of its own" if source != @source

        return
      end

      @source = source
      @root = Dir.mktmpdir("acn-#{File.basename(source).tr("_", "-")}-")
      FileUtils.cp_r(File.join(source, "."), @root)
      FileUtils.mkdir_p(File.join(@root, "log"))
      ENV["DATABASE_URL"] = database_url
      ENV["RAILS_ENV"] = "test"
      ENV["ACN_ROOT"] = GEM_ROOT
      run_in_app!("db:migrate")
      @generator_output = run_in_app!("generate", "assistant_chat_native:install")
      require File.join(@root, "config", "environment")
      migrate!
      @booted = true
      at_exit { FileUtils.rm_rf(@root) }
    end

    # Runs `bin/rails *args` in the app's copy; returns its output.
    def run_in_app!(*args)
      env = {"DATABASE_URL" => ENV["DATABASE_URL"], "RAILS_ENV" => "test", "ACN_ROOT" => GEM_ROOT,
             "BUNDLE_GEMFILE" => File.join(GEM_ROOT, "Gemfile")}
      output, status = Open3.capture2e(env, RbConfig.ruby, "bin/rails", *args, chdir: @root)
      raise "bin/rails #{args.join(" ")} failed in #{@root}:\n#{output}" unless status.success?

      output
    end

    def migrate!
      ActiveRecord::Migration.verbose = false
      paths = [File.join(@root, "db", "migrate")]
      ActiveRecord::MigrationContext.new(paths).migrate
      ActiveRecord::Base.descendants.each(&:reset_column_information)
    end

    # Empties the app's tables between examples.
    def clean!
      connection = ActiveRecord::Base.connection
      tables = connection.tables - INTERNAL_TABLES
      tables = tables.grep_v(QUEUE_TABLES)
      quoted = tables.map { |table| connection.quote_table_name(table) }
      # One statement for all: foreign keys between them (the seed app has one) hold.
      connection.execute("TRUNCATE #{quoted.join(", ")} CASCADE")
    end
  end
end
