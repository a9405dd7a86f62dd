# frozen_string_literal: true

require "date"
require_relative "lifecycle"

module AssistantChatNative
  class ModelRegistry
    # The registry as a plain-text table (`rake assistant_chat_native:models`): one row per key
    # with provider, model id, tier, what it sends for thinking, its end of life, and its prices
    # in USD per million tokens: input/output/cache read/cache write ("-" for one not known;
    # Anthropic's cache write is the 5-minute one), then the long-prompt rates where a provider
    # charges more past a prompt length.
    class Table
      HEADERS = ["key", "provider", "model id", "tier", "thinking", "end of life",
        "USD/MTok in/out/cache read/cache write"].freeze

      def initialize(registry, today: Date.today)
        @registry = registry
        @today = today
      end

      def rows
        @registry.sort_by(&:key).map do |entry|
          [entry.key, entry.provider.to_s, entry.model_id, entry.tier.to_s, thinking(entry), end_of_life(entry),
            prices(entry.prices)]
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

      PRICE_KINDS = %i[input output cache_read cache_write].freeze

      def prices(row)
        return "unknown" if row.nil? || PRICE_KINDS.all? { |kind| row[kind].nil? }

        text = PRICE_KINDS.map { |kind| price(row[kind]) }.join("/")
        long = row.long_prompt
        return text unless long

        "#{text}, over #{long[:above] / 1000}K prompt tokens #{PRICE_KINDS.map { |kind| price(long[kind]) }.join("/")}"
      end

      # "2.00", "0.125"; "-" when not known.
      def price(value)
        return "-" if value.nil?

        (value == value.round(2)) ? format("%.2f", value) : value.to_s
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
