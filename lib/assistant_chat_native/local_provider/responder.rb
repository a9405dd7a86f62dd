# frozen_string_literal: true

require "time"

module AssistantChatNative
  class LocalProvider
    # Sends one Script's response on a Connection: the delay, then either a fixed
    # body (Content-Length) or a chunked text/event-stream with the events paced
    # by the token rate, cut into the chosen write sizes, and the faults applied.
    # Records on the ReceivedRequest what was sent and how the response ended; returns
    # true when the connection can serve another request.
    class Responder
      REASONS = {200 => "OK", 400 => "Bad Request", 401 => "Unauthorized", 402 => "Payment Required",
                 403 => "Forbidden", 404 => "Not Found", 408 => "Request Timeout",
                 413 => "Payload Too Large", 422 => "Unprocessable Entity", 429 => "Too Many Requests",
                 500 => "Internal Server Error", 502 => "Bad Gateway", 503 => "Service Unavailable",
                 504 => "Gateway Timeout", 529 => "Site Overloaded"}.freeze

      def initialize(connection:, request:, script:, writer:, keep_alive:, fixtures_dir: nil)
        @connection = connection
        @request = request
        @script = script
        @fault = script.fault
        @writer = writer
        # A response that ends with a planned close says so ("connection: close");
        # the abrupt faults (reset, close_after, stall) announce keep-alive, as
        # the provider would have until its connection failed.
        @keep_alive = keep_alive && @fault.keep_alive? && !@fault.close_without_terminal?
        @fixtures_dir = fixtures_dir
        @body_bytes = 0
        @random = Random.new(script.seed)
      end

      def call
        @connection.pause(@fault.delay) if @fault.delay.positive?
        return send_fixed if @script.fixed_body?
        return send_message if !@request.streaming? && !@script.replay
        send_stream
      rescue Connection::Disconnected
        finish(:disconnected)
      rescue Connection::Stopped
        finish(:stopped)
      end

      private

      def send_fixed
        body = @fault.body || @writer.error_body(@fault.status)
        headers = {"content-type" => "application/json"}.merge(@fault.headers)
        headers["content-length"] = body.bytesize.to_s
        write_head(@fault.status, headers)
        return false unless write_body(body)
        finish(:completed)
      end

      # The whole reply as one JSON document, for a request that did not ask for a stream.
      def send_message
        body = @writer.message(@script, @request)
        headers = {"content-type" => "application/json", "content-length" => body.bytesize.to_s}
        write_head(@fault.status, headers.merge(@writer.response_headers(@request)).merge(@fault.headers))
        return false unless write_body(body)
        finish(:completed)
      end

      def send_stream
        events = stream_events
        write_head(@fault.status, {"content-type" => @writer.content_type, "cache-control" => "no-cache",
                                   "transfer-encoding" => "chunked"}.merge(@writer.response_headers(@request))
                                                                    .merge(@fault.headers))
        cut = [@fault.stall_after, @fault.close_after].compact.min
        return false unless write_events(cut ? events.first(cut) : events)
        if @fault.stall_after && cut == @fault.stall_after
          @connection.pause(@fault.stall_for)
          return close(:stalled)
        end
        return close(:closed) if @fault.close_after && cut == @fault.close_after
        @connection.write("0\r\n\r\n")
        return close(:closed) if @fault.close_without_terminal?
        finish(:completed)
      end

      def stream_events
        events = if @script.replay
          Replay.events(@script.replay, provider: @writer.provider, fixtures_dir: @fixtures_dir)
        else
          @writer.events(@script, @request)
        end
        events = events.reject(&:terminal) if @fault.close_without_terminal?
        if (error = @fault.error_event)
          events = events.first(error[:after]) + [@writer.error_event(error)]
        end
        events
      end

      # Writes the events, pacing the paced ones at the token rate; false when a
      # reset fault cut the connection.
      def write_events(events)
        rate = @script.token_rate
        size = @script.chunk_size
        if size == :whole || (rate.nil? && size)
          return write_body(events.map(&:data).join, size)
        end
        started = Clock.now
        paced = 0
        events.each do |event|
          if rate && event.paced
            wait = started + paced / rate - Clock.now
            @connection.pause(wait) if wait.positive?
            paced += 1
          end
          return false unless write_body(event.data, size)
        end
        true
      end

      # Writes body bytes as HTTP chunks of at most `size` bytes (a Range: sizes
      # drawn from it with the script's seed), or raw for a Content-Length body;
      # stops with a reset at the reset_after byte.
      def write_body(bytes, size = nil)
        limit = @fault.reset_after
        bytes = bytes.byteslice(0, [limit - @body_bytes, 0].max) if limit && @body_bytes + bytes.bytesize >= limit
        size = bytes.bytesize if size.nil? || size == :whole
        offset = 0
        while offset < bytes.bytesize
          piece = bytes.byteslice(offset, size.is_a?(Range) ? @random.rand(size) : size)
          @connection.write(@chunked ? "#{piece.bytesize.to_s(16)}\r\n#{piece}\r\n" : piece)
          offset += piece.bytesize
          @body_bytes += piece.bytesize
          @request.record_bytes(piece.bytesize)
        end
        return true unless limit && @body_bytes >= limit
        @request.finish(:reset)
        @connection.reset
        false
      end

      def write_head(status, headers)
        @chunked = headers["transfer-encoding"] == "chunked"
        headers = headers.merge("connection" => @keep_alive ? "keep-alive" : "close",
          "date" => Time.now.httpdate)
        head = "HTTP/1.1 #{status} #{REASONS.fetch(status, "Status #{status}")}\r\n"
        headers.each { |name, value| head << "#{name}: #{value}\r\n" }
        head << "\r\n"
        @connection.write(head)
        @request.record_status(status)
      end

      # Records the outcome first, so a client that sees the close finds it recorded.
      def close(outcome)
        @request.finish(outcome)
        @connection.close
        false
      end

      def finish(outcome)
        @request.finish(outcome)
        outcome == :completed && @keep_alive && !@connection.closed?
      end
    end
  end
end
