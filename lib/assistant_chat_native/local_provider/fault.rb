# frozen_string_literal: true

module AssistantChatNative
  class LocalProvider
    # The faults a Script injects. All are optional and combine where that makes
    # sense (a delay before a 429, say):
    #
    # status:, headers:, body:  reply with this HTTP status, these extra headers and
    #   this body (Content-Length framed) instead of a stream. A non-2xx status
    #   without body: gets the provider's documented error JSON; body: "" sends an
    #   empty body.
    # delay:  seconds to wait before sending the status line and headers.
    # stall_after:  after this many events, send nothing more and hold the socket
    #   open until the client goes away, the server stops or stall_for seconds pass.
    # reset_after:  after this many body bytes, reset the TCP connection (RST).
    # close_after:  after this many events, close the connection (FIN) without
    #   ending the chunked body.
    # close_without_terminal:  send every event but the terminal ones (Event), end
    #   the chunked body and close the connection.
    # error_event:  a mid-stream error event in the provider's format, sent after
    #   `after` events (default 1); true for the provider's default error
    #   (Anthropic overloaded_error, OpenAI server_error, Gemini 503 UNAVAILABLE), or
    #   a Hash with type:, message:, code:, after:, data: (the raw data line).
    # keep_alive:  false to close the connection after a complete response.
    class Fault
      KEYS = %i[status headers body delay stall_after stall_for reset_after close_after
        close_without_terminal error_event keep_alive].freeze

      attr_reader :status, :headers, :body, :delay, :stall_after, :stall_for, :reset_after,
        :close_after, :error_event

      def initialize(status: 200, headers: {}, body: nil, delay: 0, stall_after: nil, stall_for: 30,
        reset_after: nil, close_after: nil, close_without_terminal: false, error_event: nil,
        keep_alive: true)
        @status = Integer(status)
        @headers = headers.to_h { |name, value| [name.to_s.downcase, value.to_s] }.freeze
        @body = body&.to_s&.b&.freeze
        @delay = Float(delay)
        @stall_after = stall_after&.then { |n| Integer(n) }
        @stall_for = Float(stall_for)
        @reset_after = reset_after&.then { |n| Integer(n) }
        @close_after = close_after&.then { |n| Integer(n) }
        @close_without_terminal = close_without_terminal ? true : false
        @error_event = error_event_option(error_event)
        @keep_alive = keep_alive ? true : false
        freeze
      end

      def close_without_terminal?
        @close_without_terminal
      end

      def keep_alive?
        @keep_alive
      end

      private

      def error_event_option(value)
        case value
        when nil, false then nil
        when true then {after: 1}.freeze
        when Hash
          option = value.transform_keys(&:to_sym)
          option[:after] = Integer(option.fetch(:after, 1))
          option.freeze
        else
          raise ConfigurationError, "error_event must be true or a Hash (type:, message:, after:)"
        end
      end
    end
  end
end
