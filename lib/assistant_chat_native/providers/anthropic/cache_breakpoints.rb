# frozen_string_literal: true

module AssistantChatNative
  module Providers
    class Anthropic < Provider
      # Prompt caching for a Messages body: cache_control breakpoints on what stays the same
      # from one request to the next, so the next round and the next turn read that prefix
      # from the cache (billed at a tenth of the input price or less) instead of paying for it
      # again. Anthropic caches the prefix up to and including each marked block, in the order
      # tools, system, messages, and allows at most four breakpoints per request. Placed here:
      #
      #   1. the last tool definition (the tools)
      #   2. the system prompt (tools and system)
      #   3. the last block before the newest user turn (the conversation so far)
      #   4. the last tool result, when the request ends with the previous round's results
      #      (the turn so far, which the next round sends again)
      #
      # A prefix shorter than the model's minimum cacheable length (1,024 to 4,096 tokens,
      # per model) is simply not cached: the API neither errs nor charges for it. Thinking
      # blocks cannot carry cache_control, so a message's last other block is marked.
      # ttl: nil sends no ttl (the API's 5 minutes); "1h" writes cost more and last longer.
      # Source: Anthropic's prompt-caching guide (platform.claude.com/docs/en/build-with-claude/
      # prompt-caching), as the client libraries and write-ups that quote it give it (read
      # 2026-12-03; the page itself was not in reach): at most 4 explicit breakpoints,
      # cache_control {type: "ephemeral", ttl: "5m" | "1h"}, minimum lengths per model,
      # thinking blocks not cacheable on their own. The guide's other mode, one top-level
      # cache_control that follows the conversation, is not used: explicit breakpoints also
      # keep the tools and system prompt cached while the conversation changes.
      class CacheBreakpoints
        MAX = 4
        UNMARKABLE = %w[thinking redacted_thinking].freeze

        def initialize(ttl: nil)
          @control = {type: "ephemeral"}
          @control[:ttl] = ttl.to_s if ttl
          @control.freeze
        end

        # Marks the body built by RequestBuilder in place and returns it.
        def apply(body)
          marked = 0
          mark = lambda do |block|
            next if block.nil? || marked >= MAX

            block[:cache_control] = @control
            marked += 1
          end
          mark.call(body[:tools]&.last)
          if body[:system].is_a?(String)
            body[:system] = [{type: "text", text: body[:system]}]
            mark.call(body[:system].last)
          end
          conversation_blocks(body[:messages] || []).each(&mark)
          body
        end

        private

        # The history before the newest user turn, and the previous round's tool results
        # when they end the request.
        def conversation_blocks(messages)
          newest_turn = messages.rindex { |message| message[:role] == "user" && !tool_results?(message) }
          blocks = []
          blocks << last_markable(messages[newest_turn - 1]) if newest_turn&.positive?
          blocks << last_markable(messages.last) if messages.size > 1 && tool_results?(messages.last)
          blocks.compact.uniq(&:object_id)
        end

        def tool_results?(message)
          message[:role] == "user" && message[:content].any? { |block| block[:type] == "tool_result" }
        end

        def last_markable(message)
          message[:content].reverse.find { |block| !UNMARKABLE.include?(block[:type]) }
        end
      end
    end
  end
end
