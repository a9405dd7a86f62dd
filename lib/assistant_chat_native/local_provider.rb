# frozen_string_literal: true

require "json"
require "uri"
require_relative "providers"

module AssistantChatNative
  # A real HTTP/1.1 server on 127.0.0.1 that speaks the streaming endpoints of
  # Anthropic, OpenAI and Gemini from scripts or recorded streams, with fault
  # injection and request recording. Point a client at #base_url_for(provider)
  # (or #endpoint_for) instead of the provider's URL, in tests, demos and
  # benchmarks.
  #
  #   provider = AssistantChatNative::LocalProvider.start
  #   provider.enqueue(text: "Hello there", usage: {input_tokens: 12, output_tokens: 3})
  #   # ... POST provider.endpoint_for(:anthropic) with {"stream": true, ...}
  #   provider.last_request.json["model"]
  #   provider.stop
  #
  # == Endpoints (the response format follows the path)
  #   POST /v1/messages                                          Anthropic Messages
  #   POST /v1/chat/completions                                  OpenAI Chat Completions
  #   POST /v1beta/models/{model}:streamGenerateContent?alt=sse  Gemini
  #   POST /v1/responses                                         OpenAI Responses
  # Streams are text/event-stream with chunked transfer-encoding; error bodies
  # are Content-Length framed, in the provider's documented error format (for a
  # path no provider answers, a 404 in the format of the provider whose endpoint
  # is nearest). A request that does not ask for a stream (no "stream": true;
  # Gemini's :generateContent) gets the provider's whole JSON response from the
  # same script (of the faults, only status, headers, body, delay, reset_after
  # and keep_alive apply to it). Connections persist between
  # requests (HTTP/1.1 keep-alive) unless the client or a fault closes them.
  #
  # == Which script answers a request
  # The first queued script (#enqueue) whose model:/provider:/match: filters
  # accept the request (each used `times` times), else the #respond_with block's
  # answer, else the default script (#default=, or a short text reply).
  #
  # == Script options (keyword arguments of #enqueue, #default=, #respond_with's answer)
  # Reply:
  #   text:          the reply text, streamed a word (with its whitespace) per delta
  #   tokens:        explicit text pieces, one per delta (instead of text:)
  #   thinking:      thinking text before the reply (Anthropic thinking block,
  #                  Gemini thought parts; OpenAI does not stream reasoning)
  #   signature:     the thinking block's signature_delta (Anthropic)
  #   refusal:       refusal text (OpenAI delta.refusal; Anthropic text with
  #                  stop_reason refusal; Gemini text with finishReason SAFETY)
  #   tool_calls:    [{name:, arguments: Hash or JSON String, id: (optional)}],
  #                  parallel calls in order; arguments streamed in fragments
  #   usage:         {input_tokens:, output_tokens:, cache_read_tokens:,
  #                  cache_write_tokens:, thoughts_tokens:}; unscripted input is
  #                  request bytes / 4, output the number of deltas
  #   stop_reason:   a Symbol (:end_turn, :tool_use, :max_tokens, :stop_sequence,
  #                  :refusal, :pause_turn) mapped to each provider's word, or the
  #                  provider's own String sent as is; by default end_turn, or
  #                  tool_use when there are tool calls
  #   model:, id:    override the echoed model and the message id
  #   pings:         Anthropic ping events after the first block start (default 1)
  #   args_fragment: characters of tool arguments per delta (default 12)
  #   done:          false: OpenAI's stream ends with no `data: [DONE]` after the
  #                  finish_reason (and usage) chunks, as some compatible servers
  #                  do; the body still ends cleanly (default true)
  #   replay:        send a recorded .sse file instead (a path, or a fixture name
  #                  looked up as <fixtures_dir>/<provider>/<name>.sse)
  # Wire:
  #   token_rate:    deltas (replay: events) per second; nil for full speed
  #   chunk_size:    nil: one write per event; Integer: bytes per write (down to
  #                  1); a Range: sizes drawn from it (with seed:); :whole: the
  #                  whole stream in one write. Each write is one HTTP chunk,
  #                  flushed at once (TCP_NODELAY).
  # Faults (see Fault):
  #   status:, headers:, body:   a non-stream HTTP response (non-2xx without
  #                  body: gets the provider's documented error JSON; body: ""
  #                  sends an empty one)
  #   delay:         seconds before the status line
  #   stall_after:   events sent before the stream goes silent (socket held open
  #                  until the client leaves, #stop, or stall_for: seconds, 30)
  #   reset_after:   body bytes sent before a TCP reset (SO_LINGER 0)
  #   close_after:   events sent before a close (FIN) mid chunked body
  #   close_without_terminal: true sends all but the terminal event (Anthropic
  #                  message_stop, Gemini's finishReason chunk; OpenAI's
  #                  finish_reason chunk and all after it, as a close after a
  #                  finish_reason is a whole reply), ends the chunked body and
  #                  closes
  #   error_event:   true or {after: events (1), type:, message:, code:, data:}:
  #                  the provider's mid-stream error event, after which the
  #                  stream ends
  #   keep_alive:    false closes the connection after the response
  #
  # == Requests
  # #requests holds a ReceivedRequest per request received (method, path, query,
  # headers, body, json, provider, model, received_at, connection_id, and as the
  # response goes: status, bytes_sent, outcome, disconnected?). Thread-safe.
  #
  # #stop ends every response in progress (a stalled one included) and leaves
  # no thread and no socket behind. LocalProvider.spawn runs one in a child
  # process (see Spawned); bin/local_provider runs one from the shell.
  class LocalProvider
    autoload :Event, "assistant_chat_native/local_provider/event"
    autoload :ReceivedRequest, "assistant_chat_native/local_provider/received_request"
    autoload :Script, "assistant_chat_native/local_provider/script"
    autoload :Fault, "assistant_chat_native/local_provider/fault"
    autoload :Replay, "assistant_chat_native/local_provider/replay"
    autoload :Connection, "assistant_chat_native/local_provider/connection"
    autoload :Server, "assistant_chat_native/local_provider/server"
    autoload :Responder, "assistant_chat_native/local_provider/responder"
    autoload :Spawned, "assistant_chat_native/local_provider/spawned"
    autoload :CLI, "assistant_chat_native/local_provider/cli"

    CONTROL_PREFIX = "/__local_provider/"

    # Starts a server and returns it once it listens.
    def self.start(**options)
      new(**options).start
    end

    # Starts LocalProvider in a child process (bin/local_provider) and returns a
    # Spawned handle once it listens. See Spawned.
    def self.spawn(**options)
      Spawned.start(**options)
    end

    attr_reader :host, :fixtures_dir

    # host:, port: (0 picks a free port), default: the script for requests
    # nothing else answers, token_rate: and chunk_size: applied to every script
    # that does not set its own, fixtures_dir: where replay names are looked up
    # (default ./spec/fixtures), idle_timeout: seconds an idle persistent
    # connection is kept, max_requests: how many recorded requests are kept (the
    # oldest are dropped past it), log: where to report scripts that cannot be
    # served (an IO, or nil for silence), tls: {cert:, key:} to serve HTTPS with
    # that certificate (see Server).
    def initialize(host: "127.0.0.1", port: 0, default: nil, token_rate: nil, chunk_size: nil,
      fixtures_dir: File.join(Dir.pwd, "spec", "fixtures"), idle_timeout: 30, max_requests: 10_000,
      log: $stderr, tls: nil)
      @host = host
      @tls = tls
      @max_requests = Integer(max_requests)
      @log = log
      @port = port
      @wire_defaults = {token_rate: token_rate, chunk_size: chunk_size}.compact
      @initial_default = default
      @fixtures_dir = fixtures_dir
      @idle_timeout = idle_timeout
      @lock = Mutex.new
      @changed = ConditionVariable.new
      @queue = []
      @requests = []
      @received = 0
      @responder_block = nil
      @default = build_script(default)
      @server = nil
    end

    def start
      @lock.synchronize do
        return self if @server
        @server = Server.new(host: @host, port: @port, handler: method(:handle), idle_timeout: @idle_timeout,
          tls: @tls)
      end
      @server.start
      self
    end

    # Stops accepting, ends every open response (a stalled one included) and
    # joins every thread, within timeout seconds.
    def stop(timeout: 2)
      server = @lock.synchronize { @server.tap { @server = nil } }
      server&.stop(timeout: timeout)
      self
    end

    def running?
      !@server.nil?
    end

    def port
      @server&.port or raise Error, "LocalProvider is not running; call #start first"
    end

    # "http://127.0.0.1:PORT" ("https://" with tls:)
    def url
      "#{@tls ? "https" : "http"}://#{@host}:#{port}"
    end

    # What replaces the provider's documented base URL: for :anthropic
    # (https://api.anthropic.com) and :gemini (https://generativelanguage.googleapis.com)
    # the server's #url; for :openai (https://api.openai.com/v1) #url + "/v1".
    def base_url_for(provider)
      "#{url}#{Providers.fetch(provider).local_prefix}"
    end

    # The full streaming endpoint URL for a provider (Gemini needs the model: "gemini-local"
    # when none is given).
    def endpoint_for(provider, model: nil)
      provider = Providers.fetch(provider)
      "#{base_url_for(provider.name)}#{provider.path(model || "#{provider.name}-local")}"
    end

    # Queues a script for one upcoming request (or `times` requests). Filters:
    # model: (String, Regexp or Array of them), provider: (Symbol or Array),
    # match: (a callable given the ReceivedRequest). Scripts are taken first-in,
    # first-out among those whose filters accept the request.
    #
    #   provider.enqueue(tool_calls: [{name: "search", arguments: {q: "ruby"}}])
    #   provider.enqueue(text: "Found it.")
    #   provider.enqueue(status: 429, headers: {"retry-after" => "1"})
    #   provider.enqueue(model: /haiku/, stall_after: 3)
    def enqueue(script = nil, model: nil, provider: nil, match: nil, times: 1, **options)
      built = build_script(script.nil? ? options : script)
      entry = {script: built, model: model, provider: provider && Array(provider).map(&:to_sym),
               match: match, remaining: Integer(times)}
      @lock.synchronize { @queue << entry }
      self
    end

    # Scripts queued and not yet used.
    def pending
      @lock.synchronize { @queue.sum { |entry| entry[:remaining] } }
    end

    # A block that answers requests the queue does not: given the ReceivedRequest, it
    # returns a script (Hash of options, String text or Script) or nil to fall
    # through to the default. Runs on the connection's thread.
    def respond_with(&block)
      @lock.synchronize { @responder_block = block }
      self
    end

    # The script for requests nothing else answers.
    def default=(script)
      built = build_script(script)
      @lock.synchronize { @default = built }
    end

    # Forgets queued scripts, the respond_with block, the recorded requests and
    # a changed default; the server keeps running (and counting connections).
    def reset
      default = build_script(@initial_default)
      @lock.synchronize do
        @queue.clear
        @requests.clear
        @responder_block = nil
        @default = default
      end
      self
    end

    # Every request received since start (or #reset), oldest first (at most
    # max_requests of them).
    def requests
      @lock.synchronize { @requests.dup }
    end

    def last_request
      @lock.synchronize { @requests.last }
    end

    # Waits (at most timeout seconds) until count requests have arrived; returns #requests.
    def wait_for_requests(count, timeout: 2)
      deadline = Clock.now + timeout
      @lock.synchronize do
        while @requests.size < count
          remaining = deadline - Clock.now
          break if remaining <= 0
          @changed.wait(@lock, remaining)
        end
        @requests.dup
      end
    end

    # TCP connections accepted since start: with persistent connections, fewer
    # than the requests served.
    def connections_accepted
      @server ? @server.connections_accepted : 0
    end

    # TCP connections open right now.
    def open_connections
      @server ? @server.open_connections : 0
    end

    def inspect
      "#<#{self.class.name} #{running? ? url : "stopped"} requests=#{@requests.size} pending=#{pending}>"
    end

    private

    def build_script(value)
      return value if value.is_a?(Script)
      value = {text: value} if value.is_a?(String)
      value = value ? value.transform_keys(&:to_sym) : {}
      value = {text: Script::DEFAULT_TEXT}.merge(value) if value.empty?
      Script.build(@wire_defaults.merge(value))
    end

    def handle(connection, raw)
      path, query_string = raw[:target].split("?", 2)
      return control(connection, raw, path) if path.start_with?(CONTROL_PREFIX)
      provider, model = route(raw[:method], path)
      request = record(method: raw[:method], path: path, query: parse_query(query_string),
        headers: raw[:headers], body: raw[:body], provider: provider, model: model,
        connection_id: connection.id)
      return not_found(connection, raw, request) unless provider
      script = script_for(request)
      Responder.new(connection: connection, request: request, script: script,
        writer: writer_for(provider), keep_alive: raw[:keep_alive], fixtures_dir: @fixtures_dir).call
    rescue Error => e
      fail_request(connection, request, e)
    end

    def route(method, path)
      return nil unless method == "POST"
      provider = Providers.all.find { |candidate| candidate.answers?(path) }
      provider && [provider.name, provider.model_in(path)]
    end

    def parse_query(query_string)
      return {} if query_string.nil? || query_string.empty?
      URI.decode_www_form(query_string).to_h
    rescue ArgumentError
      {}
    end

    def record(**fields)
      @lock.synchronize do
        @received += 1
        request = ReceivedRequest.new(id: @received, **fields)
        @requests << request
        @requests.shift while @requests.size > @max_requests
        @changed.broadcast
        request
      end
    end

    def script_for(request)
      block = nil
      @lock.synchronize do
        entry = @queue.find { |candidate| accepts?(candidate, request) }
        if entry
          entry[:remaining] -= 1
          @queue.delete(entry) if entry[:remaining] <= 0
          return entry[:script]
        end
        block = @responder_block
      end
      answer = call_responder(block, request)
      answer.nil? ? @lock.synchronize { @default } : build_script(answer)
    end

    def call_responder(block, request)
      block&.call(request)
    rescue => e
      raise Error, "the respond_with block raised #{e.class}: #{e.message} (#{e.backtrace&.first})"
    end

    def accepts?(entry, request)
      return false if entry[:provider] && !entry[:provider].include?(request.provider)
      return false if entry[:model] && Array(entry[:model]).none? { |pattern| pattern === request.model }
      return false if entry[:match] && !entry[:match].call(request)
      true
    end

    def writer_for(provider)
      Providers.fetch(provider).writer
    end

    # A request for a path no provider answers: a 404 in the error format of the provider
    # whose endpoint the path is nearest, so that the client's classifier reads it.
    def not_found(connection, raw, request)
      endpoints = Providers.all.map { |provider| "POST #{local_endpoint(provider)}" }
      message = "LocalProvider serves #{Providers.sentence(endpoints, last: "and")}; " \
        "got #{raw[:method]} #{request.path}"
      error_reply(connection, request, 404, message, keep_alive: raw[:keep_alive])
    end

    # A script that cannot be served (a replay file that is missing, say): a 500
    # whose body says why, also printed on stderr.
    def fail_request(connection, request, error)
      @log&.puts "LocalProvider: #{error.message}"
      return false unless request
      error_reply(connection, request, 500, error.message, keep_alive: false)
    end

    # LocalProvider's own error, in the documented error body of the request's provider
    # (of the nearest one when the path named none).
    def error_reply(connection, request, status, message, keep_alive:)
      writer = writer_for(request.provider || nearest_provider(request.path).name)
      script = Script.build(status: status, body: writer.error_body(status, message: message), keep_alive: keep_alive)
      Responder.new(connection: connection, request: request, script: script, writer: writer, keep_alive: keep_alive).call
    end

    # The provider whose endpoint shares the longest beginning with path (the first in
    # Providers' order on a tie).
    def nearest_provider(path)
      Providers.all.max_by do |provider|
        path.each_char.zip(local_endpoint(provider).each_char).take_while { |sent, served| sent == served }.size
      end
    end

    def local_endpoint(provider)
      "#{provider.local_prefix}#{provider.path("{model}")}"
    end

    # The control endpoints that let another process script a spawned LocalProvider.
    def control(connection, raw, path)
      status = 200
      body = case [raw[:method], path.delete_prefix(CONTROL_PREFIX)]
      in ["GET", "health"] then {status: "ok"}
      in ["GET", "requests"] then requests.map(&:to_h)
      in ["GET", "stats"]
        {connections_accepted: connections_accepted, open_connections: open_connections,
         requests: @lock.synchronize { @received }, pending: pending}
      in ["POST", "reset"] then reset && {status: "ok"}
      in ["POST", "enqueue"] then control_enqueue(raw[:body])
      in ["POST", "default"]
        self.default = symbolize(JSON.parse(raw[:body]))
        {status: "ok"}
      else
        status = 404
        {error: {message: "unknown control endpoint #{raw[:method]} #{path}"}}
      end
      control_reply(connection, raw, status, body)
    rescue JSON::ParserError, Error, ArgumentError, TypeError => e
      control_reply(connection, raw, 400, {error: {message: e.message}})
    end

    def control_enqueue(body)
      options = symbolize(JSON.parse(body))
      model = options.delete(:model_filter)
      provider = options.delete(:provider)
      times = options.delete(:times) || 1
      enqueue(model: model, provider: provider, times: times, **options)
      {status: "ok", pending: pending}
    end

    def control_reply(connection, raw, status, body)
      json = JSON.generate(body)
      reason = (status == 200) ? "OK" : "Error"
      keep_alive = raw[:keep_alive]
      connection.write("HTTP/1.1 #{status} #{reason}\r\ncontent-type: application/json\r\n" \
        "content-length: #{json.bytesize}\r\nconnection: #{keep_alive ? "keep-alive" : "close"}\r\n\r\n#{json}")
      keep_alive
    end

    def symbolize(value)
      case value
      when Hash then value.to_h { |key, inner| [key.to_sym, symbolize(inner)] }
      when Array then value.map { |inner| symbolize(inner) }
      else value
      end
    end
  end
end

# Each provider's writer (Providers::Anthropic::Writer, ...), from its folder.
AssistantChatNative::Providers.load_part("writer", into: AssistantChatNative::LocalProvider, old_name: "%sWriter")
