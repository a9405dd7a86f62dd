# frozen_string_literal: true

require "rails/generators"
require "rails/generators/active_record"

module AssistantChatNative
  module Generators
    # rails generate assistant_chat_native:install
    #
    # Writes config/initializers/assistant_chat_native.rb (model registry,
    # intervals, tool services), a migration that adds the processing-lock and
    # error columns to the conversations table (and creates conversations and
    # messages when the app has none), the worker subclass
    # app/workers/assistant_chat_worker.rb, and includes
    # AssistantChatNative::ProcessingLock in the conversation model.
    class InstallGenerator < Rails::Generators::Base
      include Rails::Generators::Migration

      source_root File.expand_path("templates", __dir__)

      class_option :conversation_model, type: :string, default: "Conversation",
        desc: "The model whose rows are chat conversations"
      class_option :message_model, type: :string, default: "Message",
        desc: "The model whose rows are chat messages"
      class_option :worker, type: :string, default: "AssistantChatWorker",
        desc: "The name of the worker class to generate"

      def self.next_migration_number(dirname)
        ActiveRecord::Generators::Base.next_migration_number(dirname)
      end

      def create_initializer
        template "initializer.rb.tt", "config/initializers/assistant_chat_native.rb"
      end

      def create_migration_file
        migration_template "migration.rb.tt", "db/migrate/assistant_chat_native_install.rb"
      end

      def create_worker
        template "worker.rb.tt", "app/workers/#{worker_class.underscore}.rb"
      end

      def create_or_update_models
        model_path = "app/models/#{conversation_model.underscore}.rb"
        if File.exist?(File.join(destination_root, model_path))
          inject_into_class model_path, conversation_model, "  include AssistantChatNative::ProcessingLock\n"
        else
          template "conversation.rb.tt", model_path
        end
        message_path = "app/models/#{message_model.underscore}.rb"
        template "message.rb.tt", message_path unless File.exist?(File.join(destination_root, message_path))
      end

      private

      def conversation_model
        options[:conversation_model].camelize
      end

      def message_model
        options[:message_model].camelize
      end

      def worker_class
        options[:worker].camelize
      end

      def conversations_table
        conversation_model.tableize.tr("/", "_")
      end

      def messages_table
        message_model.tableize.tr("/", "_")
      end

      def conversation_foreign_key
        "#{conversation_model.demodulize.underscore}_id"
      end

      def migration_version
        "[#{ActiveRecord::VERSION::MAJOR}.#{ActiveRecord::VERSION::MINOR}]"
      end
    end
  end
end
