# frozen_string_literal: true

require "rails/railtie"

module AssistantChatNative
  # Loads the worker (and, when the app loads ActiveJob, the Job), the broadcaster
  # and the processing-lock concern into a Rails app, and the benchmark rake tasks
  # (`rake bench:worker` and the gem's other `bench:*` tasks) so the app can measure
  # on its own machine.
  class Railtie < ::Rails::Railtie
    config.assistant_chat_native = AssistantChatNative.config

    initializer "assistant_chat_native.load" do
      ActiveSupport.on_load(:active_record) do
        require "assistant_chat_native/processing_lock"
      end
      # Only in an app that loads ActiveJob: the gem itself does not depend on it.
      ActiveSupport.on_load(:active_job) do
        require "assistant_chat_native/job"
      end
      require "assistant_chat_native/broadcaster"
      require "assistant_chat_native/worker"
      AssistantChatNative::Worker.enable_status_reporting!
    end

    # Once the app's initializers have registered their models: warn about any whose end of
    # life is past or near (ModelRegistry::RetirementWarning).
    config.after_initialize do
      AssistantChatNative::ModelRegistry::RetirementWarning.check_all(AssistantChatNative.config.models,
        logger: AssistantChatNative.config.logger)
    end

    # The benchmarks need the gem's source tree (bench/ and rakelib/, present when
    # the gem comes from git or a path). Their `compile` prerequisite builds the
    # extension in the gem's own checkout; in an app the installed gem is already
    # built, so a no-op stands in unless the app has a compile task of its own.
    # `rake assistant_chat_native:models` ships in lib/ and is always there.
    rake_tasks do
      root = File.expand_path("../..", __dir__)
      files = Dir[File.join(root, "rakelib", "bench*.rake")].sort
      unless files.empty? || Rake::Task.task_defined?(:compile)
        Rake::Task.define_task(:compile)
      end
      files.each { |file| load file }
      load File.join(root, "lib", "assistant_chat_native", "tasks", "models.rake")
      load File.join(root, "lib", "assistant_chat_native", "tasks", "reap.rake")
    end

    generators do
      require "generators/assistant_chat_native/install/install_generator"
    end
  end
end
