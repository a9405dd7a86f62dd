# frozen_string_literal: true

require "json"

module AssistantChatNative
  class LocalProvider
    # What LocalProvider answers to one request: a streamed reply (text, thinking,
    # tool calls, usage, stop reason) or a replayed .sse file, how fast and in what
    # pieces it goes on the wire, and the faults to inject (see Fault).
    #
    # Built from the keyword arguments of LocalProvider#enqueue, #default= and the
    # value a #respond_with block returns; unknown keys raise ConfigurationError.
    class Script
      DEFAULT_TEXT = "Hello from LocalProvider. This reply is scripted."

      REPLY_KEYS = %i[text tokens thinking signature tool_calls usage stop_reason model id
        refusal pings args_fragment replay done].freeze
      WIRE_KEYS = %i[token_rate chunk_size seed].freeze

      attr_reader :text, :thinking, :signature, :tool_calls, :usage, :stop_reason, :model, :id,
        :refusal, :pings, :args_fragment, :replay, :done, :token_rate, :chunk_size, :seed, :fault

      def self.build(value)
        case value
        when Script then value
        when Hash then new(**value.transform_keys(&:to_sym))
        when String then new(text: value)
        when nil then new(text: DEFAULT_TEXT)
        else
          raise ConfigurationError, "LocalProvider script must be a Hash of options, a String " \
            "(the reply text) or a LocalProvider::Script, got #{value.class}"
        end
      end

      def initialize(**options)
        unknown = options.keys - REPLY_KEYS - WIRE_KEYS - Fault::KEYS
        unless unknown.empty?
          raise ConfigurationError, "unknown LocalProvider script option(s) #{unknown.inspect}; " \
            "known: #{(REPLY_KEYS + WIRE_KEYS + Fault::KEYS).inspect}"
        end
        @tokens = options[:tokens]&.map(&:to_s)
        @text = options[:text]&.to_s || @tokens&.join
        @thinking = options[:thinking]&.to_s
        @signature = options[:signature]&.to_s
        @tool_calls = Array(options[:tool_calls]).each_with_index.map { |call, i| tool_call(call, i) }
        @usage = (options[:usage] || {}).transform_keys(&:to_sym)
        @stop_reason = options[:stop_reason]
        @model = options[:model]
        @id = options[:id]
        @refusal = options[:refusal]&.to_s
        @pings = Integer(options.fetch(:pings, 1))
        @args_fragment = Integer(options.fetch(:args_fragment, 12))
        @replay = options[:replay]&.to_s
        @done = options.fetch(:done, true) ? true : false
        @token_rate = options[:token_rate]&.then { |rate| Float(rate) }
        @chunk_size = chunk_size_option(options[:chunk_size])
        @seed = Integer(options.fetch(:seed, 1))
        @fault = Fault.new(**options.slice(*Fault::KEYS))
        @text = DEFAULT_TEXT if empty_reply?
        validate!
        freeze
      end

      # The reply text split into the pieces streamed one per delta: the explicit
      # `tokens:` when given, otherwise words with their trailing whitespace.
      def text_tokens
        return @tokens if @tokens
        return [] if @text.nil? || @text.empty?
        @text.scan(/\s*\S+\s*|\s+/)
      end

      def thinking_tokens
        return [] if @thinking.nil? || @thinking.empty?
        @thinking.scan(/\s*\S+\s*|\s+/)
      end

      def refusal_tokens
        return [] if @refusal.nil? || @refusal.empty?
        @refusal.scan(/\s*\S+\s*|\s+/)
      end

      # A tool call's arguments as a JSON text split into the fragments streamed one
      # per delta (split on characters, never inside a UTF-8 sequence).
      def argument_fragments(call)
        call[:arguments_json].scan(/.{1,#{args_fragment}}/m)
      end

      # A tool call's arguments as an object, for the formats that send them whole
      # (Gemini's functionCall.args, non-streaming Anthropic tool_use.input).
      # Arguments scripted as a String that is not JSON can only be streamed as
      # text fragments (Anthropic input_json_delta, OpenAI function.arguments).
      def arguments_object(call)
        JSON.parse(call[:arguments_json])
      rescue JSON::ParserError
        raise ConfigurationError, "tool call #{call[:name]}'s arguments #{call[:arguments_json].inspect} " \
          "are not JSON, and this response format sends them as an object; script them as a Hash"
      end

      # Output tokens reported when usage[:output_tokens] is not scripted.
      def output_tokens
        @usage.fetch(:output_tokens) do
          text_tokens.size + thinking_tokens.size + refusal_tokens.size +
            tool_calls.sum { |call| argument_fragments(call).size }
        end
      end

      # Input tokens reported when usage[:input_tokens] is not scripted: about
      # four bytes of request body per token.
      def input_tokens(request)
        @usage.fetch(:input_tokens) { [request.body.to_s.bytesize / 4, 1].max }
      end

      # True when the reply is an HTTP response with a fixed body instead of a stream.
      def fixed_body?
        !fault.status.between?(200, 299) || !fault.body.nil?
      end

      private

      def empty_reply?
        @text.nil? && @thinking.nil? && @tool_calls.empty? && @refusal.nil? && @replay.nil?
      end

      def tool_call(call, index)
        call = call.transform_keys(&:to_sym)
        name = call.fetch(:name) { raise ConfigurationError, "a scripted tool call needs a :name" }
        arguments = call.fetch(:arguments, {})
        json = arguments.is_a?(String) ? arguments : JSON.generate(arguments)
        {id: call[:id]&.to_s, name: name.to_s, arguments_json: json, index: index}.freeze
      end

      def chunk_size_option(value)
        case value
        when nil, :event, "event" then nil
        when :whole, "whole" then :whole
        when Range
          unless value.begin.is_a?(Integer) && value.begin.positive? && value.end.is_a?(Integer) && value.size.positive?
            raise ConfigurationError, "a chunk_size range must be of positive Integers, like 1..64, got #{value}"
          end
          value
        else
          size = Integer(value)
          raise ConfigurationError, "chunk_size must be positive, got #{size}" unless size.positive?
          size
        end
      end

      def validate!
        if @token_rate && !@token_rate.positive?
          raise ConfigurationError, "token_rate must be a positive number of tokens per second " \
            "(or nil for full speed), got #{@token_rate}"
        end
        raise ConfigurationError, "args_fragment must be positive" unless @args_fragment.positive?
      end
    end
  end
end
