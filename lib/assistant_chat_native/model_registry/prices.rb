# frozen_string_literal: true

module AssistantChatNative
  class ModelRegistry
    # What the providers charge, in USD per million tokens, for the model ids the registry
    # defaults to: input, output, cache read and cache write (Anthropic's 5-minute write: the
    # price prompt_caching: true pays; a "1h" write costs 2x input and is not priced here).
    # A price nil here was not found on the provider's own pages: a turn that needs it has an
    # unknown cost (nil), never a guessed one. An Entry registered with prices: overrides its row.
    # Read 2026-12-03 with the project's search; sources:
    #
    # Anthropic, platform.claude.com/docs/.../models/sonnet-5-5/overview: Sonnet 5.5 $2 input,
    #   $10 output, $2.50 5m cache write ($4 1h), $0.20 cache read (0.1x input). Pricing
    #   trackers (claude-usage 1.5.7, claudit 1.9.2, PromptFuel 1.0.23) record a cut of cache
    #   hits to $0.10 on 2026-10-07 that Anthropic's own page, as read here, does not show: the
    #   provider's page wins until it says so; register(prices:) overrides a row meanwhile.
    #   Haiku 5.5 (the same trackers, from the pricing page): prompts up to
    #   100,000 tokens (input + cache reads + writes) $0.10 / $0.50, 5m write $0.125, read $0.01;
    #   longer prompts pay 5x on every token of the request.
    # OpenAI, developers.openai.com/api/docs/models/gpt-6.1-sol and gpt-6.1-terra (as quoted by
    #   release notes of Sep 30 - Oct 27, 2026): Sol $2 input, $0.10 cached input, $10 output;
    #   Terra $1, $0.05, $5, and $1.25 for a 30-minute cache write. Sol's cache-write price was
    #   not found: nil. Past 272K input tokens a request pays 2x input and cached input, 1.5x
    #   output.
    # Google, ai.google.dev/gemini-api/docs/pricing (as quoted Mar-Jul 2026): gemini-3.1-pro-preview
    #   $2 input, $12 output, $0.20 context-cache read up to 200K-token prompts; $4 and $18 past
    #   200K (the long prompts' cache read was not found: nil). Implicit caching charges no
    #   write. gemini-3.8-flash: not found on Google's pages (only resellers list it): nil.
    module Prices
      # long_prompt: the rates a request pays on every token when its prompt is over `above`
      # tokens (input, cache reads and cache writes together).
      Row = Struct.new(:input, :output, :cache_read, :cache_write, :long_prompt, keyword_init: true) do
        # The rates for one request of `prompt_tokens`.
        def for_prompt(prompt_tokens)
          long = long_prompt
          return self unless long && prompt_tokens > long[:above]

          Row.new(input: long[:input], output: long[:output], cache_read: long[:cache_read],
            cache_write: long[:cache_write])
        end

        def to_h
          super.compact
        end
      end

      TABLE = {
        # Anthropic
        "claude-sonnet-5-5" => Row.new(input: 2.0, output: 10.0, cache_read: 0.20, cache_write: 2.50),
        "claude-haiku-5-5" => Row.new(input: 0.10, output: 0.50, cache_read: 0.01, cache_write: 0.125,
          long_prompt: {above: 100_000, input: 0.50, output: 2.50, cache_read: 0.05, cache_write: 0.625}),
        # OpenAI
        "gpt-6.1-sol" => Row.new(input: 2.0, output: 10.0, cache_read: 0.10, cache_write: nil,
          long_prompt: {above: 272_000, input: 4.0, output: 15.0, cache_read: 0.20, cache_write: nil}),
        "gpt-6.1-terra" => Row.new(input: 1.0, output: 5.0, cache_read: 0.05, cache_write: 1.25,
          long_prompt: {above: 272_000, input: 2.0, output: 7.50, cache_read: 0.10, cache_write: nil}),
        # Google
        "gemini-3.1-pro-preview" => Row.new(input: 2.0, output: 12.0, cache_read: 0.20, cache_write: nil,
          long_prompt: {above: 200_000, input: 4.0, output: 18.0, cache_read: nil, cache_write: nil}),
        "gemini-3.8-flash" => Row.new(input: nil, output: nil, cache_read: nil, cache_write: nil)
      }.freeze

      # The row for model_id, or nil when the table has none.
      def self.[](model_id)
        TABLE[model_id.to_s]
      end

      # A Row from a Hash of the four prices (and long_prompt:), as register(prices:) takes it.
      def self.row(prices)
        return prices if prices.nil? || prices.is_a?(Row)

        prices = prices.to_h.transform_keys(&:to_sym)
        unknown = prices.keys - Row.members
        raise ConfigurationError, "unknown price(s) #{unknown.inspect}; known: #{Row.members.inspect}" if unknown.any?

        Row.new(**prices)
      end

      # One request's cost in USD: nil when a count it reported has no price. usage is the
      # Result's ({input_tokens:, output_tokens:, cache_read_tokens:, cache_write_tokens:});
      # cached_input_included says whether the provider's input_tokens count the cache reads
      # (OpenAI, Gemini) or leave them out (Anthropic), so each token is billed once, cache
      # reads at the cache-read price.
      def self.cost(row, usage, cached_input_included:)
        counts = usage.to_h.transform_keys(&:to_sym)
        read = counts[:cache_read_tokens].to_i
        write = counts[:cache_write_tokens].to_i
        input = counts[:input_tokens].to_i
        fresh = cached_input_included ? [input - read, 0].max : input
        rates = row&.for_prompt(fresh + read + write)
        billed = {input: fresh, output: counts[:output_tokens].to_i, cache_read: read, cache_write: write}
        total = 0.0
        billed.each do |kind, tokens|
          next if tokens.zero?

          price = rates&.public_send(kind)
          return nil if price.nil?

          total += tokens * price / 1_000_000.0
        end
        total.round(10)
      end

      # nil when any cost is unknown, else their sum.
      def self.sum(costs)
        costs.include?(nil) ? nil : costs.sum(0.0).round(10)
      end
    end
  end
end
