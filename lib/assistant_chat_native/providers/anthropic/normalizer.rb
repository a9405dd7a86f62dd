# frozen_string_literal: true

require "json"

module AssistantChatNative
  module Providers
    class Anthropic < Provider
      # Reads the Anthropic Messages API stream as the API documents it: message_start
      # (the message's id, model and first usage), then per content block at an index
      # content_block_start, content_block_delta (text_delta, thinking_delta,
      # signature_delta, input_json_delta) and content_block_stop, then message_delta
      # (stop_reason and cumulative usage) and message_stop. ping is a keep-alive;
      # error carries an error object, and is an error whatever its data (a proxy may
      # send plain text). Events the API may add later are ignored unread, as its
      # versioning policy asks; an event without "type" is read by its SSE name.
      class Normalizer
        EVENTS = %w[message message_start content_block_start content_block_delta content_block_stop
          message_delta message_stop ping error].freeze
        # server_tool_use and mcp_tool_use run on Anthropic's side; tool_use on ours.
        TOOL_BLOCKS = {"tool_use" => false, "server_tool_use" => true, "mcp_tool_use" => true}.freeze
        DELTAS = {"text_delta" => ["text", :text_delta], "thinking_delta" => ["thinking", :thinking_delta],
                  "signature_delta" => ["signature", :signature_delta],
                  "input_json_delta" => ["partial_json", :tool_args_delta]}.freeze
        # model_context_window_exceeded: the reply was cut off, as at max_tokens.
        STOP_REASONS = {"end_turn" => :end_turn, "tool_use" => :tool_use, "max_tokens" => :max_tokens,
                        "stop_sequence" => :stop_sequence, "refusal" => :refusal, "pause_turn" => :pause_turn,
                        "model_context_window_exceeded" => :max_tokens}.freeze
        USAGE = {"input_tokens" => :input_tokens, "output_tokens" => :output_tokens,
                 "cache_read_input_tokens" => :cache_read_tokens,
                 "cache_creation_input_tokens" => :cache_write_tokens}.freeze

        def initialize
          @blocks = {} # index => :text, :thinking, :redacted or :tool, while the block is open
          @named = false
        end

        # name: the SSE event type; data: its payload. Returns an Array of events.
        def call(name, data)
          return [] if data.empty? || !EVENTS.include?(name)

          payload = begin
            RubyStream::Normalizer.parse(data)
          rescue RubyStream::Normalizer::Malformed
            raise unless name == "error"

            return [RubyStream::Normalizer.error_event(data, data, type_keys: [])]
          end
          read(payload["type"].is_a?(String) ? payload["type"] : name, payload, data)
        end

        private

        def read(type, payload, data)
          case type
          when "message_start" then message_start(hash(payload["message"]))
          when "content_block_start" then block_start(index(payload, type), hash(payload["content_block"]))
          when "content_block_delta" then block_delta(index(payload, type), hash(payload["delta"]))
          when "content_block_stop" then block_stop(index(payload, type))
          when "message_delta" then message_delta(hash(payload["delta"]), payload["usage"])
          when "message_stop" then [{type: :done}]
          when "error" then [RubyStream::Normalizer.error_event(payload["error"], data, type_keys: %w[type])]
          else []
          end
        end

        def message_start(message)
          start = RubyStream::Normalizer.message_start(message["id"], message["model"]) unless @named
          @named ||= !start.nil?
          [start, usage(message["usage"])].compact
        end

        def block_start(index, block)
          case block["type"]
          when "text"
            @blocks[index] = :text
            delta(:text_delta, index, block["text"])
          when "thinking"
            @blocks[index] = :thinking
            delta(:thinking_delta, index, block["thinking"]) + delta(:signature_delta, index, block["signature"])
          when "redacted_thinking"
            @blocks[index] = :redacted
            [{type: :redacted_thinking, index: index, text: RubyStream::Normalizer.text(block["data"]) || ""}]
          when *TOOL_BLOCKS.keys
            @blocks[index] = :tool
            tool_start(index, block)
          else
            @blocks.delete(index) # tool results, citations and later kinds carry nothing we keep
            []
          end
        end

        # The input usually follows as input_json_delta fragments after "input": {};
        # an input given whole at the start is passed on as one fragment.
        def tool_start(index, block)
          start = {type: :tool_call_start, index: index, id: RubyStream::Normalizer.text(block["id"]) || "",
                   name: RubyStream::Normalizer.text(block["name"]) || "", server: TOOL_BLOCKS[block["type"]]}
          input = block["input"]
          whole = (input.is_a?(Hash) && !input.empty?) || input.is_a?(Array)
          whole ? [start, {type: :tool_args_delta, index: index, text: JSON.generate(input)}] : [start]
        end

        def block_delta(index, delta)
          field, type = DELTAS[delta["type"]]
          field ? delta(type, index, delta[field]) : []
        end

        def delta(type, index, value)
          value = RubyStream::Normalizer.text(value)
          value ? [{type: type, index: index, text: value}] : []
        end

        def block_stop(index)
          case @blocks.delete(index)
          when :tool then [{type: :tool_call_end, index: index}]
          when nil then []
          else [{type: :block_end, index: index}]
          end
        end

        def message_delta(delta, usage)
          reason = delta["stop_reason"]
          stop = {type: :stop, stop_reason: STOP_REASONS.fetch(reason, :end_turn), provider_stop_reason: reason}
          [usage(usage), (stop if reason.is_a?(String))].compact
        end

        def usage(usage)
          return nil unless usage.is_a?(Hash)

          RubyStream::Normalizer.usage(USAGE.to_h { |field, key| [key, RubyStream::Normalizer.count(usage[field], "usage.#{field}")] })
        end

        def index(payload, type)
          RubyStream::Normalizer.index(payload["index"], "a #{type} event")
        end

        def hash(value)
          value.is_a?(Hash) ? value : {}
        end
      end
    end
  end
end
