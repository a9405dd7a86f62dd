# frozen_string_literal: true

require_relative "model_registry/entry"
require_relative "model_registry/lifecycle"
require_relative "model_registry/retirement_warning"

module AssistantChatNative
  # Maps the model keys an app uses ("claude-sonnet") to a provider, the provider's model id,
  # a tier and an endpoint. The defaults cover the three providers at two tiers; register more
  # (or override a default) in the initializer:
  #
  #   AssistantChatNative.configure do |config|
  #     config.models.register("claude-opus", provider: :anthropic, model_id: "claude-opus-5-5",
  #       tier: :high, max_tokens: 16_000, thinking: true, effort: "high")
  #   end
  #
  # The defaults are the providers' current models as of 2026-12 (sources in
  # model_registry/lifecycle.rb); `rake assistant_chat_native:models` lists them with their
  # end of life.
  class ModelRegistry
    DEFAULTS = {
      "claude-sonnet" => {provider: :anthropic, model_id: "claude-sonnet-5-5", tier: :high},
      "claude-haiku" => {provider: :anthropic, model_id: "claude-haiku-5-5", tier: :low},
      "gpt" => {provider: :openai, model_id: "gpt-6.1-sol", tier: :high},
      "gpt-mini" => {provider: :openai, model_id: "gpt-6.1-terra", tier: :low},
      "gemini-pro" => {provider: :gemini, model_id: "gemini-3.1-pro-preview", tier: :high},
      "gemini-flash" => {provider: :gemini, model_id: "gemini-3.8-flash", tier: :low}
    }.freeze

    def self.default
      new.tap { |registry| DEFAULTS.each { |key, options| registry.register(key, **options) } }
    end

    def initialize
      @entries = {}
      @mutex = Mutex.new
    end

    # Adds or replaces a model. Options as ModelRegistry::Entry#initialize.
    def register(key, **options)
      entry = Entry.new(key: key, **options)
      @mutex.synchronize { @entries[entry.key] = entry }
      entry
    end

    def remove(key)
      @mutex.synchronize { @entries.delete(key.to_s) }
    end

    # The entry for key; ConfigurationError naming the known keys when there is none.
    def fetch(key)
      @entries.fetch(key.to_s) do
        raise ConfigurationError, "unknown model #{key.to_s.inspect}: known models are " \
          "#{keys.join(", ")}; register it with AssistantChatNative.config.models.register"
      end
    end
    alias_method :[], :fetch

    def key?(key)
      @entries.key?(key.to_s)
    end

    def keys
      @entries.keys.sort
    end

    def each(&block)
      @entries.values.each(&block)
    end
    include Enumerable

    def inspect
      "#<#{self.class.name} #{keys.join(", ")}>"
    end

    # Each entry as Entry#as_json shows it: no API key, base URLs redacted.
    def as_json(*)
      map(&:as_json)
    end

    def to_json(*args)
      as_json.to_json(*args)
    end
  end
end
