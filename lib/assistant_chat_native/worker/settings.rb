# frozen_string_literal: true

module AssistantChatNative
  class Worker
    # The worker's own settings, with their defaults, nested in the gem's Configuration
    # (config.worker). Streaming, rounds per job, cancellation polls and the logger are
    # the Configuration's (RenamedSettings keeps the old names here working). Set them
    # in an initializer:
    #
    #   AssistantChatNative.configure do |config|
    #     config.max_rounds = 8
    #     config.worker.reporter = ->(error, user_id:, custom_data:) { Honeybadger.notify(error, context: custom_data) }
    #   end
    class Settings
      include RenamedSettings

      # What error_messages may be set to (see #error_messages=).
      ERROR_MESSAGES = %i[redacted generic].freeze

      # Continuation jobs one turn may chain; past it the turn ends with copy that says so.
      attr_accessor :max_continuations
      # Seconds a continuation that finds the conversation busy waits before it runs
      # again (doubling each time), and the most it waits in all before the user is told.
      attr_accessor :continuation_retry_delay, :continuation_busy_wait
      # Seconds one job streams before it hands the rest to a continuation job
      # (keep it under Sidekiq's shutdown timeout times a few).
      attr_accessor :job_deadline
      # Seconds between two tool status lines; nil: the worker class's
      # STATUS_BROADCAST_INTERVAL (the host's Broadcaster module's, when it has one).
      attr_accessor :status_broadcast_interval
      # What a tool's status line calls it (name => label), the prefixes tool
      # services put before tool names, and the tools whose line shows a summary of
      # their arguments; nil: the worker class's TOOL_DISPLAY_NAMES, TOOL_PREFIXES
      # and TOOLS_WITH_SUMMARIES (the host's Broadcaster module's, when it has them).
      attr_accessor :tool_display_names, :tool_prefixes, :tools_with_summaries
      # callable(error, user_id:, custom_data:); nil picks AppSignal, Sentry or the log.
      attr_accessor :reporter
      # callable(stream, payload); nil picks Turbo Streams, Action Cable or the log.
      attr_accessor :delivery
      # The host's models, by name (resolved when a job runs). The conversation class
      # left nil is AssistantConversation when the app defines it (the seed's name),
      # else Conversation; the sender class left nil is Party when the app defines it,
      # else User. A name set here wins.
      attr_accessor :conversation_class, :message_class, :sender_class, :upload_class
      # The messages table's column that points at the conversation.
      attr_accessor :message_foreign_key
      # The messages table's columns where they differ from the names the hooks use
      # (role content job_id transcript status model continuation_state), e.g.
      # {"content" => "body"}; the install generator writes it for an existing table.
      attr_reader :message_columns
      # What the user reads when an error is not one the gem recognises (a host hook's
      # exception, a provider's unclassified words): :redacted (the default) shows the
      # message as the seed did, after Redaction.text removed keys, tokens and credentials
      # and cut it to Redaction::MESSAGE_BYTES; :generic shows ErrorCopy::GENERIC instead.
      attr_reader :error_messages
      # The tool services (see ToolServices).
      attr_reader :tool_services

      # configuration: the Configuration these settings belong to (nil: the gem's).
      def initialize(configuration = nil)
        @configuration = configuration
        @job_deadline = 300
        @max_continuations = 5
        @continuation_retry_delay = 1.0
        @continuation_busy_wait = 600
        @status_broadcast_interval = nil
        @tool_display_names = nil
        @tool_prefixes = nil
        @tools_with_summaries = nil
        @reporter = nil
        @delivery = nil
        @conversation_class = nil
        @message_class = "Message"
        @sender_class = nil
        @upload_class = "Upload"
        @message_foreign_key = "conversation_id"
        @message_columns = {}
        @error_messages = :redacted
        @tool_services = ToolServices.new
      end

      def error_messages=(value)
        unless ERROR_MESSAGES.include?(value)
          raise ConfigurationError, "error_messages must be :redacted or :generic, got #{value.inspect}"
        end

        @error_messages = value
      end

      def message_columns=(columns)
        @message_columns = columns.to_h { |name, column| [name.to_s, column.to_s] }
      end

      # The column that stores what the message hooks call name.
      def message_column(name)
        message_columns.fetch(name.to_s, name.to_s)
      end

      def resolve(name)
        name.is_a?(String) ? Object.const_get(name) : name
      end

      # The conversation model: the configured one, else the seed's or the generator's name.
      def conversation_model
        resolve(conversation_class || first_defined(%w[AssistantConversation Conversation]))
      end

      # The sender model: the configured one, else Party or User; nil when the app has neither.
      def sender_model
        name = sender_class || first_defined(%w[Party User])
        name && resolve(name)
      rescue NameError
        nil
      end

      # The Configuration that holds the settings the old names stand for.
      def configuration
        @configuration || AssistantChatNative.config
      end

      private def first_defined(names)
        names.find { |name| Object.const_defined?(name) } || names.last
      end

      # The Configuration's logger when one was set; else Rails.logger, else the queue's
      # (queue_logger: the job class's; Sidekiq's when none is given).
      def resolved_logger(queue_logger: nil)
        return configuration.configured_logger if configuration.configured_logger
        return ::Rails.logger if defined?(::Rails) && ::Rails.respond_to?(:logger) && ::Rails.logger

        queue_logger || ::Sidekiq.logger
      end
    end
  end
end
