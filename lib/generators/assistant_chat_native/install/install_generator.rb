# frozen_string_literal: true

require "rails/generators"
require "rails/generators/active_record"
require_relative "host_app"
require_relative "worker_advice"

module AssistantChatNative
  module Generators
    # rails generate assistant_chat_native:install [--queue=active_job]
    #
    # Fits the gem to the app it runs in (HostApp finds its names) and writes
    # down what it found in config/initializers/assistant_chat_native.rb: the
    # conversation model (AssistantConversation when the app has it, else
    # Conversation), the sender model (Party, else User), the messages model, its
    # table, foreign key and columns. Its migration adds only what is missing:
    # the processing-lock columns on the conversations table, and on an existing
    # messages table the columns the worker's hooks need and it lacks (a column
    # the app names otherwise, body for content, is mapped instead); it creates
    # the tables only when absent. The worker file (app/workers; with
    # --queue=active_job the ActiveJob class, app/jobs) is written when the app has
    # none, else left alone with what to change printed. The conversation model
    # gets AssistantChatNative::ProcessingLock only when it lacks the seed's lock
    # methods.
    class InstallGenerator < Rails::Generators::Base
      include Rails::Generators::Migration

      source_root File.expand_path("templates", __dir__)

      class_option :conversation_model, type: :string,
        desc: "The model whose rows are chat conversations (default: AssistantConversation when the app has it, else Conversation)"
      class_option :message_model, type: :string,
        desc: "The model whose rows are chat messages (default: the conversation model's has_many for messages, else Message)"
      class_option :sender_model, type: :string,
        desc: "The model of who sends a message (default: Party when the app has it, else User)"
      class_option :worker, type: :string,
        desc: "The name of the worker class (default: AssistantChatWorker, or AssistantChatJob with --queue=active_job)"
      class_option :queue, type: :string, default: "sidekiq", enum: %w[sidekiq active_job],
        desc: "What runs the turns: sidekiq (a Sidekiq worker in app/workers) or active_job " \
          "(an ActiveJob class in app/jobs, for Solid Queue, GoodJob or another adapter)"

      def self.next_migration_number(dirname)
        ActiveRecord::Generators::Base.next_migration_number(dirname)
      end

      def create_initializer
        template "initializer.rb.tt", "config/initializers/assistant_chat_native.rb"
      end

      def create_migration_file
        migration_template "migration.rb.tt", "db/migrate/assistant_chat_native_install.rb"
      end

      def create_or_advise_worker
        return create_job if active_job?

        path = "app/workers/#{worker_class.underscore}.rb"
        full_path = File.join(destination_root, path)
        return template("worker.rb.tt", path) unless File.exist?(full_path)

        advice = WorkerAdvice.new(source: File.read(full_path), worker_class: worker_class, path: path)
        say_status :exist, path, :blue
        advice.lines.each { |line| say line }
      end

      def create_or_update_models
        model_path = host.model_path(conversation_model)
        if !File.exist?(File.join(destination_root, model_path))
          template "conversation.rb.tt", model_path
        elsif host.conversation_locks?
          say_status :identical, "#{model_path} (has the processing lock methods)", :blue
        else
          # Methods the model defines itself still win over the concern's.
          inject_into_class model_path, conversation_model, "  include AssistantChatNative::ProcessingLock\n"
        end
        message_path = host.model_path(message_model)
        template "message.rb.tt", message_path unless host.model?(message_model)
      end

      private

      def host
        @host ||= HostApp.new(root: destination_root, conversation_model: options[:conversation_model],
          message_model: options[:message_model], sender_model: options[:sender_model])
      end

      def conversation_model = host.conversation_model

      def message_model = host.message_model

      def sender_model = host.sender_model

      def conversations_table = host.conversations_table

      def messages_table = host.messages_table

      def conversation_foreign_key = host.message_foreign_key

      def worker_class
        (options[:worker] || (active_job? ? "AssistantChatJob" : "AssistantChatWorker")).camelize
      end

      def active_job?
        options[:queue] == "active_job"
      end

      # The ActiveJob class, unless the app has one by that name (then left alone).
      def create_job
        path = "app/jobs/#{worker_class.underscore}.rb"
        return template("job.rb.tt", path) unless File.exist?(File.join(destination_root, path))

        say_status :exist, path, :blue
        say "#{path} exists and was left as it is. To make it the gem's job, make it inherit from AssistantChatNative::Job."
      end

      def migration_version
        "[#{ActiveRecord::VERSION::MAJOR}.#{ActiveRecord::VERSION::MINOR}]"
      end
    end
  end
end
