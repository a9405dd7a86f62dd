# frozen_string_literal: true

require "json"
require_relative "limits"
require_relative "strict_json"

module AssistantChatNative
  class RubyStream
    # Gathers a normalizer's events into a Result:
    #
    # - text and thinking are joined (NUL bytes left out: PostgreSQL text refuses
    #   them). With thinking_blocks (Anthropic wants them sent back, exactly as
    #   given; Responses its reasoning items) each thinking block keeps its text,
    #   signature and the id an event names for it, each redacted block its data;
    # - a tool call gathers its argument fragments until it ends, and must then be
    #   one JSON object (blank means {}); a call whose end never came is not part of
    #   the reply, as its arguments may be cut;
    # - usage, id, model and stop reason: the last value sent wins;
    # - the first error event is kept; the done event marks the reply whole.
    #
    # What the reply holds is bounded: its strings, plus Limits::ENTRY_COST per call
    # and block, within max_reply_bytes, and at most Limits::MAX_TOOL_CALLS calls.
    # Past either bound later events are refused and the reply is too large.
    class Accumulator
      ToolCallDraft = Struct.new(:index, :id, :name, :arguments, :server, :signature, :parsed, :ended,
        keyword_init: true)

      attr_reader :text, :thinking

      def initialize(max_reply_bytes:, thinking_blocks: true)
        @room = max_reply_bytes
        @max_reply_bytes = max_reply_bytes
        @keep_blocks = thinking_blocks
        @text = +""
        @thinking = +""
        @blocks = []
        @calls = []
        @usage = {}
        @stop = {}
        @name = {}
        @done = false
        @error = nil
        @too_large = nil
        @malformed = nil
      end

      def done?
        @done
      end

      def too_large?
        !@too_large.nil?
      end

      # Returns false once the reply is past its bounds.
      def apply(event)
        return false if too_large?

        case event[:type]
        when :message_start then @name.update(event.slice(:id, :model).select { |_, value| take(value) })
        when :text_delta then @text << without_nul(event[:text]) if take(event[:text])
        when :thinking_delta then add_thinking(event)
        when :signature_delta then add_signature(event)
        when :redacted_thinking then redacted_thinking(event)
        when :block_end then block_end(event[:index])
        when :tool_call_start then tool_call_start(event)
        when :tool_args_delta then tool_args(event)
        when :tool_call_end then end_call(open_call(event[:index]))
        when :usage then @usage.update(event.except(:type))
        when :stop then @stop = {stop_reason: event[:stop_reason], provider_stop_reason: event[:provider_stop_reason]}
        when :done then @done = true
        when :error then @error ||= event
        end
        !too_large?
      end

      # Ends the reply and decides its failure, first reason first: an error event,
      # the reply too large (here or in the decoder), malformed (the decoder's, or a
      # call's arguments), no done event, a refusal with no text at all. failure: one
      # decided before (HTTP, transport, cancellation), which wins.
      def finish(failures:, decoder_problem: nil, streamed: false, failure: nil)
        @calls.select!(&:ended)
        failure ||= decide_failure(failures, decoder_problem, streamed)
        @stop = {} if failure && failure.kind != :refusal
        failure
      end

      def result(failure:, stats:)
        Result.new(text: @text.dup, thinking: @thinking.dup, thinking_blocks: thinking_blocks, tool_calls: tool_calls,
          stop_reason: @stop[:stop_reason], provider_stop_reason: Normalizer.text(@stop[:provider_stop_reason]),
          usage: usage, failure: failure, message_id: @name[:id], model: @name[:model], stats: stats)
      end

      private

      def decide_failure(failures, decoder_problem, streamed)
        problem = lambda do |error, detail = nil|
          failures.transport(error, status: 200, streamed: streamed, detail: detail)
        end
        if @error
          failures.mid_stream(raw: @error[:raw].to_s.empty? ? @error[:message].to_s : @error[:raw], streamed: streamed)
        elsif @too_large then problem.call(:too_large, @too_large)
        elsif decoder_problem then problem.call(decoder_problem)
        elsif @malformed then problem.call(:malformed, @malformed)
        elsif !@done then problem.call(:incomplete, "the stream ended before its terminal event")
        elsif @stop[:stop_reason] == :refusal && @text.empty?
          failures.refusal(provider_stop_reason: @stop[:provider_stop_reason])
        end
      end

      # Spends budget on a String (or entry cost); false, and too large, past the bound.
      def take(value)
        return false if too_large? || value.nil? || value == ""

        @room -= value.is_a?(Integer) ? value : value.bytesize
        return true unless @room.negative?

        @too_large = "the reply is larger than its bound of #{@max_reply_bytes} bytes (size limit exceeded)"
        false
      end

      def add_thinking(event)
        return unless take(event[:text])

        @thinking << without_nul(event[:text])
        block = block(:thinking, event[:index])
        block&.fetch(:thinking)&.<<(event[:text])
        name_block(block, event[:id])
      end

      def add_signature(event)
        return unless take(event[:text])

        block = block(:thinking, event[:index])
        name_block(block, event[:id])
        block&.fetch(:signature)&.<<(event[:text])
      end

      # The first id an event names for the block (a Responses reasoning item's) is the block's.
      def name_block(block, id)
        block[:id] = id.dup if block && !block.key?(:id) && take(id)
      end

      def without_nul(text)
        text.include?("\0") ? text.delete("\0") : text
      end

      # The block is kept even when its data is missing, so the blocks sent back
      # stay in the order they came.
      def redacted_thinking(event)
        block = block(:redacted, event[:index])
        block[:data] << event[:text] if block && take(event[:text])
      end

      # The open block of this kind at this index, or a new one (nil when blocks
      # are not kept, or past the bound).
      def block(kind, index)
        return nil unless @keep_blocks

        last = @blocks.last
        return last if last && !last[:ended] && last[:kind] == kind && last[:index] == index

        last[:ended] = true if last
        return nil unless take(Limits::ENTRY_COST)

        fields = (kind == :thinking) ? {thinking: +"", signature: +""} : {data: +""}
        @blocks << {kind: kind, index: index, ended: false, **fields}
        @blocks.last
      end

      def block_end(index)
        @blocks.last[:ended] = true if @blocks.last&.fetch(:index) == index
        end_call(open_call(index))
      end

      def open_call(index)
        @calls.reverse_each.find { |call| call.index == index && !call.ended }
      end

      def tool_call_start(event)
        end_call(open_call(event[:index]))
        if @calls.size >= Limits::MAX_TOOL_CALLS
          @too_large = "the reply holds more than #{Limits::MAX_TOOL_CALLS} tool calls"
          return
        end
        return unless take(Limits::ENTRY_COST)

        strings = %i[id name signature].to_h { |key| [key, event[key].to_s] }
        return unless strings.values.all? { |value| value.empty? || take(value) }

        @calls << ToolCallDraft.new(index: event[:index], arguments: +"", server: event[:server] ? true : false,
          ended: false, **strings)
      end

      def tool_args(event)
        call = open_call(event[:index])
        if call.nil?
          @malformed ||= "tool-call arguments arrived for a call that was not started"
        elsif take(event[:text])
          call.arguments << event[:text]
        end
      end

      def end_call(call)
        return if call.nil? || call.ended

        call.ended = true
        call.parsed, why = arguments(call.arguments)
        return unless why

        @malformed ||= "the arguments of tool call #{call.name.byteslice(0, 64).scrub("")} " \
          "(#{call.id.byteslice(0, 64).scrub("")}) #{why}"
      end

      # [the arguments as a Hash, nil] or [nil, why they are refused].
      def arguments(json)
        return [{}, nil] if json.match?(/\A[ \t\r\n]*\z/)

        parsed = StrictJSON.parse(json, numbers: true)
        parsed.is_a?(Hash) ? [parsed, nil] : [nil, "are not a JSON object"]
      rescue JSON::NestingError
        [nil, "nest deeper than #{Limits::MAX_JSON_DEPTH} levels"]
      rescue StrictJSON::NumberTooLong
        [nil, "hold a number longer than #{Limits::MAX_NUMBER_CHARS} characters"]
      rescue JSON::ParserError
        [nil, "are not a JSON object"]
      end

      def usage
        {input_tokens: 0, output_tokens: 0}.merge(@usage)
      end

      def thinking_blocks
        @blocks.map do |block|
          if block[:kind] == :thinking
            thinking = {type: "thinking", thinking: block[:thinking].dup, signature: block[:signature].dup}
            block.key?(:id) ? thinking.merge(id: block[:id].dup) : thinking
          else
            {type: "redacted_thinking", data: block[:data].dup}
          end
        end
      end

      def tool_calls
        @calls.map do |call|
          ToolCall.new(id: call.id.dup, name: call.name.dup, arguments: call.parsed || {}, server: call.server,
            signature: Normalizer.text(call.signature)&.dup)
        end
      end
    end
  end
end
