# frozen_string_literal: true

require "net/http"
require "openssl"
require "uri"

module AssistantChatNative
  class RubyStream
    # One HTTP POST over Net::HTTP, read in its own thread so the handler's thread
    # can keep time (heartbeats, cancellation polls, stall and overall deadlines)
    # while no byte arrives. It reports into an Inbox:
    #
    #   [:response, status, headers]   headers: {lowercase name => value}
    #   [:chunk, bytes]                body bytes as they arrive (binary String)
    #   [:end]                         the body ended cleanly
    #   [:error, transport_error]      :connect, :timeout, :stalled or :lost
    #
    # #close tears the thread down and with it the socket, from any state.
    #
    # TLS trust (ca_file, ca_path) is what TLSTrust resolved; nil leaves Net::HTTP's
    # default store. The proxy is found in the environment by libcurl's rules
    # (ProxyEnv), when the transfer is built, so RubyStream goes where Stream goes.
    class Transfer
      CONNECT_ERRORS = [
        Errno::ECONNREFUSED, Errno::EHOSTUNREACH, Errno::ENETUNREACH, Errno::EADDRNOTAVAIL,
        SocketError, OpenSSL::SSL::SSLError
      ].freeze
      # Seconds close waits for the reading thread to end (killing it interrupts any read).
      JOIN_TIMEOUT = 2

      def initialize(url:, headers:, body:, connect_timeout:, read_timeout:, inbox:, ca_file: nil, ca_path: nil)
        @uri = URI.parse(url)
        @proxy = ProxyEnv.for(@uri)
        @ca_file = ca_file
        @ca_path = ca_path
        @headers = headers
        @body = body
        @connect_timeout = connect_timeout
        @read_timeout = read_timeout
        @inbox = inbox
        @responded = false
      end

      def start
        @thread = Thread.new { read }
        @thread.report_on_exception = false
        @thread.name = "assistant_chat_native-ruby-stream"
        self
      end

      # Stops reading and closes the connection; returns once the thread has ended.
      def close
        @inbox.close
        return unless @thread

        @thread.kill
        @thread.join(JOIN_TIMEOUT)
      end

      # The URL as Redaction.url shows it and the headers' names, never their values.
      def inspect
        "#<#{self.class.name} url=#{Redaction.url(@uri.to_s)} headers=#{@headers.keys.map(&:to_s).inspect}>"
      end
      alias_method :to_s, :inspect

      def as_json(*)
        {"url" => Redaction.url(@uri.to_s), "headers" => Redaction.headers(@headers)}
      end

      def to_json(*args)
        as_json.to_json(*args)
      end

      private

      def read
        http = Net::HTTP.new(@uri.hostname, @uri.port, *proxy_arguments)
        http.use_ssl = @uri.scheme == "https"
        http.ca_file = @ca_file if @ca_file
        http.ca_path = @ca_path if @ca_path
        http.open_timeout = @connect_timeout
        http.read_timeout = @read_timeout
        http.write_timeout = @read_timeout
        catch(:closed) do
          http.start { |connection| connection.request(build_request) { |response| relay(response) } }
          @inbox.push([:end])
        end
      rescue => e
        @inbox.push([:error, transport_error_for(e)])
      end

      # Net::HTTP's proxy address, port, user and password; nil (no proxy) when the
      # environment names none for this URL (Net::HTTP's own lookup is turned off).
      def proxy_arguments
        return [nil] unless @proxy

        [@proxy.hostname, @proxy.port, @proxy.user && URI::DEFAULT_PARSER.unescape(@proxy.user),
          @proxy.password && URI::DEFAULT_PARSER.unescape(@proxy.password)]
      end

      def build_request
        request = Net::HTTP::Post.new(@uri.request_uri)
        request["content-type"] = "application/json"
        request["accept"] = "text/event-stream"
        @headers.each { |name, value| request[name.to_s] = value.to_s }
        # Compression batches events and ruins time to first token.
        request["accept-encoding"] = "identity"
        request.body = @body
        request
      end

      def relay(response)
        @responded = true
        headers = {}
        response.each_header { |name, value| headers[name] = value }
        throw :closed unless @inbox.push([:response, response.code.to_i, headers])

        response.read_body do |chunk|
          throw :closed unless @inbox.push([:chunk, chunk.b])
        end
      end

      def transport_error_for(error)
        case error
        when Net::OpenTimeout then :timeout
        when Net::ReadTimeout, Net::WriteTimeout then :stalled
        when *CONNECT_ERRORS then @responded ? :lost : :connect
        else :lost
        end
      end
    end
  end
end
