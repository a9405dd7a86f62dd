# frozen_string_literal: true

require "active_support/core_ext/string/inflections"

module AssistantChatNative
  module Generators
    # What the install generator finds in the app it installs into: the names of
    # its conversation, sender and message models, the messages table and its
    # columns, and whether the conversation model already has the seed's lock
    # methods.
    #
    # It reads the app itself (its loaded classes and its database) when the
    # generator runs inside that app (`bin/rails generate`, Rails.root is the
    # destination), and otherwise what the files say: app/models/*.rb and
    # db/schema.rb. Options the generator was given win over both.
    class HostApp
      # The methods the seed's worker calls on its conversation.
      LOCK_METHODS = %w[processing_lock_key acquire_processing_lock! force_processing_lock!
        release_processing_lock! track_error!].freeze
      # The columns the message hooks store, and their types when the generator adds them.
      MESSAGE_COLUMNS = {"role" => :string, "content" => :text, "job_id" => :string, "transcript" => :text,
                         "status" => :string, "model" => :string, "continuation_state" => :text}.freeze
      # Names an existing messages table may use for what the hooks call role,
      # content and job_id (a table with any of these is mapped to it, not given a
      # duplicate). The others are the gem's own and are added when missing.
      COLUMN_SYNONYMS = {"content" => %w[body text message], "role" => %w[author_role sender_role],
                         "job_id" => %w[jid]}.freeze

      def initialize(root:, conversation_model: nil, message_model: nil, sender_model: nil)
        @root = root
        @conversation_option = conversation_model.presence&.camelize
        @message_option = message_model.presence&.camelize
        @sender_option = sender_model.presence&.camelize
      end

      # AssistantConversation when the app has it (the seed's name), else Conversation.
      def conversation_model
        @conversation_option || (model?("AssistantConversation") ? "AssistantConversation" : "Conversation")
      end

      # Party when the app has it (the seed's sender), else User.
      def sender_model
        @sender_option || (model?("Party") ? "Party" : "User")
      end

      # The option, else the conversation model's has_many for messages, else an
      # existing AssistantMessage-style or Message model, else Message.
      def message_model
        @message_option || message_association&.fetch(:class_name) ||
          [conversation_model.sub(/Conversation\z/, "Message"), "Message"].uniq.find { |name| model?(name) } || "Message"
      end

      def conversations_table
        live_class(conversation_model)&.table_name || conversation_model.tableize.tr("/", "_")
      end

      def messages_table
        live_class(message_model)&.table_name || message_model.tableize.tr("/", "_")
      end

      # The messages column that points at the conversation.
      def message_foreign_key
        association = message_association
        return association[:foreign_key] if association && association[:class_name] == message_model

        "#{conversation_model.demodulize.underscore}_id"
      end

      # Whether the messages table exists (in the database, or in db/schema.rb).
      def messages_table?
        !existing_message_columns.nil?
      end

      # Hook names whose column the existing table calls otherwise, e.g. {"content" => "body"}.
      def message_columns
        return {} unless messages_table?

        MESSAGE_COLUMNS.keys.each_with_object({}) do |name, mapped|
          next if existing_message_columns.include?(name)

          synonym = COLUMN_SYNONYMS.fetch(name, []).find { |candidate| existing_message_columns.include?(candidate) }
          mapped[name] = synonym if synonym
        end
      end

      # The columns the hooks need that the existing table lacks (name => type);
      # every one of them when the table does not exist yet.
      def missing_message_columns
        return MESSAGE_COLUMNS unless messages_table?

        MESSAGE_COLUMNS.reject { |name, _type| existing_message_columns.include?(name) || message_columns.key?(name) }
      end

      # The column the hooks use for name, in the existing table's own words.
      def message_column(name)
        message_columns.fetch(name, name)
      end

      # True when the conversation model exists and defines (or includes) every
      # method the worker calls for its lock.
      def conversation_locks?
        klass = live_class(conversation_model)
        return LOCK_METHODS.all? { |name| klass.method_defined?(name) } if klass

        source = model_source(conversation_model)
        return false unless source
        return true if source.include?("AssistantChatNative::ProcessingLock")

        LOCK_METHODS.all? { |name| source.match?(/def\s+#{Regexp.escape(name)}(?=[\s(;]|\z)/) }
      end

      def model_path(name)
        "app/models/#{name.underscore}.rb"
      end

      def model?(name)
        File.exist?(File.join(@root, model_path(name))) || !live_class(name).nil?
      end

      private

      # The conversation model's has_many whose name or class says messages:
      # {name:, class_name:, foreign_key:}.
      def message_association
        return @message_association if defined?(@message_association)

        @message_association = live_message_association || written_message_association
      end

      def live_message_association
        klass = live_class(conversation_model)
        return nil unless klass.respond_to?(:reflect_on_all_associations)

        reflection = klass.reflect_on_all_associations(:has_many).find do |candidate|
          !candidate.options[:through] && (candidate.class_name.end_with?("Message") || candidate.name.to_s.end_with?("messages"))
        end
        reflection && {name: reflection.name.to_s, class_name: reflection.class_name, foreign_key: reflection.foreign_key.to_s}
      end

      # `has_many :assistant_messages` (with class_name: and foreign_key: when given) in the model's file.
      def written_message_association
        source = model_source(conversation_model)
        return nil unless source

        source.each_line do |line|
          match = line.match(/^\s*has_many\s+:(\w*messages)\b(.*)$/)
          next unless match

          options = match[2]
          class_name = options[/class_name:\s*["']([\w:]+)["']/, 1] || match[1].classify
          foreign_key = options[/foreign_key:\s*[:"'](\w+)/, 1] || "#{conversation_model.demodulize.underscore}_id"
          return {name: match[1], class_name: class_name, foreign_key: foreign_key}
        end
        nil
      end

      def model_source(name)
        path = File.join(@root, model_path(name))
        File.exist?(path) ? File.read(path) : nil
      end

      # The messages table's column names; nil when the table does not exist.
      def existing_message_columns
        return @existing_message_columns if defined?(@existing_message_columns)

        @existing_message_columns = live? ? database_columns(messages_table) : schema_columns(messages_table)
      end

      def database_columns(table)
        ActiveRecord::Base.connection_pool.with_connection do |connection|
          connection.table_exists?(table) ? connection.columns(table).map(&:name) : nil
        end
      rescue ActiveRecord::ActiveRecordError
        schema_columns(table)
      end

      # The table's columns as db/schema.rb lists them.
      def schema_columns(table)
        path = File.join(@root, "db", "schema.rb")
        return nil unless File.exist?(path)

        block = File.read(path)[/create_table\s+"#{Regexp.escape(table)}"[^\n]*\n(.*?)^\s*end\b/m, 1]
        block && ["id", *block.scan(/^\s*t\.\w+\s+"(\w+)"/).flatten]
      end

      # The app's class of that name, when the generator runs inside that app.
      def live_class(name)
        return nil unless live?

        klass = name.safe_constantize
        (klass.is_a?(Class) && defined?(::ActiveRecord::Base) && klass < ::ActiveRecord::Base) ? klass : nil
      end

      # Whether the loaded Rails app is the one being installed into.
      def live?
        return @live if defined?(@live)

        @live = defined?(::Rails.application) && ::Rails.application && defined?(::ActiveRecord::Base) &&
          File.realpath(::Rails.root.to_s) == File.realpath(@root)
      rescue SystemCallError
        @live = false
      end
    end
  end
end
