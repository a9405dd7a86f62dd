# frozen_string_literal: true

require_relative "error"
require_relative "providers/provider"

module AssistantChatNative
  # The registry of providers. Each has a folder under providers/ holding all that the Ruby
  # side does differently for it: the provider object (endpoint, API-key variable, headers,
  # LocalProvider's routes), its request builder, its RubyStream normalizer and its
  # LocalProvider writer. Code outside the folders asks the registry rather than listing the
  # providers; the exceptions are tables about models and error bodies, not the wire
  # (ModelRegistry::Thinking, the default models, the fallback classifier's error shapes).
  #
  #   AssistantChatNative::Providers.fetch(:openai).default_base_url # => "https://api.openai.com/v1"
  module Providers
    # One line per provider, in the C core's order (ACN_PROVIDERS in core/acn.h, the dialect
    # table): the same names, so that what Ruby accepts is what the extension accepts.
    NAMES = %i[anthropic openai gemini openai_responses].freeze
    # The providers whose parts had names of their own under the class that uses them before
    # the parts moved into providers/<name>/ (see .load_part); a provider added since has none.
    FORMER_NAMES = %w[Anthropic OpenAI Gemini].freeze

    @by_name = {}

    class << self
      # Called by each providers/<name>/provider.rb with its one instance.
      def register(provider)
        @by_name[provider.name] = provider
      end

      # => [Symbol], in NAMES' order.
      def names
        NAMES
      end

      # => [Provider], in NAMES' order.
      def all
        NAMES.map { |name| @by_name.fetch(name) }
      end

      def each(&)
        all.each(&)
      end

      # The provider object for a name (Symbol or String); ConfigurationError for any other.
      def fetch(name)
        provider = @by_name[name.to_sym] if name.respond_to?(:to_sym)
        provider or raise ConfigurationError, "unknown provider #{name.inspect}; use #{choices}"
      end

      # ":anthropic, :openai, :gemini or :openai_responses", as the extension's own message lists them.
      def choices
        sentence(NAMES.map(&:inspect))
      end

      # Loads one part ("request_builder", "normalizer" or "writer") of every provider for
      # the class that uses it, and keeps the part's former name under that class for code
      # that names it: old_name with the provider's class name in it ("%sWriter":
      # LocalProvider::OpenAIWriter; "%s": Request::OpenAI).
      def load_part(file, into:, old_name:)
        each { |provider| require provider.part(file) }
        part = file.split("_").map(&:capitalize).join
        FORMER_NAMES.each { |name| into.const_set(format(old_name, name), const_get(name).const_get(part, false)) }
      end

      # "a", "a or b", "a, b or c" (or: "and").
      def sentence(words, last: "or")
        return words.join if words.size < 2

        "#{words[0...-1].join(", ")} #{last} #{words[-1]}"
      end
    end

    NAMES.each { |name| require_relative "providers/#{name}/provider" }
  end
end
