# frozen_string_literal: true

require "date"

module AssistantChatNative
  class ModelRegistry
    # The providers' announced end of life for the model ids this gem has used or defaults to:
    # model id => the date requests start to fail (Anthropic "retires", OpenAI and Google "shut
    # down"), and the replacement the provider names. An id missing here has no announced date.
    # An Entry registered with retires_on: overrides its row. Read 2026-12-03; sources:
    #
    # Anthropic, https://platform.claude.com/docs/en/models/sonnet-4-5/overview (and its
    #   translations): Sonnet 4.5 "retires on November 30, 2026. Recommended replacement: Claude
    #   Sonnet 5.5". https://platform.claude.com/docs/about-claude/models/overview: current lineup
    #   Fable 5.1, Opus 5.5, Sonnet 5.5, Haiku 5.5; models/sonnet-5-5/whats-new-sonnet-5-5 gives
    #   Sonnet 5.5's Claude API ID, claude-sonnet-5-5. The haiku-4-5 page calls it "Legacy": no date.
    #   anthropic-sdk-python DEPRECATED_MODELS (0.121.0, Aug 2026): sonnet-4-0/opus-4-0 June 15th,
    #   2026; 3-7-sonnet and 3-5-haiku February 19th, 2026 (PyPI anthropic 1.11.0 adds
    #   "claude-sonnet-4-5": "November 30th, 2026"). A reseller's note said September 29, 2026 for
    #   Sonnet 4.5: that is its own migration date, not Anthropic's.
    # OpenAI, https://developers.openai.com/api/docs/deprecations: gpt-5 and gpt-5-mini (and
    #   their snapshots) shut down Dec 11, 2026, replaced by gpt-6.1-sol and gpt-6.1-terra. Posts
    #   from June-October 2026 name gpt-5.6-sol/-terra instead: the page was updated after
    #   GPT-6.1 shipped (Sep 29, 2026), so the page's newer names win.
    # Google, https://ai.google.dev/gemini-api/docs/deprecations (read Nov 10, 2026 by
    #   aideprecations.com): gemini-2.5-pro and gemini-2.5-flash shut down Dec 1, 2026,
    #   replaced by gemini-3.8-flash and gemini-3.5-flash-lite. Earlier versions of that page
    #   said June 17, 2026 ("earliest"); the later, exact date wins. gemini-3-pro-preview shut
    #   down March 9, 2026 (replacement gemini-3.1-pro-preview).
    module Lifecycle
      Row = Struct.new(:retires_on, :replacement, keyword_init: true)

      TABLE = {
        # Anthropic
        "claude-sonnet-4-5" => Row.new(retires_on: Date.new(2026, 11, 30), replacement: "claude-sonnet-5-5"),
        "claude-sonnet-4-5-20250929" => Row.new(retires_on: Date.new(2026, 11, 30), replacement: "claude-sonnet-5-5"),
        "claude-sonnet-4-0" => Row.new(retires_on: Date.new(2026, 6, 15), replacement: "claude-sonnet-5-5"),
        "claude-sonnet-4-20250514" => Row.new(retires_on: Date.new(2026, 6, 15), replacement: "claude-sonnet-5-5"),
        "claude-opus-4-0" => Row.new(retires_on: Date.new(2026, 6, 15), replacement: "claude-opus-5-5"),
        "claude-opus-4-20250514" => Row.new(retires_on: Date.new(2026, 6, 15), replacement: "claude-opus-5-5"),
        "claude-3-7-sonnet-20250219" => Row.new(retires_on: Date.new(2026, 2, 19), replacement: "claude-sonnet-5-5"),
        "claude-3-7-sonnet-latest" => Row.new(retires_on: Date.new(2026, 2, 19), replacement: "claude-sonnet-5-5"),
        "claude-3-5-haiku-20241022" => Row.new(retires_on: Date.new(2026, 2, 19), replacement: "claude-haiku-5-5"),
        "claude-3-5-haiku-latest" => Row.new(retires_on: Date.new(2026, 2, 19), replacement: "claude-haiku-5-5"),
        # OpenAI
        "gpt-5" => Row.new(retires_on: Date.new(2026, 12, 11), replacement: "gpt-6.1-sol"),
        "gpt-5-2025-08-07" => Row.new(retires_on: Date.new(2026, 12, 11), replacement: "gpt-6.1-sol"),
        "gpt-5-mini" => Row.new(retires_on: Date.new(2026, 12, 11), replacement: "gpt-6.1-terra"),
        "gpt-5-mini-2025-08-07" => Row.new(retires_on: Date.new(2026, 12, 11), replacement: "gpt-6.1-terra"),
        # Google
        "gemini-2.5-pro" => Row.new(retires_on: Date.new(2026, 12, 1), replacement: "gemini-3.8-flash"),
        "gemini-2.5-flash" => Row.new(retires_on: Date.new(2026, 12, 1), replacement: "gemini-3.5-flash-lite"),
        "gemini-3-pro-preview" => Row.new(retires_on: Date.new(2026, 3, 9), replacement: "gemini-3.1-pro-preview")
      }.freeze

      # Within this many days of its end of life a model is warned about.
      WARN_WITHIN_DAYS = 30

      # The row for model_id, or nil when no end of life is announced.
      def self.[](model_id)
        TABLE[model_id.to_s]
      end

      # Days from today until retires_on (negative once it has passed).
      def self.days_left(retires_on, today: Date.today)
        (retires_on - today).to_i
      end

      # "retired 2026-11-30" or "in 8 days (2026-12-11)".
      def self.describe(retires_on, today: Date.today)
        days = days_left(retires_on, today: today)
        return "retired #{retires_on.iso8601}" if days <= 0

        "in #{days} day#{"s" unless days == 1} (#{retires_on.iso8601})"
      end
    end
  end
end
