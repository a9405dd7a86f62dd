# frozen_string_literal: true

require "event_stream_parser"
require_relative "limits"

module AssistantChatNative
  class RubyStream
    # The event_stream_parser gem (WHATWG event stream interpretation), with what a
    # stream from the network also needs: bytes read as binary so a UTF-8 character
    # split across reads is never an encoding error, one leading BOM stripped even
    # when split, and bounds: the line, data, event type and id held together stay
    # within max_event_bytes, an event type over Limits::MAX_FIELD_BYTES is
    # malformed, and an id over it is ignored.
    #
    #   reader = SSEReader.new(max_event_bytes: 16 * 1024 * 1024)
    #   reader.feed(bytes) { |type, data| ... }   # data is a UTF-8 String
    #   # raises SSEReader::TooLarge past the bound, SSEReader::Malformed for a long type
    class SSEReader < EventStreamParser::Parser
      class TooLarge < StandardError; end

      class Malformed < StandardError; end

      MAX_FIELD_BYTES = Limits::MAX_FIELD_BYTES

      BOM = "\xEF\xBB\xBF".b.freeze

      def initialize(max_event_bytes:)
        super()
        @max_event_bytes = max_event_bytes
        @head = +"".b
      end

      def feed(chunk, &block)
        chunk = strip_bom(chunk.b)
        return if chunk.empty?
        # No line ends here: nothing to interpret yet. Held without rescanning the
        # line so far, so an endless line costs linear time up to the bound.
        return hold(chunk) unless chunk.match?(/[\r\n]/)

        super do |type, data, _id, _retry|
          raise TooLarge, "an event is over #{@max_event_bytes} bytes" if data.bytesize > @max_event_bytes

          block.call(type.empty? ? "message" : type, data.force_encoding(Encoding::UTF_8))
        end
        raise TooLarge, "an event is over #{@max_event_bytes} bytes" if pending_bytes > @max_event_bytes
      end

      private

      def hold(chunk)
        @buffer << chunk
        raise TooLarge, "an event is over #{@max_event_bytes} bytes" if pending_bytes > @max_event_bytes
      end

      # Bytes held for the line and the event being built.
      def pending_bytes
        @buffer.bytesize + @data_buffer.bytesize + @event_type_buffer.bytesize + @last_event_id_buffer.bytesize
      end

      # The gem drops any one whitespace character after a field's colon; WHATWG drops
      # only a space, so a form feed or tab there is the value's first character.
      def process_line(line, &block)
        field, colon, value = line.partition(":")
        return super if field.empty? || colon.empty?

        process_field(field, value.delete_prefix(" "))
      end

      def process_field(field, value)
        case field
        when "event"
          raise Malformed, "an SSE event type is longer than #{MAX_FIELD_BYTES} bytes" if value.bytesize > MAX_FIELD_BYTES
        when "id"
          return if value.bytesize > MAX_FIELD_BYTES
        end
        super
      end

      def strip_bom(chunk)
        return chunk if @head.nil?

        @head << chunk
        return +"".b if @head.bytesize < BOM.bytesize && BOM.start_with?(@head)

        bytes = @head.start_with?(BOM) ? @head.byteslice(BOM.bytesize..) : @head
        @head = nil
        bytes
      end
    end
  end
end
