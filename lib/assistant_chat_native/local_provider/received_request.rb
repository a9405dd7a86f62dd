# frozen_string_literal: true

require "json"

module AssistantChatNative
  class LocalProvider
    # A request LocalProvider received, as the client sent it, and what became of
    # its response. The fields describing the request are fixed when it arrives;
    # #status, #bytes_sent, #completed? and #disconnected? are filled in as the
    # response goes out (read them after the client is done, or use
    # #wait_until_finished).
    class ReceivedRequest
      attr_reader :id, :method, :path, :query, :headers, :body, :json, :provider, :model,
        :received_at, :connection_id

      def initialize(id:, method:, path:, query:, headers:, body:, provider:, model:, connection_id:)
        @id = id
        @method = method
        @path = path
        @query = query.freeze
        @headers = headers.freeze
        @body = utf8(body).freeze
        @json = parse_json(body)
        @provider = provider
        @model = model || @json&.fetch("model", nil)
        @received_at = Time.now
        @connection_id = connection_id
        @status = nil
        @bytes_sent = 0
        @outcome = nil
        @finished = false
        @lock = Mutex.new
        @finished_signal = ConditionVariable.new
      end

      # The HTTP status sent (nil until the status line went out).
      def status
        @lock.synchronize { @status }
      end

      # Bytes of response body sent (SSE bytes, without the chunked framing).
      def bytes_sent
        @lock.synchronize { @bytes_sent }
      end

      # How the response ended: :completed, :disconnected (the client went away
      # first), :reset, :closed (closed on purpose by a fault), :stalled (held
      # until the stall ended), :stopped (the server stopped), or nil while it runs.
      def outcome
        @lock.synchronize { @outcome }
      end

      def finished?
        @lock.synchronize { @finished }
      end

      def completed?
        outcome == :completed
      end

      # True when the client closed the connection before the response was complete.
      def disconnected?
        outcome == :disconnected
      end

      # Waits (at most timeout seconds) until the response has ended; returns finished?.
      def wait_until_finished(timeout: 2)
        deadline = Clock.now + timeout
        @lock.synchronize do
          until @finished
            remaining = deadline - Clock.now
            break if remaining <= 0
            @finished_signal.wait(@lock, remaining)
          end
          @finished
        end
      end

      # True when the client asked for a stream, as its provider asks for one: "stream": true
      # in the body (Anthropic, OpenAI), the :streamGenerateContent method (Gemini).
      def streaming?
        return Providers::Provider.stream_asked?(json) unless provider

        Providers.fetch(provider).streaming?(path: path, json: json)
      end

      # The value of a request header (names are case-insensitive).
      def header(name)
        @headers[name.to_s.downcase]
      end

      def to_h
        {id: id, method: method, path: path, query: query, headers: headers, body: body,
         json: json, provider: provider, model: model, received_at: received_at.to_f,
         connection_id: connection_id, status: status, bytes_sent: bytes_sent,
         outcome: outcome}
      end

      def inspect
        "#<#{self.class.name} ##{id} #{method} #{path} provider=#{provider.inspect} " \
          "model=#{model.inspect} status=#{status.inspect} outcome=#{outcome.inspect}>"
      end

      # Called by the responder.
      def record_status(status)
        @lock.synchronize { @status = status }
      end

      def record_bytes(count)
        @lock.synchronize { @bytes_sent += count }
      end

      def finish(outcome)
        @lock.synchronize do
          return if @finished
          @outcome = outcome
          @finished = true
          @finished_signal.broadcast
        end
      end

      private

      # The body as UTF-8 when it is valid UTF-8 (JSON always is), else as sent.
      def utf8(body)
        text = body.to_s.dup.force_encoding(Encoding::UTF_8)
        text.valid_encoding? ? text : body.to_s.b
      end

      def parse_json(body)
        return nil if body.nil? || body.empty?
        JSON.parse(body)
      rescue JSON::ParserError
        nil
      end
    end
  end
end
