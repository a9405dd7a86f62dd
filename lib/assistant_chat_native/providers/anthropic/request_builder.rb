# frozen_string_literal: true

require_relative "cache_breakpoints"

module AssistantChatNative
  module Providers
    class Anthropic < Provider
      # The Messages API body (POST /v1/messages, stream: true): system at the top level,
      # tool_use blocks in assistant messages and tool_result blocks first in the user message
      # that follows, thinking blocks (with their signatures) ahead of tool_use when extended
      # thinking is on, as the API requires for tool loops. Thinking is what the model takes
      # (ModelRegistry::Thinking): a token budget ({type: "enabled", budget_tokens:}) for Claude
      # before 4.6 and for 4.6 when one was registered; otherwise {type: "adaptive"}, with the
      # effort, when set, in output_config.effort. Prompt caching (CacheBreakpoints) marks the
      # tools, the system prompt and the conversation prefix unless the model was registered
      # with prompt_caching: false.
      class RequestBuilder
        def initialize(entry)
          @entry = entry
        end

        def build(system:, messages:, tools: [])
          body = {model: @entry.model_id, max_tokens: max_tokens, stream: true}
          body[:system] = system.to_s unless system.nil? || system.to_s.empty?
          body[:messages] = Request::History.normalize(messages).filter_map { |role, parts| message(role, parts) }
          body[:tools] = tools.map { |tool| Request::History.tool_hash(tool) } if tools.any?
          add_thinking(body)
          cache_breakpoints&.apply(body)
          body
        end

        private

        # nil when the model was registered with prompt_caching: false.
        def cache_breakpoints
          setting = @entry.prompt_caching
          return nil unless setting

          CacheBreakpoints.new(ttl: setting.is_a?(String) ? setting : nil)
        end

        # Whether the model's turns carry thinking blocks to send back: thinking was asked for,
        # or the model thinks unless told not to (ModelRegistry::Thinking.on_by_default?).
        def thinks?
          @entry.thinking? || ModelRegistry::Thinking.on_by_default?(@entry.provider, @entry.model_id)
        end

        def add_thinking(body)
          return unless @entry.thinking?

          if budget
            body[:thinking] = {type: "enabled", budget_tokens: budget}
          else
            body[:thinking] = {type: "adaptive"}
            body[:output_config] = {effort: @entry.effort} if @entry.effort
          end
        end

        # The registered budget (Entry refuses one for adaptive-only models); nil means adaptive
        # when the model takes it, else no thinking for a budget model switched on with true.
        def budget
          return @entry.thinking if @entry.thinking.is_a?(Integer)

          DEFAULT_BUDGET if @entry.thinking_style == :budget
        end

        # A budget model switched on with thinking: true or an effort gets this many tokens.
        DEFAULT_BUDGET = 4096

        def max_tokens
          return @entry.max_tokens unless budget && @entry.max_tokens <= budget

          budget + 4096
        end

        def message(role, parts)
          blocks = parts.filter_map { |part| block(part) }
          # Thinking leads an assistant message; tool results lead a user message.
          first = (role == "assistant") ? %w[thinking redacted_thinking] : %w[tool_result]
          blocks = blocks.partition { |block| first.include?(block[:type]) }.flatten
          return nil if blocks.empty?

          {role: role, content: blocks}
        end

        def block(part)
          case part[:type]
          when "text"
            text = part[:text].to_s
            text.strip.empty? ? nil : {type: "text", text: text}
          when "image", "document"
            {type: part[:type], source: {type: "base64", media_type: Request::History.media_type(part), data: Request::History.base64(part)}}
          when "tool_call"
            {type: "tool_use", id: part[:id].to_s, name: part[:name].to_s, input: Request::History.arguments(part[:arguments])}
          when "tool_result"
            block = {type: "tool_result", tool_use_id: part[:tool_call_id].to_s, content: Request::History.result_text(part[:content])}
            block[:is_error] = true if part[:is_error]
            block
          when "thinking"
            # A part with an id is an OpenAI Responses reasoning item (after an escalation from
            # it): its encrypted content is no signature Claude would accept.
            return nil unless thinks? && part[:signature] && part[:id].nil?

            {type: "thinking", thinking: part[:thinking].to_s, signature: part[:signature].to_s}
          when "redacted_thinking"
            return nil unless thinks?

            {type: "redacted_thinking", data: part[:data].to_s}
          end
        end
      end
    end
  end
end
