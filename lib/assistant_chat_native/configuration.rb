# frozen_string_literal: true

require "logger"
require_relative "redaction"

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
    attr_accessor :broadcast_interval,   # seconds between text flushes (the reply's only throttle); 0.1
      :heartbeat_interval,               # seconds between heartbeats; HEARTBEAT_INTERVAL (30)
      :cancel_poll_interval,             # seconds between cancelled? polls (the worker's database checks too); 0.5
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
      :max_rounds,                       # rounds per Turn#run (per job, in the worker) before status :continue; 10
      :checkpoint_interval               # seconds between two on_checkpoint calls while text streams; 2.0

    # Transport: TLS trust and plain http (read by Stream / RubyStream and the model registry)
    attr_accessor :ca_file,              # PEM bundle of CAs to trust; nil: SSL_CERT_FILE, else the system's
      :ca_path,                          # directory of hashed CA certificates; nil: SSL_CERT_DIR, else the system's
      :allow_plain_http_hosts            # hosts besides loopback that may get an API key over http://; []

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
      @checkpoint_interval = 2.0

      @ca_file = nil
      @ca_path = nil
      @allow_plain_http_hosts = []

      @stream_class = nil
      @logger = nil
    end

    # The class that streams one request: the C Stream when the extension loaded, RubyStream
    # otherwise. Any class with Stream's constructor and #run(handler) fits.
    def stream_class
      @stream_class || AssistantChatNative.stream_class
    end

    # The drop-in worker's own settings (Worker::Settings: time per job, continuations,
    # status lines, reporter, tool services, the host's models), nested here so each
    # setting has one name: the worker reads streaming, rounds and the logger from this
    # Configuration. Loads the worker, and Sidekiq.
    def worker
      @worker ||= Worker::Settings.new(self)
    end

    # The logger set here; else Rails.logger inside Rails, else warnings and errors to
    # standard error.
    def logger
      @logger || rails_logger || (@stderr_logger ||= Logger.new($stderr, level: Logger::WARN, progname: "assistant_chat_native"))
    end

    # The logger set with logger=, nil when none was (the worker then logs through Rails,
    # else where Sidekiq does).
    def configured_logger
      @logger
    end

    # The streaming and turn settings above as plain data, each model as
    # ModelRegistry::Entry#to_h shows it (no API key, base URLs without userinfo or query);
    # the logger, compactor, classes and settings other files add are left out.
    def to_h
      {broadcast_interval: broadcast_interval, heartbeat_interval: heartbeat_interval,
       cancel_poll_interval: cancel_poll_interval, stall_timeout: stall_timeout,
       connect_timeout: connect_timeout, request_timeout: request_timeout, max_attempts: max_attempts,
       retry_base_delay: retry_base_delay, retry_max_delay: retry_max_delay, max_retry_wait: max_retry_wait,
       max_compaction_retries: max_compaction_retries, escalation_model: escalation_model,
       max_rounds: max_rounds, checkpoint_interval: checkpoint_interval, max_event_bytes: max_event_bytes,
       ca_file: ca_file, ca_path: ca_path,
       allow_plain_http_hosts: allow_plain_http_hosts, models: models.map(&:to_h)}
    end

    # What ActiveSupport serializes: #to_h, never the instance variables.
    def as_json(*)
      to_h.except(:models).transform_keys(&:to_s).merge("models" => models.map(&:as_json))
    end

    def to_json(*args)
      as_json.to_json(*args)
    end

    def inspect
      "#<#{self.class.name} models=#{models.map(&:key).join(",")} stream_class=#{stream_class.name}>"
    end

    # The options Stream.new takes besides provider, url, headers and body (ca_file and
    # ca_path only when set, so a custom stream_class without them keeps working).
    def stream_options
      {broadcast_interval: broadcast_interval, heartbeat_interval: heartbeat_interval,
       cancel_poll_interval: cancel_poll_interval, stall_timeout: stall_timeout,
       connect_timeout: connect_timeout, timeout: request_timeout,
       max_event_bytes: max_event_bytes}.merge({ca_file: ca_file, ca_path: ca_path}.compact)
    end

    private

    def rails_logger
      ::Rails.logger if defined?(::Rails) && ::Rails.respond_to?(:logger)
    end
  end
end
