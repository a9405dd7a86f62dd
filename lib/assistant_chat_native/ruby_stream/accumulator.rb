# frozen_string_literal: true

require "json"
require_relative "strict_json"

module AssistantChatNative
  class RubyStream
    # Builds a Result from normalized events, by the same rules as core/accum.c:
    #
    # - text and thinking are concatenated; with thinking_blocks (Anthropic, whose
    #   API wants them sent back) a thinking block gathers its deltas and signature,
    #   a redacted block its data, and a block at a new index starts a new one;
    # - tool calls gather argument fragments by index (a new call at an open index
    #   ends the one before), and each must end as one JSON object (blank means {});
    #   a call the stream cut off before its end is dropped unless its arguments
    #   are already whole;
    # - usage: each reported field, last value wins; message id and model likewise;
    # - the first error event is kept; the terminal event marks the reply whole.
    #
    # The reply is bounded: text, thinking, ids and arguments together (plus
    # ENTRY_COST per tool call and thinking block) may hold max_reply_bytes; past
    # that, later events are refused and the failure is too large. So is a reply
    # that starts more than MAX_TOOL_CALLS tool calls (counted per call: Anthropic
    # may reuse an index). Arguments are strict JSON (StrictJSON: no comments,
    # nesting to 100, numbers to 100 characters). NUL bytes are left out of text
    # and thinking, as PostgreSQL text refuses them.
    class Accumulator
      ENTRY_COST = 256
      MAX_TOOL_CALLS = 128 # core/accum.h ACN_ACCUM_MAX_TOOL_CALLS

      attr_reader :text, :thinking

      def initialize(max_reply_bytes:, thinking_blocks: true)
        @max_reply_bytes = max_reply_bytes
        @keep_blocks = thinking_blocks
        @total = 0
        @over = false
        @limit = nil
        @malformed = nil
        @text = +""
        @thinking = +""
        @blocks = []
        @calls = []
        @usage = {}
        @stop_reason = nil
        @provider_stop_reason = nil
        @message_id = nil
        @model = nil
        @done = false
        @error = nil
      end

      def done?
        @done
      end

      # The reply went past max_reply_bytes: later events are refused.
      def too_large?
        @over
      end

      # Returns false once the reply is past its bound.
      def apply(event)
        return false if @over

        case event[:type]
        when :message_start then message_start(event)
        when :text_delta then append(@text, without_nul(event[:text]))
        when :thinking_delta then thinking_delta(event)
        when :signature_delta then append(open_block(:thinking, event[:index])&.fetch(:signature), event[:text])
        when :redacted_thinking then append(open_block(:redacted, event[:index])&.fetch(:data), event[:text])
        when :block_end then block_end(event[:index])
        when :tool_call_start then tool_call_start(event)
        when :tool_args_delta then tool_args(event)
        when :tool_call_end then open_call(event[:index])&.then { |call| end_call(call) }
        when :usage then usage(event)
        when :stop then stop(event)
        when :done then @done = true
        when :error then @error ||= event
        end
        !@over
      end

      # Ends the reply and decides its failure, in accum.c's order: an error event,
      # the reply too large (or the decoder's too_large), malformed (the decoder's or
      # bad tool-call arguments), no terminal event, a refusal with no text at all.
      # failure: a failure decided elsewhere (HTTP, transport, cancellation) wins.
      def finish(failures:, decoder_problem: nil, streamed: false, failure: nil)
        @calls.reject! { |call| !call[:ended] && parse_arguments(call[:arguments]).nil? }
        @calls.each { |call| end_call(call) }
        failure ||= decide_failure(failures, decoder_problem, streamed)
        if failure && failure.kind != :refusal
          @stop_reason = nil
          @provider_stop_reason = nil
        end
        failure
      end

      def result(failure:, stats:)
        Result.new(
          text: @text.dup, thinking: @thinking.dup, thinking_blocks: thinking_blocks, tool_calls: tool_calls,
          stop_reason: @stop_reason, provider_stop_reason: @provider_stop_reason, usage: usage_hash,
          failure: failure, message_id: @message_id, model: @model, stats: stats
        )
      end

      private

      def decide_failure(failures, decoder_problem, streamed)
        if @error
          failures.mid_stream(raw: @error[:raw].to_s.empty? ? @error[:message].to_s : @error[:raw], streamed: streamed)
        elsif @over
          failures.transport(:too_large, status: 200, streamed: streamed,
            detail: @limit || "the reply is larger than its bound of #{@max_reply_bytes} bytes (size limit exceeded)")
        elsif decoder_problem == :too_large
          failures.transport(:too_large, status: 200, streamed: streamed)
        elsif decoder_problem == :malformed
          failures.transport(:malformed, status: 200, streamed: streamed)
        elsif @malformed
          failures.transport(:malformed, status: 200, streamed: streamed, detail: @malformed)
        elsif !@done
          failures.transport(:incomplete, status: 200, streamed: streamed,
            detail: "the stream ended before its terminal event")
        elsif @stop_reason == :refusal && @text.empty?
          failures.refusal(provider_stop_reason: @provider_stop_reason)
        end
      end

      # Counts bytes against the bound; false (and sticky) once past it.
      def charge(bytes)
        return false if @over

        @total += bytes
        @over = @total > @max_reply_bytes
        !@over
      end

      def append(buffer, fragment)
        return if buffer.nil? || fragment.nil? || fragment.empty?

        buffer << fragment if charge(fragment.bytesize)
      end

      def message_start(event)
        @message_id = event[:id] if present?(event[:id]) && charge(event[:id].bytesize)
        @model = event[:model] if present?(event[:model]) && charge(event[:model].bytesize)
      end

      def without_nul(text)
        (text.is_a?(String) && text.include?("\0")) ? text.delete("\0") : text
      end

      def present?(value)
        value.is_a?(String) && !value.empty?
      end

      def thinking_delta(event)
        block = open_block(:thinking, event[:index])
        append(@thinking, without_nul(event[:text]))
        append(block[:thinking], event[:text]) if block
      end

      # The last block when it is still open with this type and index, else a new one
      # (nil when blocks are not kept, or past the bound).
      def open_block(kind, index)
        return nil unless @keep_blocks

        last = @blocks.last
        return last if last && !last[:ended] && last[:kind] == kind && last[:index] == index

        last[:ended] = true if last
        return nil unless charge(ENTRY_COST)

        block = {kind: kind, index: index, ended: false}
        (kind == :thinking) ? block.update(thinking: +"", signature: +"") : block.update(data: +"")
        @blocks << block
        block
      end

      def block_end(index)
        @blocks.last[:ended] = true if @blocks.last && @blocks.last[:index] == index
        call = open_call(index)
        end_call(call) if call
      end

      # The most recent call with this index that has not ended.
      def open_call(index)
        @calls.reverse_each.find { |call| call[:index] == index && !call[:ended] }
      end

      def tool_call_start(event)
        previous = open_call(event[:index])
        end_call(previous) if previous
        if @calls.size >= MAX_TOOL_CALLS
          @limit = "the reply holds more than #{MAX_TOOL_CALLS} tool calls"
          @over = true
          return
        end
        return unless charge(ENTRY_COST)

        call = {index: event[:index], id: +"", name: +"", arguments: +"", server: event[:server] ? true : false,
                signature: +"", ended: false, parsed: nil}
        @calls << call
        append(call[:id], event[:id].to_s)
        append(call[:name], event[:name].to_s)
        append(call[:signature], event[:signature].to_s)
      end

      def tool_args(event)
        call = open_call(event[:index])
        if call
          append(call[:arguments], event[:text])
        elsif !event[:text].to_s.empty?
          @malformed ||= "tool-call arguments arrived for a call that was not started"
        end
      end

      def end_call(call)
        return if call[:ended]

        call[:ended] = true
        refusal = nil
        call[:parsed] = parse_arguments(call[:arguments]) { |why| refusal = why }
        return if call[:parsed]

        @malformed ||= "the arguments of tool call #{call[:name].byteslice(0, 64).scrub("")} " \
          "(#{call[:id].byteslice(0, 64).scrub("")}) #{refusal || "are not a JSON object"}"
      end

      # The arguments as a Hash, or nil; a refusal by a bound is yielded in words.
      def parse_arguments(json)
        return {} if json.match?(/\A[ \t\r\n]*\z/)

        arguments = StrictJSON.parse(json, numbers: true)
        arguments if arguments.is_a?(Hash)
      rescue JSON::NestingError
        yield "nest deeper than #{StrictJSON::MAX_DEPTH} levels" if block_given?
        nil
      rescue StrictJSON::NumberTooLong
        yield "hold a number longer than #{StrictJSON::MAX_NUMBER_CHARS} characters" if block_given?
        nil
      rescue JSON::ParserError
        nil
      end

      def usage(event)
        %i[input_tokens output_tokens cache_read_tokens cache_write_tokens].each do |key|
          value = event[key]
          @usage[key] = Integer(value) if value.is_a?(Integer) && value >= 0
        end
      end

      def stop(event)
        @stop_reason = event[:stop_reason]
        reason = event[:provider_stop_reason].to_s
        @provider_stop_reason = (reason.empty? || !charge(reason.bytesize)) ? nil : reason
      end

      def usage_hash
        usage = {input_tokens: @usage.fetch(:input_tokens, 0), output_tokens: @usage.fetch(:output_tokens, 0)}
        usage[:cache_read_tokens] = @usage[:cache_read_tokens] if @usage.key?(:cache_read_tokens)
        usage[:cache_write_tokens] = @usage[:cache_write_tokens] if @usage.key?(:cache_write_tokens)
        usage
      end

      def thinking_blocks
        @blocks.map do |block|
          if block[:kind] == :thinking
            {type: "thinking", thinking: block[:thinking].dup, signature: block[:signature].dup}
          else
            {type: "redacted_thinking", data: block[:data].dup}
          end
        end
      end

      def tool_calls
        @calls.map do |call|
          ToolCall.new(id: call[:id].dup, name: call[:name].dup, arguments: call[:parsed] || {}, server: call[:server],
            signature: call[:signature].empty? ? nil : call[:signature].dup)
        end
      end
    end
  end
end
