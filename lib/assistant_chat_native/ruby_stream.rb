# frozen_string_literal: true

require "uri"

require_relative "tls_trust"
require_relative "redaction"

require_relative "ruby_stream/limits"
require_relative "ruby_stream/throttle"
require_relative "ruby_stream/inbox"
require_relative "ruby_stream/proxy_env"
require_relative "ruby_stream/transfer"
require_relative "ruby_stream/sse_reader"
require_relative "providers"
require_relative "ruby_stream/normalizer"
# Each provider's normalizer (Providers::Anthropic::Normalizer, ...), from its folder.
AssistantChatNative::Providers.load_part("normalizer", into: AssistantChatNative::RubyStream, old_name: "%sNormalizer")
require_relative "ruby_stream/accumulator"
require_relative "ruby_stream/fallback_classifier"
require_relative "ruby_stream/failure_builder"
require_relative "ruby_stream/run"

module AssistantChatNative
  # The same API and the same Result as Stream, in plain Ruby: Net::HTTP streaming,
  # the event_stream_parser gem and JSON.parse. It is the benchmark baseline, the
  # oracle the C Stream is tested against, and the fallback when the extension
  # cannot load (or ASSISTANT_CHAT_NATIVE_PURE=1).
  #
  #   stream = AssistantChatNative::RubyStream.new(provider: :anthropic, url:, headers:, body:)
  #   result = stream.run(handler)   # => Result; stream.cancel from any thread
  #
  # The socket is read in a helper thread; the handler is called on the caller's
  # thread, which also keeps the timers (heartbeat, cancellation poll, pending text,
  # stall, overall timeout) while no byte arrives. Failures come back classified in
  # result.failure; run raises only what the handler raises and interrupts
  # (Thread#raise, Thread#kill), after the connection is closed.
  class RubyStream
    DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024
    DEFAULT_MAX_ERROR_BODY = 1024 * 1024
    DEFAULT_MAX_REPLY_BYTES = 8 * 1024 * 1024
    # Bytes the reading thread may queue ahead of a slow handler.
    INBOX_BYTES = 1024 * 1024

    def initialize(provider:, url:, body:, headers: {}, broadcast_interval: 0.1, heartbeat_interval: 30,
      cancel_poll_interval: 0.5, stall_timeout: 60, connect_timeout: 10, timeout: 600,
      max_event_bytes: DEFAULT_MAX_EVENT_BYTES, max_error_body: DEFAULT_MAX_ERROR_BODY,
      max_reply_bytes: DEFAULT_MAX_REPLY_BYTES, ca_file: nil, ca_path: nil)
      provider = Providers.fetch(provider).name

      @options = {
        provider: provider, url: checked_url(url), headers: checked_headers(headers), body: body.to_s,
        broadcast_interval: positive(:broadcast_interval, broadcast_interval, zero: true),
        heartbeat_interval: positive(:heartbeat_interval, heartbeat_interval),
        cancel_poll_interval: positive(:cancel_poll_interval, cancel_poll_interval),
        stall_timeout: positive(:stall_timeout, stall_timeout),
        connect_timeout: positive(:connect_timeout, connect_timeout),
        timeout: positive(:timeout, timeout),
        max_event_bytes: Integer(max_event_bytes), max_error_body: Integer(max_error_body),
        max_reply_bytes: Integer(max_reply_bytes),
        **TLSTrust.resolve(ca_file: ca_file, ca_path: ca_path)
      }.freeze
      @cancelled = false
      @inbox = nil
    end

    def provider
      @options[:provider]
    end

    # Streams the request, calling the handler as text arrives; returns a Result.
    def run(handler)
      @inbox = RubyStream::Inbox.new(max_bytes: INBOX_BYTES)
      Run.new(stream: self, options: @options, handler: handler, inbox: @inbox).call
    end

    # Asks a running (or the next) run to stop; safe from any thread. The Result's
    # failure is then :cancelled.
    def cancel
      @cancelled = true
      @inbox&.wake
      nil
    end

    def cancel_requested?
      @cancelled
    end

    # Never shows headers or the body, and the URL only as Redaction.url shows it
    # (userinfo and query may hold secrets).
    def inspect
      "#<#{self.class.name} provider=#{provider} url=#{Redaction.url(@options[:url])}>"
    end
    alias_method :to_s, :inspect

    # What ActiveSupport serializes: the same, never the options (headers hold the key).
    def as_json(*)
      {"provider" => provider.to_s, "url" => Redaction.url(@options[:url])}
    end

    def to_json(*args)
      as_json.to_json(*args)
    end

    private

    # The URL must be http(s) with a host; the message never repeats its path or query.
    def checked_url(url)
      uri = URI.parse(url.to_s)
      return url.to_s if %w[http https].include?(uri.scheme) && uri.host && !uri.host.empty?

      raise ConfigurationError, "url must be an http:// or https:// URL with a host (scheme #{uri.scheme.inspect})"
    rescue URI::InvalidURIError
      raise ConfigurationError, "url is not a valid URL; pass the provider's streaming endpoint"
    end

    # Header values may be API keys: a bad one is named, never shown.
    def checked_headers(headers)
      headers.to_h.to_h do |name, value|
        if "#{name}#{value}".match?(/[\r\n]/)
          raise ConfigurationError, "header #{name.to_s.gsub(/[\r\n]/, "").inspect} contains a line break; remove it"
        end

        [name.to_s, value.to_s]
      end
    end

    def positive(name, value, zero: false)
      number = Float(value)
      return number if number.positive? || (zero && number.zero?)

      raise ConfigurationError, "#{name} must be a positive number of seconds, got #{value.inspect}"
    end
  end
end
