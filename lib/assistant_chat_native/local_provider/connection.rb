# frozen_string_literal: true

require "openssl"
require "socket"

module AssistantChatNative
  class LocalProvider
    # One accepted TCP connection: reads HTTP/1.1 requests from it (bounded
    # header and body sizes, Content-Length or chunked bodies, Expect:
    # 100-continue), writes bytes with a bounded wait, pauses while watching for
    # the client going away, and closes or resets it. Every wait also watches the
    # server's stop pipe, so stopping the server ends it promptly. #start_tls
    # turns it into an HTTPS connection before the first request.
    class Connection
      # The client closed or reset the connection.
      class Disconnected < StandardError; end

      # The server is stopping.
      class Stopped < StandardError; end

      # The request could not be parsed as HTTP/1.1.
      class Malformed < StandardError; end

      MAX_HEADER_BYTES = 64 * 1024
      MAX_BODY_BYTES = 64 * 1024 * 1024
      READ_SIZE = 64 * 1024
      REQUEST_TIMEOUT = 30

      attr_reader :id

      def initialize(socket, id:, wakeup:, write_timeout: 30)
        @socket = socket
        @id = id
        @wakeup = wakeup
        @write_timeout = write_timeout
        @buffer = +"".b
        @watching = true
      end

      # Runs the server side of a TLS handshake (bounded by REQUEST_TIMEOUT); from then
      # on every read and write goes through TLS. Raises Disconnected when the client
      # gives up (it rejected the certificate, say) and Stopped.
      def start_tls(context)
        tls = OpenSSL::SSL::SSLSocket.new(@socket, context)
        tls.sync_close = true
        deadline = Clock.now + REQUEST_TIMEOUT
        loop do
          state = tls.accept_nonblock(exception: false)
          break unless state == :wait_readable || state == :wait_writable

          remaining = deadline - Clock.now
          raise Disconnected, "the TLS handshake did not finish" if remaining <= 0
          ready = IO.select([@wakeup] + ((state == :wait_readable) ? [@socket] : []),
            (state == :wait_writable) ? [@socket] : nil, nil, remaining)
          raise Stopped if ready && ready[0].include?(@wakeup)
        end
        @socket = tls
      rescue OpenSSL::SSL::SSLError, Errno::ECONNRESET, Errno::EPIPE, IOError => e
        raise Disconnected, "TLS handshake failed: #{e.message}"
      end

      # The next request, as a Hash (method:, target:, version:, headers:, body:,
      # keep_alive:), or nil when the client closed the connection or sent nothing
      # for idle_timeout seconds. Raises Malformed and Stopped.
      def read_request(idle_timeout:)
        head = read_head(idle_timeout)
        return nil unless head
        request_line, *header_lines = head.split("\r\n")
        method, target, version = request_line.to_s.split(" ", 3)
        raise Malformed, "bad request line #{request_line.inspect}" unless version&.start_with?("HTTP/1.")
        headers = parse_headers(header_lines)
        write("HTTP/1.1 100 Continue\r\n\r\n") if headers["expect"]&.casecmp?("100-continue")
        body = read_body(headers)
        {method: method, target: target, version: version, headers: headers, body: body,
         keep_alive: keep_alive?(version, headers)}
      rescue Disconnected
        nil
      end

      # Writes all of data or raises Disconnected (also when the client stops
      # reading for write_timeout seconds) or Stopped.
      def write(data)
        deadline = Clock.now + @write_timeout
        data = data.b
        until data.empty?
          written = @socket.write_nonblock(data, exception: false)
          if written == :wait_writable || written == :wait_readable # (TLS may need to read first)
            remaining = deadline - Clock.now
            raise Disconnected, "the client stopped reading" if remaining <= 0
            ready = IO.select([@wakeup] + ((written == :wait_readable) ? [@socket] : []),
              (written == :wait_writable) ? [@socket] : nil, nil, remaining)
            raise Stopped if ready && ready[0].include?(@wakeup)
          else
            data = data.byteslice(written..)
          end
        end
      rescue Errno::EPIPE, Errno::ECONNRESET, Errno::ENOTCONN, Errno::ESHUTDOWN, IOError, OpenSSL::SSL::SSLError => e
        raise Disconnected, e.message
      end

      # Waits for seconds while watching the connection: raises Disconnected when
      # the client closes or resets it, Stopped when the server stops.
      def pause(seconds)
        deadline = Clock.now + seconds
        loop do
          remaining = deadline - Clock.now
          return if remaining <= 0
          ready = IO.select(@watching ? [@socket, @wakeup] : [@wakeup], nil, nil, remaining)
          next unless ready
          raise Stopped if ready[0].include?(@wakeup)
          take_available
        end
      end

      # Closes the connection with a TCP reset (SO_LINGER 0).
      def reset
        @socket.setsockopt(Socket::Option.linger(true, 0))
        close
      rescue IOError, SystemCallError
        close
      end

      def close
        @socket.close unless @socket.closed?
      rescue IOError, SystemCallError
        nil
      end

      def closed?
        @socket.closed?
      end

      private

      # Reads what the client sent (a pipelined request, kept for later) or notices
      # that it went away.
      def take_available
        chunk = @socket.read_nonblock(READ_SIZE, exception: false)
        raise Disconnected, "the client closed the connection" if chunk.nil?
        return if chunk == :wait_readable || chunk == :wait_writable
        @buffer << chunk
        @watching = false if @buffer.bytesize > MAX_HEADER_BYTES + MAX_BODY_BYTES
      rescue Errno::ECONNRESET, Errno::EPIPE, IOError, OpenSSL::SSL::SSLError => e
        raise Disconnected, e.message
      end

      def read_head(idle_timeout)
        deadline = Clock.now + idle_timeout
        until (ending = @buffer.index("\r\n\r\n"))
          raise Malformed, "request head over #{MAX_HEADER_BYTES} bytes" if @buffer.bytesize > MAX_HEADER_BYTES
          return nil unless fill(deadline, allow_eof: true)
          deadline = Clock.now + REQUEST_TIMEOUT unless @buffer.empty?
        end
        head = @buffer.byteslice(0, ending)
        @buffer = @buffer.byteslice((ending + 4)..)
        head
      end

      def parse_headers(lines)
        lines.each_with_object({}) do |line, headers|
          name, value = line.split(":", 2)
          raise Malformed, "bad header line #{line.inspect}" if value.nil? || name.empty?
          key = name.strip.downcase
          headers[key] = headers.key?(key) ? "#{headers[key]}, #{value.strip}" : value.strip
        end
      end

      def read_body(headers)
        if headers["transfer-encoding"]&.downcase&.include?("chunked")
          read_chunked_body
        else
          length = Integer(headers.fetch("content-length", "0"), exception: false)
          raise Malformed, "bad content-length" if length.nil? || length.negative?
          raise Malformed, "body over #{MAX_BODY_BYTES} bytes" if length > MAX_BODY_BYTES
          read_exactly(length)
        end
      end

      def read_chunked_body
        body = +"".b
        loop do
          size_line = read_line
          size = Integer(size_line.split(";", 2).first.strip, 16, exception: false)
          raise Malformed, "bad chunk size #{size_line.inspect}" if size.nil? || size.negative?
          raise Malformed, "body over #{MAX_BODY_BYTES} bytes" if body.bytesize + size > MAX_BODY_BYTES
          if size.zero?
            loop { break if read_line.empty? }
            return body
          end
          body << read_exactly(size)
          read_line
        end
      end

      def read_line
        deadline = Clock.now + REQUEST_TIMEOUT
        until (ending = @buffer.index("\r\n"))
          raise Malformed, "line over #{MAX_HEADER_BYTES} bytes" if @buffer.bytesize > MAX_HEADER_BYTES
          fill(deadline, allow_eof: false)
        end
        line = @buffer.byteslice(0, ending)
        @buffer = @buffer.byteslice((ending + 2)..)
        line
      end

      def read_exactly(length)
        deadline = Clock.now + REQUEST_TIMEOUT
        fill(deadline, allow_eof: false) while @buffer.bytesize < length
        data = @buffer.byteslice(0, length)
        @buffer = @buffer.byteslice(length..)
        data
      end

      # Reads more into the buffer; false on a clean close (when allowed) or on
      # timeout while idle.
      def fill(deadline, allow_eof:)
        loop do
          remaining = deadline - Clock.now
          if remaining <= 0
            return false if allow_eof && @buffer.empty?
            raise Malformed, "the client sent an incomplete request and went quiet"
          end
          # Bytes TLS already decrypted are not seen by select.
          unless pending?
            ready = IO.select([@socket, @wakeup], nil, nil, remaining)
            next unless ready
            raise Stopped if ready[0].include?(@wakeup)
          end
          chunk = @socket.read_nonblock(READ_SIZE, exception: false)
          next if chunk == :wait_readable || chunk == :wait_writable
          if chunk.nil?
            return false if allow_eof && @buffer.empty?
            raise Disconnected, "the client closed the connection mid-request"
          end
          @buffer << chunk
          return true
        end
      rescue Errno::ECONNRESET, Errno::EPIPE, IOError, OpenSSL::SSL::SSLError => e
        raise Disconnected, e.message
      end

      def pending?
        @socket.respond_to?(:pending) && @socket.pending.positive?
      end

      def keep_alive?(version, headers)
        connection = headers["connection"].to_s.downcase
        return false if connection.include?("close")
        version == "HTTP/1.1" || connection.include?("keep-alive")
      end
    end
  end
end
