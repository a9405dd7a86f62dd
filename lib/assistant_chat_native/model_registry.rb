# frozen_string_literal: true

require_relative "model_registry/entry"

module AssistantChatNative
  # Maps the model keys an app uses ("claude-sonnet") to a provider, the provider's model id,
  # a tier and an endpoint. The defaults cover the three providers at two tiers; register more
  # (or override a default) in the initializer:
  #
  #   AssistantChatNative.configure do |config|
  #     config.models.register("claude-opus", provider: :anthropic, model_id: "claude-opus-4-1",
  #       tier: :high, max_tokens: 16_000, thinking: 4_000)
  #   end
  class ModelRegistry
    DEFAULTS = {
      "claude-sonnet" => {provider: :anthropic, model_id: "claude-sonnet-4-5", tier: :high},
      "claude-haiku" => {provider: :anthropic, model_id: "claude-haiku-4-5", tier: :low},
      "gpt" => {provider: :openai, model_id: "gpt-5", tier: :high},
      "gpt-mini" => {provider: :openai, model_id: "gpt-5-mini", tier: :low},
      "gemini-pro" => {provider: :gemini, model_id: "gemini-2.5-pro", tier: :high},
      "gemini-flash" => {provider: :gemini, model_id: "gemini-2.5-flash", tier: :low}
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
