# frozen_string_literal: true

require "uri"
require_relative "tls_trust"
require_relative "redaction"
require_relative "providers"

module AssistantChatNative
  # One LLM request streamed end to end in C: libcurl, the SSE parser, the
  # provider's decoder, the accumulator and the flush throttle all run with the
  # GVL released, so other Ruby threads keep running while replies stream. Ruby
  # is entered only to hand the handler a flush, a tool call's start, a heartbeat
  # or a cancellation poll.
  #
  #   stream = AssistantChatNative::Stream.new(
  #     provider: :anthropic,
  #     url: "https://api.anthropic.com/v1/messages",
  #     headers: {"x-api-key" => key, "anthropic-version" => "2023-06-01"},
  #     body: JSON.generate(model: "claude-sonnet-5-5", max_tokens: 1024, stream: true, messages: [...]))
  #   result = stream.run(handler)   # => AssistantChatNative::Result
  #   stream.cancel                  # from any thread
  #
  # The handler may respond to any of (each is optional, asked once per run):
  #   on_text(accumulated, delta)      text so far and what this flush adds
  #   on_thinking(accumulated, delta)  the same for the model's reasoning
  #   on_tool_call(name, id)           a tool call started (text before it is flushed first)
  #   on_heartbeat(elapsed)            every heartbeat_interval seconds, bytes or not
  #   cancelled?                       asked every cancel_poll_interval seconds; true cancels
  #
  # Every failure (HTTP errors with the provider's words, mid-stream error events,
  # stalls, resets, refused connections, malformed or oversized streams,
  # cancellation) comes back classified in result.failure. #run raises only what
  # the handler raises and interrupts (Thread#raise, Thread#kill, Ctrl-C), after
  # the transfer is torn down and its connection closed.
  #
  # result.stats: {status:, time_to_first_byte:, time_to_first_token:, duration:,
  # bytes:, events:, flushes:, new_connections:} (seconds; nil when there was none;
  # new_connections is 0 when a kept-open connection carried the request, 1 when
  # one was opened for it).
  #
  # #running? is true while #run streams. Connections are kept per thread and reused
  # by later requests to the same host (a forked child starts with fresh ones).
  # Headers (API keys) are copied into C and never shown by #inspect or in errors.
  # An interval or timeout of 0 turns that timer off (broadcast_interval: 0 flushes
  # every delta).
  class Stream
    DEFAULTS = {
      broadcast_interval: 0.1,
      heartbeat_interval: 30,
      cancel_poll_interval: 0.5,
      stall_timeout: 60,
      connect_timeout: 10,
      timeout: 600,
      max_error_body: 1024 * 1024,
      max_event_bytes: 16 * 1024 * 1024,
      max_reply_bytes: 8 * 1024 * 1024
    }.freeze
    # TLS trust, resolved by TLSTrust (nil: SSL_CERT_FILE / SSL_CERT_DIR, else libcurl's default).
    TLS_OPTIONS = %i[ca_file ca_path].freeze

    attr_reader :provider

    # provider:             :anthropic, :openai, :gemini or :openai_responses (the stream's dialect)
    # url:                  the streaming endpoint (http or https; TLS is always verified)
    # headers:              request headers, e.g. the API key; Content-Type defaults to
    #                       application/json and Accept to text/event-stream
    # body:                 the request JSON, a String (it must ask for a stream)
    # broadcast_interval:   seconds between text flushes; the first delta flushes at once
    # heartbeat_interval:   seconds between on_heartbeat calls
    # cancel_poll_interval: seconds between cancelled? calls
    # stall_timeout:        no byte for this long: failure :stalled
    # connect_timeout:      seconds to connect: failure :connection_failed or :timeout
    # timeout:              seconds for the whole request: failure :timeout
    # max_error_body:       bytes of a non-2xx body kept for classification (also
    #                       accepted as max_error_body_bytes:, RubyStream's name)
    # max_event_bytes:      the stream's event budget: bytes all its event-level buffers
    #                       (SSE line, data, event type and id, decoded strings, the
    #                       error body) may hold together; past it: a classified failure
    #                       (:malformed_stream). Event type and id: 256 bytes at most
    # max_reply_bytes:      bytes of the whole reply; past it: the same
    # ca_file:, ca_path:    CA bundle / hashed directory to trust instead of the
    #                       default (SSL_CERT_FILE / SSL_CERT_DIR when not given)
    #
    # Proxies come from the environment, read by libcurl for each request:
    # https_proxy / HTTPS_PROXY, http_proxy, all_proxy / ALL_PROXY, no_proxy / NO_PROXY.
    def initialize(provider:, url:, body:, headers: {}, **options)
      # RubyStream's name for the same bound.
      options[:max_error_body] = options.delete(:max_error_body_bytes) if options.key?(:max_error_body_bytes)
      unknown = options.keys - DEFAULTS.keys - TLS_OPTIONS
      unless unknown.empty?
        raise ArgumentError, "unknown option(s) #{unknown.map(&:inspect).join(", ")}; " \
          "Stream.new takes #{(DEFAULTS.keys + TLS_OPTIONS).map(&:inspect).join(", ")}"
      end
      trust = TLSTrust.resolve(ca_file: options.delete(:ca_file), ca_path: options.delete(:ca_path))
      unless AssistantChatNative.native?
        raise NativeUnavailable, "AssistantChatNative::Stream needs the C extension " \
          "(#{Native.load_error}); use AssistantChatNative.stream_class to fall back to RubyStream"
      end

      settings = DEFAULTS.merge(options)
      @provider = Providers.fetch(provider).name
      @endpoint = Redaction.url(url.to_s)
      configure_native(@provider.to_s, url.to_s, header_lines(headers), body.to_s,
        *settings.values_at(*DEFAULTS.keys))
      configure_tls(trust[:ca_file], trust[:ca_path])
    end

    # Shows where the stream goes, never its headers, and the URL as Redaction.url
    # shows it (Gemini keys may ride in the query, credentials in the userinfo).
    def inspect
      "#<#{self.class.name} provider=#{provider} url=#{@endpoint}#{" running" if running?}>"
    end
    alias_method :to_s, :inspect

    # What ActiveSupport serializes: the same as #inspect shows.
    def as_json(*)
      {"provider" => provider.to_s, "url" => @endpoint}
    end

    def to_json(*args)
      as_json.to_json(*args)
    end

    private

    def header_lines(headers)
      headers.map do |name, value|
        name = name.to_s
        value = value.to_s
        if name.empty? || name.match?(/[\s:]/) || value.match?(/[\r\n\0]/)
          raise ArgumentError, "header #{name.inspect} is not a valid HTTP header (line break, " \
            "colon or space in its name, or a line break in its value)"
        end
        "#{name}: #{value}"
      end
    end
  end
end
