# frozen_string_literal: true

require "rails/railtie"

module AssistantChatNative
  # Loads the worker, the broadcaster and the processing-lock concern into a Rails
  # app, and the benchmark rake tasks (`rake bench:worker` and the gem's other
  # `bench:*` tasks) so the app can measure on its own machine.
  class Railtie < ::Rails::Railtie
    config.assistant_chat_native = AssistantChatNative.config

    initializer "assistant_chat_native.load" do
      ActiveSupport.on_load(:active_record) do
        require "assistant_chat_native/processing_lock"
      end
      require "assistant_chat_native/broadcaster"
      require "assistant_chat_native/worker"
      AssistantChatNative::Worker.enable_status_reporting!
    end

    initializer "assistant_chat_native.logger", after: :initialize_logger do
      AssistantChatNative::Worker.settings.logger ||= ::Rails.logger
    end

    rake_tasks do
      root = File.expand_path("../..", __dir__)
      Dir[File.join(root, "rakelib", "bench*.rake")].sort.each { |file| load file }
    end

    generators do
      require "generators/assistant_chat_native/install/install_generator"
    end
  end
end
