# frozen_string_literal: true

require "socket"
require "uri"

# A small real HTTP proxy on loopback, for the transport specs: it tunnels CONNECT
# requests (https through a proxy) and forwards absolute-form requests (plain http
# through a proxy), and records each request line it was asked to carry.
#
#   proxy = ConnectProxy.new.start
#   ENV["https_proxy"] = proxy.url
#   # ... a stream to https://localhost:PORT ...
#   proxy.requests   # => [["CONNECT", "localhost:PORT"]]
#   proxy.stop
#
# Bounded: a request head of at most MAX_HEAD bytes, read within TIMEOUT seconds;
# at most MAX_CONNECTIONS at once (more are refused with 503); destinations on
# loopback only (others get 403), so nothing leaves the machine. #stop closes
# every socket and joins every thread.
class ConnectProxy
  MAX_HEAD = 16 * 1024
  MAX_CONNECTIONS = 16
  TIMEOUT = 10
  READ_SIZE = 16 * 1024

  attr_reader :port

  def initialize(host: "127.0.0.1")
    @host = host
    @lock = Mutex.new
    @requests = []
    @threads = []
    @sockets = []
  end

  def start
    @listener = TCPServer.new(@host, 0)
    @port = @listener.addr[1]
    @wakeup, @wakeup_writer = IO.pipe
    @accept_thread = Thread.new { accept_loop }
    @accept_thread.report_on_exception = false
    self
  end

  def url
    "http://#{@host}:#{port}"
  end

  # [method, target] of every request the proxy was asked to carry, in order.
  def requests
    @lock.synchronize { @requests.dup }
  end

  def stop
    return self if @listener.nil?

    @wakeup_writer.write("x")
    @accept_thread.join(2) || @accept_thread.kill
    @lock.synchronize { @sockets.dup }.each { |socket| close_quietly(socket) }
    @lock.synchronize { @threads.dup }.each { |thread| thread.join(2) || thread.kill }
    [@listener, @wakeup, @wakeup_writer].each { |io| close_quietly(io) }
    @listener = nil
    self
  end

  private

  def accept_loop
    loop do
      ready = IO.select([@listener, @wakeup])
      break if ready[0].include?(@wakeup)

      client = @listener.accept_nonblock(exception: false)
      next if client == :wait_readable

      admit(client)
    end
  rescue IOError
    nil
  end

  def admit(client)
    full = @lock.synchronize do
      @threads.select!(&:alive?)
      @sockets.reject!(&:closed?)
      (@threads.size >= MAX_CONNECTIONS).tap { |over| @sockets << client unless over }
    end
    return refuse(client, "503 Service Unavailable") if full

    thread = Thread.new { serve(client) }
    thread.report_on_exception = false
    @lock.synchronize { @threads << thread }
  end

  def serve(client)
    head, rest = read_head(client)
    return unless head

    method, target, version = head.lines.first.to_s.split(" ", 3)
    return refuse(client, "400 Bad Request") unless version&.start_with?("HTTP/1.")

    @lock.synchronize { @requests << [method, target] }
    if method == "CONNECT"
      tunnel(client, target, rest)
    else
      forward(client, method, target, head, rest)
    end
  rescue IOError, SystemCallError
    nil
  ensure
    close_quietly(client)
  end

  def tunnel(client, target, rest)
    host, port = split_target(target)
    return refuse(client, "403 Forbidden") unless host && loopback?(host)

    upstream = connect(host, port)
    return refuse(client, "502 Bad Gateway") unless upstream

    client.write("HTTP/1.1 200 Connection established\r\n\r\n")
    upstream.write(rest) unless rest.empty?
    relay(client, upstream)
  end

  # Plain http through the proxy: the absolute-form request goes out in origin form.
  def forward(client, method, target, head, rest)
    uri = URI.parse(target)
    return refuse(client, "403 Forbidden") unless uri.is_a?(URI::HTTP) && loopback?(uri.hostname)

    upstream = connect(uri.hostname, uri.port)
    return refuse(client, "502 Bad Gateway") unless upstream

    lines = head.split("\r\n").drop(1).reject { |line| line.downcase.start_with?("proxy-") }
    upstream.write("#{method} #{uri.request_uri} HTTP/1.1\r\n#{lines.join("\r\n")}\r\n\r\n#{rest}")
    relay(client, upstream)
  rescue URI::InvalidURIError
    refuse(client, "400 Bad Request")
  end

  def connect(host, port)
    socket = Socket.tcp(host, port, connect_timeout: TIMEOUT)
    @lock.synchronize { @sockets << socket }
    socket
  rescue SystemCallError, SocketError
    nil
  end

  # Copies bytes both ways until either side closes, the proxy stops, or nothing
  # moves for TIMEOUT seconds.
  def relay(client, upstream)
    peers = {client => upstream, upstream => client}
    loop do
      ready = IO.select([client, upstream, @wakeup], nil, nil, TIMEOUT)
      break if ready.nil? || ready[0].include?(@wakeup)
      break unless ready[0].all? { |from| copy(from, peers[from]) }
    end
  ensure
    close_quietly(upstream)
  end

  # Moves what is readable from one side to the other; false once `from` closed.
  def copy(from, to)
    data = from.read_nonblock(READ_SIZE, exception: false)
    return false if data.nil?

    to.write(data) unless data == :wait_readable
    true
  end

  def read_head(client)
    buffer = +"".b
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + TIMEOUT
    until (ending = buffer.index("\r\n\r\n"))
      return nil if buffer.bytesize > MAX_HEAD

      remaining = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
      return nil if remaining <= 0
      ready = IO.select([client, @wakeup], nil, nil, remaining)
      return nil if ready.nil? || ready[0].include?(@wakeup)

      data = client.read_nonblock(READ_SIZE, exception: false)
      return nil if data.nil?
      buffer << data unless data == :wait_readable
    end
    [buffer.byteslice(0, ending), buffer.byteslice((ending + 4)..)]
  end

  def split_target(target)
    match = /\A(?:\[([^\]]+)\]|([^:\[\]]+)):(\d+)\z/.match(target.to_s)
    match && [match[1] || match[2], Integer(match[3])]
  end

  def loopback?(host)
    host == "localhost" || Addrinfo.ip(host).ipv4_loopback? || Addrinfo.ip(host).ipv6_loopback?
  rescue SocketError
    false
  end

  def refuse(client, status)
    client.write("HTTP/1.1 #{status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
  rescue IOError, SystemCallError
    nil
  ensure
    close_quietly(client)
  end

  def close_quietly(io)
    io.close unless io.nil? || io.closed?
  rescue IOError, SystemCallError
    nil
  end
end
