# frozen_string_literal: true

require "json"

module AssistantChatNative
  # The compaction Turn uses when the provider says the context is too long and the handler
  # has no #compact of its own. Each call frees a step's worth of room and returns a new
  # history (the one given is not changed):
  #
  # 1. while tool results remain, the oldest half of them are replaced by a short note
  #    (the calls stay, so every provider still sees each call answered);
  # 2. then the oldest half of the earlier exchanges (a user message and everything up to
  #    the next one) are dropped.
  #
  # The system prompt is not part of the history and the latest user message, with all that
  # follows it, is always kept. When nothing is left to remove, the history comes back
  # unchanged and Turn gives up.
  class Compactor
    ELIDED = "[Tool result removed to keep the conversation within the model's context window.]"

    def call(messages)
      messages = JSON.parse(JSON.generate(messages))
      elide_tool_results(messages) || drop_exchanges(messages) || messages
    end

    private

    def elide_tool_results(messages)
      results = messages.flat_map do |message|
        content = message["content"]
        next [] unless content.is_a?(Array)

        content.select { |part| part["type"] == "tool_result" && part["content"] != ELIDED }
      end
      return nil if results.empty?

      results.first((results.size + 1) / 2).each { |part| part["content"] = ELIDED }
      messages
    end

    def drop_exchanges(messages)
      latest = messages.rindex { |message| exchange_start?(message) }
      return nil if latest.nil? || latest.zero?

      starts = (0...latest).select { |index| exchange_start?(messages[index]) }
      cut = starts[(starts.size + 1) / 2] || latest
      messages[cut..]
    end

    # A user message that says something, rather than one that only answers tool calls.
    def exchange_start?(message)
      return false unless message["role"] == "user"

      content = message["content"]
      content.is_a?(String) || Array(content).any? { |part| part["type"] != "tool_result" }
    end
  end
end
