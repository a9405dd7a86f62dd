# frozen_string_literal: true

module AssistantChatNative
  module Providers
    # What a provider object answers. A subclass lives in providers/<name>/provider.rb beside
    # the provider's parts, each a class nested in it: RequestBuilder (request_builder.rb),
    # Normalizer (normalizer.rb) and Writer (writer.rb). Request, RubyStream and LocalProvider
    # each load their own part of every provider (Providers.load_part) when they load, so building
    # a request never loads RubyStream nor LocalProvider.
    class Provider
      # :anthropic: the name users write (provider: :anthropic), the folder's and the C dialect's.
      def name
        raise NotImplementedError, "#{self.class} names no provider"
      end

      # The environment variables read when a model is registered without api_key: or base_url:.
      def api_key_variable = "#{name.upcase}_API_KEY"
      def base_url_variable = "#{name.upcase}_BASE_URL"

      # The public endpoint's base URL, without a trailing slash.
      def default_base_url
        raise NotImplementedError, "#{self.class} has no default base URL"
      end

      # The streaming endpoint's path after the base URL, for a model id.
      def path(model_id)
        raise NotImplementedError, "#{self.class} has no endpoint path for #{model_id}"
      end

      # The headers carrying the API key (nil: none is sent) and any the API requires.
      def headers(api_key)
        raise NotImplementedError, "#{self.class} does not say how to send #{api_key ? "a" : "no"} key"
      end

      # The reply's token limit when the model was registered without one (nil: none is sent).
      def default_max_tokens = nil

      # Whether the input token count the provider reports includes the tokens read from its
      # cache (OpenAI's prompt_tokens and input_tokens do), so that a turn's cost bills each
      # token once (ModelRegistry::Prices.cost).
      def cached_input_included? = true

      # The dialect a model registered with this provider speaks: a registered provider's name.
      # api: is the registration's api: option (nil: the provider's default); custom_base_url:
      # whether the model was registered with a base_url: of its own. A provider with one API
      # takes no api: option.
      def dialect_for(api, custom_base_url: false)
        return name if api.nil?

        raise ConfigurationError, "provider #{name.inspect} has one API; leave out api: #{api.inspect}"
      end

      # Whether the provider wants its thinking blocks (with their signatures, or a reasoning
      # item's encrypted content) sent back in the next request, so a Result keeps them.
      def keeps_thinking_blocks? = false

      # The path of one of the provider's parts ("request_builder", "normalizer", "writer").
      def part(file)
        File.join(__dir__, name.to_s, file)
      end

      # The class that builds the request body from the normalized history.
      def request_builder
        self.class::RequestBuilder
      end

      # A new RubyStream normalizer, for one stream.
      def normalizer
        self.class::Normalizer.new
      end

      # A new LocalProvider writer, for one response.
      def writer
        self.class::Writer.new
      end

      # Each part is loaded by the class that uses it (Request, RubyStream, LocalProvider), which
      # loads that part of every provider. A part named before its owner is loaded loads the
      # owner, through the owner's autoload so that Ruby knows it is loading.
      OWNERS = {RequestBuilder: :Request, Normalizer: :RubyStream, Writer: :LocalProvider}.freeze

      def self.const_missing(name)
        return super unless OWNERS.key?(name) && self < Provider

        AssistantChatNative.const_get(OWNERS.fetch(name))
        const_defined?(name, false) ? const_get(name, false) : super
      end

      # LocalProvider: what follows its URL in the base URL a client is given ("" or "/v1"), so
      # that the base URL plus #path is a path LocalProvider answers.
      def local_prefix = ""

      # LocalProvider: whether a POST to this path is this provider's streaming endpoint.
      def answers?(request_path)
        request_path == "#{local_prefix}#{path(nil)}"
      end

      # LocalProvider: the model named in a path it answers (nil: the model is in the body).
      def model_in(path) = nil

      # LocalProvider: whether the client asked for a stream (by default "stream": true).
      def streaming?(path:, json:)
        self.class.stream_asked?(json)
      end

      def self.stream_asked?(json)
        json.is_a?(Hash) && json["stream"] == true
      end

      # LocalProvider: a recorded stream's last event, after which a replay is complete.
      def terminal_event
        raise NotImplementedError, "#{self.class} names no terminal event"
      end

      def inspect
        "#<#{self.class.name} #{name}>"
      end
    end
  end
end
