# frozen_string_literal: true

require "logger"

module AssistantChatNative
  # Every setting the gem reads, with its default. Set them once in an initializer:
  #
  #   AssistantChatNative.configure do |config|
  #     config.stall_timeout = 45
  #     config.retry_base_delay = 2
  #   end
  #
  # Other parts of the gem add their own settings by reopening this class with more
  # attr_accessors and defaults (see #initialize): nothing here depends on the full list.
  class Configuration
    # Streaming (passed to Stream / RubyStream for each request)
    attr_accessor :broadcast_interval,   # seconds between text flushes; 0.1
      :heartbeat_interval,               # seconds between heartbeats; HEARTBEAT_INTERVAL (30)
      :cancel_poll_interval,             # seconds between cancelled? polls; 0.5
      :stall_timeout,                    # seconds without a byte before :stalled; 60
      :connect_timeout,                  # seconds to connect; 10
      :request_timeout,                  # seconds one request may take in all; 600
      :max_event_bytes                   # bytes all event-level buffers of one stream share; 16 MiB

    # Rounds, retries, compaction, escalation (read by Turn)
    attr_accessor :models,               # ModelRegistry; ModelRegistry.default
      :max_attempts,                     # attempts per round, the first included; 3
      :retry_base_delay,                 # seconds before the first retry, doubled each time; 1.0
      :retry_max_delay,                  # cap on one backoff wait; 20.0
      :max_retry_wait,                   # a provider's retry-after above this fails at once; 30
      :max_compaction_retries,           # compactions per turn; MAX_COMPACTION_RETRIES (2)
      :escalation_model,                 # registry key to escalate to; ESCALATION_MODEL
      :compactor,                        # default compaction when the handler has no #compact
      :max_rounds                        # rounds per Turn before status :continue; 10

    attr_writer :stream_class, :logger

    def initialize
      @broadcast_interval = 0.1
      @heartbeat_interval = HEARTBEAT_INTERVAL
      @cancel_poll_interval = 0.5
      @stall_timeout = 60
      @connect_timeout = 10
      @request_timeout = 600
      @max_event_bytes = 16 * 1024 * 1024

      @models = ModelRegistry.default
      @max_attempts = 3
      @retry_base_delay = 1.0
      @retry_max_delay = 20.0
      @max_retry_wait = 30
      @max_compaction_retries = MAX_COMPACTION_RETRIES
      @escalation_model = ESCALATION_MODEL
      @compactor = nil
      @max_rounds = 10

      @stream_class = nil
      @logger = nil
    end

    # The class that streams one request: the C Stream when the extension loaded, RubyStream
    # otherwise. Any class with Stream's constructor and #run(handler) fits.
    def stream_class
      @stream_class || AssistantChatNative.stream_class
    end

    # The drop-in worker's settings (Worker::Settings: rounds and time per job, broadcast
    # intervals, reporter, tool services, the host's models). Loads the worker, and Sidekiq.
    def worker
      Worker.settings
    end

    # Rails.logger inside Rails, else warnings and errors to standard error.
    def logger
      @logger ||= if defined?(::Rails) && ::Rails.respond_to?(:logger) && ::Rails.logger
        ::Rails.logger
      else
        Logger.new($stderr, level: Logger::WARN, progname: "assistant_chat_native")
      end
    end

    # The options Stream.new takes besides provider, url, headers and body.
    def stream_options
      {broadcast_interval: broadcast_interval, heartbeat_interval: heartbeat_interval,
       cancel_poll_interval: cancel_poll_interval, stall_timeout: stall_timeout,
       connect_timeout: connect_timeout, timeout: request_timeout, max_event_bytes: max_event_bytes}
    end
  end
end
