# frozen_string_literal: true

require "json"
require "cgi"
require_relative "broadcaster/stream_name"

module AssistantChatNative
  # Sends what a turn shows the browser: the growing reply, tool status lines, the
  # lock state, errors and the final reply. Each broadcast is a Hash with `type`
  # (:chunk, :thinking, :status, :lock, :error, :complete) and its data; the
  # worker's `render_broadcast` hook turns it into what goes on the wire.
  #
  # The reply goes out append-only, so a turn's bytes grow with its length, not its
  # square: each :chunk carries only the new text (`delta`) and where it starts
  # (`offset`, in UTF-16 code units: what a browser's String#length counts). A chunk
  # at offset 0 starts the reply over: the first of a job, and the re-sync after a
  # retry dropped text already shown. :complete carries the whole text once.
  #
  # Delivery, by what the app has loaded, to StreamName.for(stream) (the name
  # `turbo_stream_from` subscribes to):
  #   turbo-rails   Turbo::StreamsChannel.broadcast_stream_to(stream, content: html)
  #   Action Cable  ActionCable.server.broadcast(stream, payload)
  #   neither       one log line per broadcast
  #
  # Reply chunks arrive already throttled by Stream (its broadcast_interval) and
  # by the worker; status lines are throttled here, at most one every
  # STATUS_BROADCAST_INTERVAL seconds (a waiting one goes out with the next
  # broadcast of another kind, or when the turn ends).
  class Broadcaster
    # Seconds between two tool status lines.
    STATUS_BROADCAST_INTERVAL = 1.0

    # Tools whose status line shows a short summary of their arguments (the query,
    # the search terms) rather than the tool's name alone.
    TOOLS_WITH_SUMMARIES = %w[query_database search_content run_report].freeze

    # What the status line calls each tool; others are humanized from their name.
    TOOL_DISPLAY_NAMES = {
      "query_database" => "Querying the database",
      "search_content" => "Searching content",
      "run_report" => "Running a report",
      "list_tables" => "Looking at the tables",
      "describe_table" => "Reading a table's columns"
    }.freeze

    # Prefixes the tool services put before their tool names (service key =>
    # prefix); the status line strips them.
    TOOL_PREFIXES = {
      "content" => "content_",
      "app_db" => "app_db_"
    }.freeze

    SUMMARY_LIMIT = 80
    TURBO_STREAM_CLOSE = "</template></turbo-stream>"

    attr_reader :stream, :target, :counts, :offset

    # stream:   a record, an array of streamables, or a String (see StreamName)
    # target:   the DOM ids' prefix; nil: StreamName.target(stream), e.g. "conversation_42"
    # renderer: callable(Hash) => the payload to send (String HTML for Turbo), or nil for
    #           the default rendering
    # delivery: callable(stream, payload), or nil to pick Turbo, Action Cable or the log
    # clock:    callable => monotonic seconds
    def initialize(stream:, target: nil, renderer: nil, delivery: nil, logger: nil,
      status_interval: STATUS_BROADCAST_INTERVAL,
      clock: -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) })
      @stream = StreamName.for(stream)
      @target = target || StreamName.target(stream)
      @offset = 0
      @renderer = renderer
      @logger = logger
      @delivery = delivery || self.class.default_delivery(logger: logger)
      @status_interval = status_interval
      @clock = clock
      @last_status_at = nil
      @held_status = nil
      @status_showing = false
      @counts = Hash.new(0)
    end

    # The reply's next piece, after what earlier chunks sent.
    def chunk(delta)
      start = @offset
      @offset += self.class.utf16_length(delta)
      deliver(type: :chunk, delta: delta, offset: start)
    end

    # The whole reply so far, in place of what was shown (a chunk at offset 0).
    def reset_reply(text)
      @offset = 0
      chunk(text)
    end

    def thinking(text)
      deliver(type: :thinking, text: text)
    end

    # A tool status line, throttled. Returns true when it went out now.
    def status(line)
      now = @clock.call
      if @last_status_at && now - @last_status_at < @status_interval
        @held_status = line
        return false
      end
      @last_status_at = now
      @held_status = nil
      deliver(type: :status, text: line)
      true
    end

    # Sends the status line held back by the throttle, if any, once its interval passed.
    def flush_status(force: false)
      return false unless @held_status
      return false if !force && @last_status_at && @clock.call - @last_status_at < @status_interval

      line = @held_status
      @held_status = nil
      @last_status_at = @clock.call
      deliver(type: :status, text: line)
      true
    end

    def lock_state(locked:)
      deliver(type: :lock, locked: locked)
    end

    def error(message)
      @held_status = nil
      deliver(type: :error, text: message)
    end

    # The whole reply, once. message: the persisted row, for a renderer that shows the
    # host's partial (Action Cable payloads carry its message_id instead).
    def complete(text, **extra)
      @held_status = nil
      deliver(type: :complete, text: text, **extra)
    end

    # With turbo-rails, the element that empties the status target when a tool status
    # line is showing, else "": the final reply and an error end the turn, and a status
    # line left on the page would say a tool still runs. The default rendering of
    # :complete and :error ends with it; a renderer that draws its own final reply
    # (Worker::Hooks#render_broadcast) appends it.
    def clear_status_html
      return "" unless @status_showing && defined?(::Turbo::StreamsChannel)

      @status_showing = false
      turbo_stream("update", "status", "")
    end

    # A String's length as JavaScript counts it: UTF-16 code units, two for each
    # character outside the Basic Multilingual Plane.
    def self.utf16_length(text)
      return text.bytesize if text.ascii_only?

      text.length + text.count("\u{10000}-\u{10FFFF}")
    end

    # The status line for a tool call, e.g. "Querying the database: SELECT state, ..."
    # The tables default to this class's constants; a worker passes its own. Names
    # may be Strings or Symbols, and prefixes a Hash (service => prefix) or a list.
    def self.status_line(name, arguments = {}, display_names: TOOL_DISPLAY_NAMES, prefixes: TOOL_PREFIXES,
      with_summaries: TOOLS_WITH_SUMMARIES)
      base = strip_prefix(name.to_s, prefixes)
      label = display_names[base] || display_names[base.to_sym] || humanize(base)
      return label unless with_summaries.any? { |tool| tool.to_s == base }

      summary = summarize(arguments)
      summary.empty? ? label : "#{label}: #{summary}"
    end

    def self.strip_prefix(name, prefixes = TOOL_PREFIXES)
      list = prefixes.respond_to?(:values) ? prefixes.values : Array(prefixes)
      prefix = list.map(&:to_s).find { |candidate| !candidate.empty? && name.start_with?(candidate) }
      prefix ? name.delete_prefix(prefix) : name
    end

    def self.humanize(name)
      words = name.tr("_", " ").strip
      words.empty? ? "Working" : "Running #{words}"
    end

    def self.summarize(arguments)
      value = arguments.is_a?(Hash) ? arguments.values.find { |v| v.is_a?(String) && !v.strip.empty? } : nil
      text = value.to_s.gsub(/\s+/, " ").strip
      (text.length > SUMMARY_LIMIT) ? "#{text[0, SUMMARY_LIMIT - 1]}…" : text
    end

    # Turbo Streams when turbo-rails is loaded, else Action Cable, else the log.
    def self.default_delivery(logger: nil)
      if defined?(::Turbo::StreamsChannel)
        ->(stream, payload) { ::Turbo::StreamsChannel.broadcast_stream_to(stream, content: payload.to_s) }
      elsif defined?(::ActionCable) && ::ActionCable.respond_to?(:server)
        ->(stream, payload) { ::ActionCable.server.broadcast(stream, payload) }
      else
        log = logger || AssistantChatNative::Broadcaster.fallback_logger
        ->(stream, payload) { log.info("[AssistantChatNative] broadcast #{stream}: #{payload.to_json[0, 200]}") }
      end
    end

    def self.fallback_logger
      if defined?(::Rails) && ::Rails.respond_to?(:logger) && ::Rails.logger
        ::Rails.logger
      else
        require "logger"
        @fallback_logger ||= Logger.new($stderr)
      end
    end

    private

    def deliver(payload)
      flush_status(force: false) unless payload[:type] == :status
      @counts[payload[:type]] += 1
      # Thinking text shows in the status target too (default_render).
      @status_showing = !payload[:text].to_s.empty? if payload[:type] == :status || payload[:type] == :thinking
      @delivery.call(@stream, @renderer&.call(payload) || default_render(payload))
      payload
    end

    # Without turbo-rails: the Hash itself (Action Cable sends it as JSON), the
    # message row as its id. With it: a <turbo-stream> element; a chunk appends to the
    # reply (or updates it, at offset 0), the final reply updates it whole, and it
    # and an error empty the status line (clear_status_html).
    def default_render(payload)
      return action_cable_payload(payload) unless defined?(::Turbo::StreamsChannel)

      case payload[:type]
      when :chunk
        turbo_stream(payload[:offset].zero? ? "update" : "append", "reply", payload[:delta])
      when :complete
        turbo_stream("update", "reply", payload[:text]) + clear_status_html
      when :status, :thinking
        turbo_stream("update", "status", payload[:text])
      when :error
        turbo_stream("update", "error", payload[:text]) + clear_status_html
      when :lock
        turbo_stream("update", "lock", payload[:locked] ? "processing" : "")
      else
        ""
      end
    end

    # Built per flush, so from frozen pieces: the element's opening tag per action and
    # part once per broadcaster, the text escaped by CGI.escapeHTML (C; the same five
    # characters as ERB::Util.html_escape, without a SafeBuffer).
    def turbo_stream(action, part, text)
      opening = (@openings ||= {})[[action, part]] ||=
        %(<turbo-stream action="#{action}" target="#{@target}_#{part}"><template>).freeze
      "#{opening}#{CGI.escapeHTML(text.to_s)}#{TURBO_STREAM_CLOSE}"
    end

    def action_cable_payload(payload)
      return payload unless payload.key?(:message)

      message = payload[:message]
      payload.except(:message).merge(message_id: message.respond_to?(:id) ? message.id : nil)
    end
  end
end
