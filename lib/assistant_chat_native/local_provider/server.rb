# frozen_string_literal: true

require "openssl"
require "socket"

module AssistantChatNative
  class LocalProvider
    # The HTTP/1.1 server under LocalProvider: a TCPServer on host:port (port 0
    # picks a free one), an accept thread, and one thread per connection that
    # reads requests and hands each to the handler, keeping the connection open
    # between requests while both sides want it (persistent connections).
    #
    # handler.call(connection, raw_request) answers one request and returns true
    # to keep the connection for the next one.
    #
    # #stop closes the listening socket, wakes every wait through a stop pipe,
    # joins every thread within its timeout and kills what is left, so nothing
    # outlives it.
    #
    # tls: {cert:, key:} (OpenSSL objects or PEM strings; chain: extra
    # certificates) serves HTTPS through Ruby's OpenSSL: each connection's
    # handshake runs in its own thread, and a client that rejects the
    # certificate is simply disconnected.
    class Server
      attr_reader :host, :port

      def initialize(host:, port:, handler:, idle_timeout: 30, tls: nil)
        @tls_context = tls && self.class.tls_context(**tls)
        @host = host
        @requested_port = port
        @handler = handler
        @idle_timeout = idle_timeout
        @lock = Mutex.new
        @threads = {}
        @connections = {}
        @accepted = 0
        @listener = nil
      end

      def start
        @listener = TCPServer.new(@host, @requested_port)
        @port = @listener.addr[1]
        @wakeup, @wakeup_writer = IO.pipe
        @accept_thread = Thread.new { accept_loop }
        @accept_thread.name = "local_provider :#{@port} accept"
        @accept_thread.report_on_exception = false
        self
      end

      def running?
        !@listener.nil? && !@stopping
      end

      def tls?
        !@tls_context.nil?
      end

      # An SSLContext serving cert (with chain) and key, TLS 1.2 or newer.
      def self.tls_context(cert:, key:, chain: [])
        context = OpenSSL::SSL::SSLContext.new
        context.min_version = OpenSSL::SSL::TLS1_2_VERSION
        context.cert = cert.is_a?(OpenSSL::X509::Certificate) ? cert : OpenSSL::X509::Certificate.new(cert)
        context.key = key.is_a?(OpenSSL::PKey::PKey) ? key : OpenSSL::PKey.read(key)
        context.extra_chain_cert = chain.map { |c| c.is_a?(OpenSSL::X509::Certificate) ? c : OpenSSL::X509::Certificate.new(c) }
        context.freeze # (SSLContext#freeze returns true, not the context)
        context
      end

      # Number of TCP connections accepted since start.
      def connections_accepted
        @lock.synchronize { @accepted }
      end

      # Number of connections open right now.
      def open_connections
        @lock.synchronize { @connections.size }
      end

      def stop(timeout: 2)
        return self if @listener.nil? || @stopping
        @stopping = true
        @wakeup_writer.write("x")
        deadline = Clock.now + timeout
        join(@accept_thread, deadline)
        threads = @lock.synchronize { @threads.values }
        threads.each { |thread| join(thread, deadline) }
        leftovers = @lock.synchronize { @connections.values }
        leftovers.each(&:close)
        threads.each { |thread| join(thread, Clock.now + 0.5) }
        @listener.close unless @listener.closed?
        @wakeup_writer.close
        @wakeup.close
        self
      end

      private

      def accept_loop
        until @stopping
          ready = IO.select([@listener, @wakeup], nil, nil, 1)
          next unless ready
          break if ready[0].include?(@wakeup)
          accept
        end
      rescue IOError
        nil
      end

      # Accepts one connection; on a transient failure (out of file descriptors,
      # a connection aborted before accept) waits a moment and goes on serving.
      def accept
        socket = @listener.accept_nonblock(exception: false)
        return if socket == :wait_readable
        socket.setsockopt(Socket::IPPROTO_TCP, Socket::TCP_NODELAY, 1)
        serve(socket)
      rescue SystemCallError => e
        socket.close if socket.respond_to?(:close)
        warn "LocalProvider: accept failed (#{e.class}: #{e.message}); retrying"
        IO.select([@wakeup], nil, nil, 0.05)
      end

      def serve(socket)
        @lock.synchronize do
          @accepted += 1
          id = @accepted
          connection = Connection.new(socket, id: id, wakeup: @wakeup)
          @connections[id] = connection
          thread = Thread.new { connection_loop(connection) }
          thread.name = "local_provider :#{@port} connection #{id}"
          thread.report_on_exception = false
          @threads[id] = thread
        end
      end

      def connection_loop(connection)
        connection.start_tls(@tls_context) if @tls_context
        loop do
          raw = connection.read_request(idle_timeout: @idle_timeout)
          break unless raw
          break unless @handler.call(connection, raw)
        end
      rescue Connection::Malformed => e
        reject(connection, e.message)
      rescue Connection::Stopped, Connection::Disconnected
        nil
      rescue => e
        warn "LocalProvider: connection #{connection.id} failed: #{e.class}: #{e.message}"
      ensure
        connection.close
        @lock.synchronize do
          @connections.delete(connection.id)
          @threads.delete(connection.id)
        end
      end

      def reject(connection, message)
        body = "#{message}\n"
        connection.write("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n" \
          "Content-Length: #{body.bytesize}\r\nConnection: close\r\n\r\n#{body}")
      rescue Connection::Disconnected, Connection::Stopped
        nil
      end

      def join(thread, deadline)
        return unless thread
        remaining = deadline - Clock.now
        return if remaining.positive? && thread.join(remaining)
        thread.kill
        thread.join(0.5)
      end
    end
  end
end
