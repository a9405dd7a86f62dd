# frozen_string_literal: true

module AssistantChatNative
  class RubyStream
    # One RubyStream#run: the loop on the handler's thread. It waits on the Inbox no
    # longer than the next deadline (cancellation poll, heartbeat, pending text,
    # stall, overall timeout), so timers fire while no byte arrives; it decodes the
    # bytes the Transfer relays, accumulates them, flushes through the Throttle, and
    # ends with a Result whose failure, if any, is classified.
    class Run
      # After the terminal event, how long to wait for the response's end before
      # taking the reply as whole anyway (a server that holds the body open).
      LINGER = 1.0

      def initialize(stream:, options:, handler:, inbox:)
        @stream = stream
        @options = options
        @handler = handler
        @inbox = inbox
        @reader = SSEReader.new(max_event_bytes: options[:max_event_bytes])
        @normalizer = Normalizer.for(options[:provider])
        @accumulator = Accumulator.new(max_reply_bytes: options[:max_reply_bytes],
          thinking_blocks: Providers.fetch(options[:provider]).keeps_thinking_blocks?)
        @throttle = Throttle.new(options[:broadcast_interval])
        @failures = FailureBuilder.new(provider: options[:provider])
        @flushed_text = 0
        @flushed_thinking = 0
        @stats = {status: nil, time_to_first_byte: nil, time_to_first_token: nil, duration: nil,
                  bytes: 0, events: 0, flushes: 0, new_connections: nil}
        @status = 0
        @headers = {}
        @error_body = nil
        @failure = nil
        @decoder_problem = nil
        @finished = false
      end

      def call
        @started = @last_byte = now
        @next_heartbeat = @started + @options[:heartbeat_interval]
        @next_poll = @started + @options[:cancel_poll_interval]
        @transfer = Transfer.new(url: @options[:url], headers: @options[:headers], body: @options[:body],
          connect_timeout: @options[:connect_timeout], inbox: @inbox,
          read_timeout: [@options[:stall_timeout], @options[:timeout]].min + 5,
          ca_file: @options[:ca_file], ca_path: @options[:ca_path]).start
        until @finished
          item = @inbox.pop(next_deadline - now)
          receive(item) if item
          tick unless @finished
        end
        finish
      ensure
        @transfer&.close
      end

      # Never the options' headers or body: the provider, the URL as Redaction.url shows
      # it and the response status so far.
      def inspect
        "#<#{self.class.name} provider=#{@options[:provider]} url=#{Redaction.url(@options[:url])} " \
          "status=#{@status}#{" finished" if @finished}>"
      end
      alias_method :to_s, :inspect

      def as_json(*)
        {"provider" => @options[:provider].to_s, "url" => Redaction.url(@options[:url]), "status" => @status}
      end

      def to_json(*args)
        as_json.to_json(*args)
      end

      private

      def now
        Process.clock_gettime(Process::CLOCK_MONOTONIC)
      end

      def next_deadline
        deadlines = [@next_heartbeat, @last_byte + @options[:stall_timeout], @started + @options[:timeout]]
        deadlines << @done_at + LINGER if @done_at
        deadlines << @next_poll if @handler.respond_to?(:cancelled?)
        deadlines << @throttle.deadline if @throttle.deadline
        deadlines.min
      end

      def receive(item)
        case item[0]
        when :response then response(item[1], item[2])
        when :chunk then chunk(item[1])
        when :end then body_end
        when :error then transport_error(item[1])
        when :wake then nil
        end
      end

      # A reply whose terminal event came is whole, however the connection ends after it.
      def transport_error(error)
        return finish_with(http_failure) if @error_body
        return finish_with(nil) if @accumulator.done?

        finish_with(transport_failure(error))
      end

      def response(status, headers)
        @status = @stats[:status] = status
        # Net::HTTP.start opens a connection for every request: a response means one was opened.
        @stats[:new_connections] = 1
        @headers = headers
        @stats[:time_to_first_byte] = now - @started
        @error_body = +"".b unless (200..299).cover?(status)
      end

      def chunk(bytes)
        @last_byte = now
        @stats[:bytes] += bytes.bytesize
        return error_body(bytes) if @error_body

        events, problem = decode(bytes)
        events.each do |event|
          apply(event)
          break if @finished
        end
        return if @finished || problem.nil?

        @decoder_problem = problem
        finish_with(nil)
      end

      # A non-2xx response's body is read, up to its bound, and classified with the status.
      def error_body(bytes)
        # The error body counts against the event budget too, as in C.
        room = [@options[:max_error_body], @options[:max_event_bytes]].min - @error_body.bytesize
        @error_body << bytes.byteslice(0, room)
        finish_with(http_failure) if bytes.bytesize >= room
      end

      # The body closed cleanly: a normalizer that takes the close as the reply's end
      # (OpenAI's, after a choice finished, for servers that send no [DONE]) says so.
      def body_end
        return finish_with(http_failure) if @error_body

        closing = @normalizer.respond_to?(:close) ? @normalizer.close : []
        closing.each do |event|
          apply(event)
          break if @finished
        end
        finish_with(nil) unless @finished
      end

      # Parsed SSE events turned into normalized events; stops at the first bad one.
      def decode(bytes)
        events = []
        @reader.feed(bytes) { |type, data| events.concat(@normalizer.call(type, data)) }
        [events, nil]
      rescue SSEReader::TooLarge
        [events, :too_large]
      rescue SSEReader::Malformed, Normalizer::Malformed, JSON::ParserError, TypeError, NoMethodError
        [events, :malformed]
      end

      # Past the reply's bound the accumulator refuses events and the stream ends.
      def apply(event)
        @stats[:events] += 1
        return finish_with(nil) unless @accumulator.apply(event)

        react(event)
      end

      def react(event)
        case event[:type]
        when :text_delta, :thinking_delta
          @stats[:time_to_first_token] ||= now - @started
          flush(:delta)
        when :block_end then flush(:block_end)
        when :tool_call_start
          @stats[:time_to_first_token] ||= now - @started
          tool_call(event)
        when :error then finish_with(nil)
        end
      end

      def tool_call(event)
        flush(:tool_call)
        @handler.on_tool_call(event[:name], event[:id]) if @handler.respond_to?(:on_tool_call)
      end

      def tick
        time = now
        return finish_with(transport_failure(:cancelled)) if @stream.cancel_requested?

        poll_cancelled(time)
        return if @finished

        heartbeat(time)
        flush(:timer, time)
        @done_at ||= time if @accumulator.done?
        if @done_at
          finish_with(nil) if time >= @done_at + LINGER
        elsif time >= @started + @options[:timeout]
          finish_with(transport_failure(:timeout))
        elsif time >= @last_byte + @options[:stall_timeout]
          finish_with(transport_failure(:stalled, detail: "no byte arrived for the stall timeout"))
        end
      end

      def poll_cancelled(time)
        return unless @handler.respond_to?(:cancelled?) && time >= @next_poll

        @next_poll = time + @options[:cancel_poll_interval]
        finish_with(transport_failure(:cancelled)) if @handler.cancelled?
      end

      def heartbeat(time)
        return unless time >= @next_heartbeat

        @next_heartbeat = time + @options[:heartbeat_interval]
        @handler.on_heartbeat(time - @started) if @handler.respond_to?(:on_heartbeat)
      end

      def flush(reason, time = now)
        return unless @throttle.flush?(reason, time)

        @throttle.flushed(time)
        thinking = @accumulator.thinking.byteslice(@flushed_thinking..)
        text = @accumulator.text.byteslice(@flushed_text..)
        @flushed_thinking += thinking.bytesize
        @flushed_text += text.bytesize
        deliver(:on_thinking, @accumulator.thinking, thinking)
        deliver(:on_text, @accumulator.text, text)
      end

      # One flush callback; stats count those delivered (as the C Stream does).
      def deliver(callback, accumulated, delta)
        return if delta.empty? || !@handler.respond_to?(callback)

        @stats[:flushes] += 1
        @handler.public_send(callback, accumulated.dup, delta)
      end

      # Whether output already reached the user (the classifier's `streamed`).
      def streamed?
        @stats[:flushes].positive?
      end

      # Ends the loop; failure, when given, is one decided here (HTTP, transport,
      # cancellation) and wins over what the accumulator would decide.
      def finish_with(failure)
        @failure ||= failure
        @finished = true
      end

      def http_failure
        @failures.http(status: @status, headers: @headers, body: @error_body)
      end

      def transport_failure(error, detail: nil)
        @failures.transport(error, status: @status, headers: @headers, streamed: streamed?, detail: detail)
      end

      # Tears the transfer down first, decides the failure, then flushes what is
      # pending and builds the Result (the C Stream's order).
      def finish
        @transfer.close
        failure = @accumulator.finish(failures: @failures, decoder_problem: @decoder_problem,
          streamed: streamed?, failure: @failure)
        flush(:stream_end)
        @stats[:duration] = now - @started
        @accumulator.result(failure: failure, stats: @stats)
      end
    end
  end
end
