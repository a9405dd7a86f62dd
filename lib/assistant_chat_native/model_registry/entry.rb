# frozen_string_literal: true

require "ipaddr"
require "uri"
require_relative "../redaction"
require_relative "../providers"
require_relative "lifecycle"
require_relative "prices"
require_relative "thinking"

module AssistantChatNative
  class ModelRegistry
    # One model the app may ask for: which provider serves it, under which id, at which tier,
    # and where to send the request. The API key and base URL come from the environment unless
    # given; neither the key nor any header carrying it ever appears in #inspect, #to_s,
    # #to_h, #as_json or #to_json, and the base URL shows there without its userinfo and
    # query (Redaction.url).
    #
    #   key         the registry key the app uses ("claude-sonnet")
    #   provider    :anthropic, :openai or :gemini
    #   model_id    the provider's model id ("claude-sonnet-5-5")
    #   tier        :low or :high (a low-tier model may escalate to ESCALATION_MODEL)
    #   max_tokens  the reply's token limit (Anthropic requires one; others send it when set)
    #   thinking    nil (off), true (on, the model's own depth) or a token budget for the models
    #               that take one (Claude before 4.6, Gemini 2.5). A budget for a model that
    #               takes only adaptive thinking or levels (Claude 5.x, Gemini 3.x, OpenAI) raises
    #               ConfigurationError here rather than being sent and refused: use effort:.
    #   effort      "low", "medium", "high" (Anthropic also "xhigh", "max"): Anthropic's
    #               output_config.effort, OpenAI's reasoning_effort, Gemini 3's thinkingLevel.
    #               Setting it turns thinking on where the model has a switch.
    #   retires_on  a Date (or "YYYY-MM-DD") overriding the Lifecycle table's end of life
    #   prices      {input:, output:, cache_read:, cache_write:} in USD per million tokens
    #               (and long_prompt:, as in Prices), overriding the Prices table's row: for a
    #               model the table lacks, such as one on a compatible server
    #   prompt_caching  Anthropic: true (default) marks the tools, system prompt and
    #               conversation prefix for caching with the API's 5-minute lifetime; "1h" for
    #               the one-hour lifetime (writes cost 2x input instead of 1.25x); "5m" as true;
    #               false sends no cache_control. OpenAI and Gemini cache on their own.
    #   api         OpenAI only: :responses (the default on OpenAI's own endpoint) or
    #               :chat_completions (the default for a model registered with base_url:, an
    #               OpenAI-compatible server)
    #   dialect     what goes on the wire, derived: the provider's name, or for OpenAI's
    #               Responses :openai_responses (Providers::OpenAI#dialect_for)
    class Entry
      TIERS = %i[low high].freeze

      attr_reader :key, :provider, :dialect, :model_id, :tier, :max_tokens, :thinking, :effort, :prompt_caching

      def initialize(key:, provider:, model_id:, tier: :high, max_tokens: nil, thinking: nil, effort: nil,
        retires_on: nil, api_key: nil, base_url: nil, api: nil, prompt_caching: true, prices: nil)
        @key = key.to_s
        @model_id = model_id.to_s
        @tier = tier.to_sym
        begin
          @provider = Providers.fetch(provider).name
          @dialect = Providers.fetch(@provider).dialect_for(api, custom_base_url: !(base_url.nil? || base_url.to_s.empty?))
        rescue ConfigurationError => e
          raise ConfigurationError, "model #{@key.inspect}: #{e.message}"
        end
        unless TIERS.include?(@tier)
          raise ConfigurationError, "model #{@key.inspect}: unknown tier #{tier.inspect}; use :low or :high"
        end
        @max_tokens = max_tokens || provider_object.default_max_tokens
        @thinking = thinking
        @effort = effort&.to_s
        refuse_budget if thinking.is_a?(Integer) && Thinking.budget_refused?(@provider, @model_id)
        @retires_on = retires_on && Date.parse(retires_on.to_s)
        @prompt_caching = prompt_caching_setting(prompt_caching)
        begin
          @prices = Prices.row(prices)
        rescue ConfigurationError => e
          raise ConfigurationError, "model #{@key.inspect}: #{e.message}"
        end
        @api_key = api_key
        @base_url = base_url
        freeze
      end

      def low_tier?
        tier == :low
      end

      # Whether the request asks the model to reason (a budget, true, or an effort).
      def thinking?
        !!(thinking || effort)
      end

      # How the model takes reasoning settings: :adaptive, :budget, :level or :effort (Thinking).
      def thinking_style
        Thinking.style(provider, model_id)
      end

      # The announced end of life: retires_on: when given, else the Lifecycle table's; nil if none.
      def retires_on
        @retires_on || Lifecycle[model_id]&.retires_on
      end

      # USD per million tokens (a Prices::Row): prices: when given, else the Prices table's;
      # nil when neither has the model.
      def prices
        @prices || Prices[model_id]
      end

      # One request's cost in USD from its Result's usage, cache discounts included; nil when
      # a count it reported has no known price.
      def cost(usage)
        Prices.cost(prices, usage, cached_input_included: provider_object.cached_input_included?)
      end

      # The provider's named replacement, when the Lifecycle table has one.
      def replacement
        Lifecycle[model_id]&.replacement
      end

      # The explicit key, else the provider's environment variable (read at call time, so a
      # key set after boot is seen). nil when neither is set.
      def api_key
        value = @api_key || ENV[provider_object.api_key_variable]
        (value.nil? || value.empty?) ? nil : value
      end

      def base_url
        value = @base_url || ENV[provider_object.base_url_variable]
        value = provider_object.default_base_url if value.nil? || value.empty?
        value.chomp("/")
      end

      # The streaming endpoint for this model.
      def url
        "#{base_url}#{provider_object.path(model_id)}"
      end

      # Request headers, the API key included. Raises ConfigurationError when the public
      # endpoint is used without a key (a base-URL override, such as LocalProvider, needs none),
      # and when a key would travel over plain http:// to a host that is neither loopback
      # (127.0.0.0/8, ::1, localhost) nor in allow_plain_http_hosts (the setting
      # config.allow_plain_http_hosts, which Turn passes): the key is never sent in clear text
      # across a network unless the host is named as a trusted internal gateway.
      def headers(allow_plain_http_hosts: [])
        key = api_key
        if key.nil? && base_url == provider_object.default_base_url
          raise ConfigurationError, "model #{self.key.inspect} needs an API key: set " \
            "#{provider_object.api_key_variable} or pass api_key: when registering it"
        end
        refuse_plain_http(allow_plain_http_hosts) if key
        {"content-type" => "application/json", "accept" => "text/event-stream"}.merge(provider_object.headers(key))
      end

      LOOPBACK_NAMES = %w[localhost localhost.].freeze

      # Whether host is loopback: 127.0.0.0/8, ::1 (IPv4-mapped too) or localhost.
      def self.loopback?(host)
        host = host.to_s.downcase.delete_prefix("[").delete_suffix("]")
        return true if LOOPBACK_NAMES.include?(host)

        address = IPAddr.new(host)
        address = address.native if address.ipv4_mapped?
        address.loopback?
      rescue IPAddr::Error
        false
      end

      # The dialect's provider object (Providers): its endpoint, environment variables and headers.
      private def provider_object
        Providers.fetch(dialect)
      end

      private def refuse_plain_http(allowed)
        uri = URI.parse(base_url)
        return unless uri.scheme&.casecmp?("http")

        host = uri.hostname.to_s
        return if self.class.loopback?(host) || allowed.any? { |name| name.to_s.casecmp?(host) }

        raise ConfigurationError, "model #{key.inspect}: refusing to send its API key over plain http:// " \
          "to #{host.inspect}: use an https:// base URL, or, for a trusted internal gateway, " \
          "add #{host.inspect} to config.allow_plain_http_hosts"
      rescue URI::InvalidURIError
        raise ConfigurationError, "model #{key.inspect}: its base URL is not a valid URL"
      end

      private def prompt_caching_setting(value)
        return value if [true, false].include?(value)
        return "1h" if value.to_s == "1h"
        return true if value.to_s == "5m"

        raise ConfigurationError, "model #{@key.inspect}: prompt_caching must be true, false, \"5m\" or \"1h\", " \
          "got #{value.inspect}"
      end

      private def refuse_budget
        raise ConfigurationError, "model #{key.inspect}: #{model_id} takes no thinking token budget " \
          "(#{thinking_style} thinking); register it with thinking: true and effort: \"low\", \"medium\" or \"high\""
      end

      def to_h
        {key: key, provider: provider, dialect: dialect, model_id: model_id, tier: tier, max_tokens: max_tokens,
         thinking: thinking, effort: effort, prompt_caching: prompt_caching, retires_on: retires_on&.iso8601,
         base_url: Redaction.url(base_url), api_key: Redaction.key(api_key)}
      end

      # What ActiveSupport serializes (without it, its instance variables, the key among them).
      def as_json(*)
        to_h.transform_keys(&:to_s).transform_values { |value| value.is_a?(Symbol) ? value.to_s : value }
      end

      def to_json(*args)
        as_json.to_json(*args)
      end

      def inspect
        "#<#{self.class.name} #{key} #{provider}:#{model_id} tier=#{tier} base_url=#{Redaction.url(base_url)} " \
          "api_key=#{Redaction.key(api_key) || "nil"}>"
      end
      alias_method :to_s, :inspect
    end
  end
end
