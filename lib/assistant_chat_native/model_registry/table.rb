# frozen_string_literal: true

require "date"
require_relative "lifecycle"

module AssistantChatNative
  class ModelRegistry
    # The registry as a plain-text table (`rake assistant_chat_native:models`): one row per key
    # with provider, model id, tier, what it sends for thinking, and its end of life.
    class Table
      HEADERS = ["key", "provider", "model id", "tier", "thinking", "end of life"].freeze

      def initialize(registry, today: Date.today)
        @registry = registry
        @today = today
      end

      def rows
        @registry.sort_by(&:key).map do |entry|
          [entry.key, entry.provider.to_s, entry.model_id, entry.tier.to_s, thinking(entry), end_of_life(entry)]
        end
      end

      def to_s
        all = [HEADERS] + rows
        widths = HEADERS.each_index.map { |index| all.map { |row| row[index].length }.max }
        all.map { |row| row.each_with_index.map { |cell, index| cell.ljust(widths[index]) }.join("  ").rstrip }
          .join("\n")
      end

      private

      def thinking(entry)
        return "off (#{entry.thinking_style})" unless entry.thinking?

        return "budget #{entry.thinking} tokens" if entry.thinking.is_a?(Integer)

        "#{entry.thinking_style} #{entry.effort || "default depth"}"
      end

      def end_of_life(entry)
        date = entry.retires_on
        return "none announced" unless date

        text = Lifecycle.describe(date, today: @today)
        entry.replacement ? "#{text}, replacement #{entry.replacement}" : text
      end
    end
  end
end
