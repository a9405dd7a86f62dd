# frozen_string_literal: true

require "spec_helper"

RSpec.describe AssistantChatNative::ModelRegistry do
  around do |example|
    saved = ENV.to_h.slice(*%w[ANTHROPIC_API_KEY ANTHROPIC_BASE_URL OPENAI_API_KEY OPENAI_BASE_URL GEMINI_API_KEY GEMINI_BASE_URL])
    saved.each_key { |name| ENV.delete(name) }
    example.run
  ensure
    %w[ANTHROPIC_API_KEY ANTHROPIC_BASE_URL OPENAI_API_KEY OPENAI_BASE_URL GEMINI_API_KEY GEMINI_BASE_URL].each { |name| ENV.delete(name) }
    saved.each { |name, value| ENV[name] = value }
  end

  let(:registry) { described_class.default }

  it "has the escalation model, a low and a high tier for Claude and OpenAI, and both Gemini tiers" do
    expect(registry.keys).to include(AssistantChatNative::ESCALATION_MODEL, "claude-haiku", "gpt", "gpt-mini", "gemini-pro", "gemini-flash")
    expect(registry.fetch("claude-sonnet")).to have_attributes(provider: :anthropic, tier: :high)
    expect(registry.fetch("claude-haiku")).to have_attributes(provider: :anthropic, tier: :low)
    expect(registry.fetch("gpt")).to have_attributes(provider: :openai, tier: :high)
    expect(registry.fetch("gpt-mini")).to have_attributes(provider: :openai, tier: :low)
    expect(registry.fetch("gemini-pro")).to have_attributes(provider: :gemini, tier: :high)
    expect(registry.fetch("gemini-flash")).to have_attributes(provider: :gemini, tier: :low, model_id: "gemini-3.8-flash")
  end

  it "names the known keys when asked for an unknown one" do
    expect { registry.fetch("claude-nonexistent") }.to raise_error(AssistantChatNative::ConfigurationError,
      /unknown model "claude-nonexistent": known models are claude-haiku, claude-sonnet, gemini-flash, gemini-pro, gpt, gpt-mini/)
  end

  it "registers and overrides models, rejecting unknown providers and tiers" do
    registry.register("claude-opus", provider: :anthropic, model_id: "claude-opus-4-1", tier: :high)
    expect(registry.fetch(:"claude-opus").model_id).to eq("claude-opus-4-1")
    expect { registry.register("x", provider: :mistral, model_id: "m") }.to raise_error(AssistantChatNative::ConfigurationError, /unknown provider/)
    expect { registry.register("x", provider: :openai, model_id: "m", tier: :mid) }.to raise_error(AssistantChatNative::ConfigurationError, /unknown tier/)
  end

  describe "endpoints" do
    it "uses the public endpoints and each provider's documented auth headers" do
      ENV["ANTHROPIC_API_KEY"] = "sk-ant-secret"
      ENV["OPENAI_API_KEY"] = "sk-openai-secret"
      ENV["GEMINI_API_KEY"] = "gemini-secret"

      anthropic = registry.fetch("claude-sonnet")
      expect(anthropic.url).to eq("https://api.anthropic.com/v1/messages")
      expect(anthropic.headers).to include("x-api-key" => "sk-ant-secret", "anthropic-version" => "2023-06-01",
        "content-type" => "application/json")

      openai = registry.fetch("gpt")
      expect(openai.url).to eq("https://api.openai.com/v1/responses")
      expect(openai.headers).to include("authorization" => "Bearer sk-openai-secret")

      gemini = registry.fetch("gemini-pro")
      expect(gemini.url).to eq("https://generativelanguage.googleapis.com/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent?alt=sse")
      expect(gemini.headers).to include("x-goog-api-key" => "gemini-secret")
    end

    it "speaks Responses to OpenAI, Chat Completions to a compatible server, and what api: names" do
      expect(registry.fetch("gpt")).to have_attributes(provider: :openai, dialect: :openai_responses)
      registry.register("vllm", provider: :openai, model_id: "qwen3", base_url: "http://127.0.0.1:8000/v1")
      expect(registry.fetch("vllm")).to have_attributes(provider: :openai, dialect: :openai)
      expect(registry.fetch("vllm").url).to eq("http://127.0.0.1:8000/v1/chat/completions")
      registry.register("gateway", provider: :openai, api: :responses, model_id: "gpt-6.1-sol", base_url: "http://127.0.0.1:8000/v1")
      expect(registry.fetch("gateway").url).to eq("http://127.0.0.1:8000/v1/responses")
      registry.register("legacy", provider: :openai, api: "chat_completions", model_id: "gpt-4.1")
      expect(registry.fetch("legacy").url).to eq("https://api.openai.com/v1/chat/completions")
      expect(registry.fetch("legacy").to_h).to include(provider: :openai, dialect: :openai)
      expect { registry.register("x", provider: :openai, api: :assistants, model_id: "m") }
        .to raise_error(AssistantChatNative::ConfigurationError, /unknown OpenAI api :assistants; use :responses or :chat_completions/)
      expect { registry.register("x", provider: :anthropic, api: :responses, model_id: "m") }
        .to raise_error(AssistantChatNative::ConfigurationError, /has one API/)
    end

    it "follows the base-URL environment variables and needs no key there" do
      ENV["ANTHROPIC_BASE_URL"] = "http://127.0.0.1:9999/"
      ENV["OPENAI_BASE_URL"] = "http://127.0.0.1:9999/v1"
      ENV["GEMINI_BASE_URL"] = "http://127.0.0.1:9999"
      expect(registry.fetch("claude-haiku").url).to eq("http://127.0.0.1:9999/v1/messages")
      expect(registry.fetch("gpt-mini").url).to eq("http://127.0.0.1:9999/v1/responses")
      expect(registry.fetch("gemini-flash").url).to eq("http://127.0.0.1:9999/v1beta/models/gemini-3.8-flash:streamGenerateContent?alt=sse")
      expect(registry.fetch("claude-haiku").headers).not_to have_key("x-api-key")
    end

    it "refuses the public endpoint without a key, naming the variable to set" do
      expect { registry.fetch("gpt").headers }.to raise_error(AssistantChatNative::ConfigurationError, /OPENAI_API_KEY/)
    end

    it "never shows the key in inspect, to_s or to_h" do
      entry = registry.register("mine", provider: :openai, model_id: "gpt-6.1-sol", api_key: "sk-very-secret")
      expect(entry.headers["authorization"]).to eq("Bearer sk-very-secret")
      [entry.inspect, entry.to_s, entry.to_h.to_s, registry.inspect].each do |text|
        expect(text).not_to include("sk-very-secret")
      end
      expect(entry.inspect).to include("[FILTERED]")
    end

    it "shows a base URL without its userinfo and query in inspect, to_h and as_json" do
      entry = registry.register("gateway", provider: :openai, model_id: "gpt-6.1-sol", api_key: "sk-very-secret",
        base_url: "https://proxy:sk-in-userinfo@gw.example:8443/v1?api-key=sk-in-query")

      expect(entry.url).to eq("https://proxy:sk-in-userinfo@gw.example:8443/v1?api-key=sk-in-query/chat/completions")
      expect(entry.to_h).to include(base_url: "https://[FILTERED]@gw.example:8443/v1?[FILTERED]", api_key: "[FILTERED]")
      expect(entry.as_json).to include("base_url" => "https://[FILTERED]@gw.example:8443/v1?[FILTERED]",
        "api_key" => "[FILTERED]", "provider" => "openai")
      [entry.inspect, entry.to_h.to_s, entry.as_json.to_s].each do |text|
        expect(text).not_to include("sk-very-secret", "sk-in-userinfo", "sk-in-query")
      end
    end

    it "serializes entries and the registry without the key, ActiveSupport loaded or not" do
      entry = registry.register("mine", provider: :gemini, model_id: "gemini-3.1-pro-preview", api_key: "AIzaSyVerySecretVerySecret0")
      plain = [JSON.generate(entry), entry.to_json, registry.to_json]
      require "active_support"
      require "active_support/json"
      serialized = plain + [entry.to_json, registry.to_json, {models: registry}.to_json, [entry].as_json.to_s]

      serialized.each { |json| expect(json).not_to include("AIzaSyVerySecret") }
      expect(JSON.parse(entry.to_json)).to include("key" => "mine", "api_key" => "[FILTERED]")
      expect(JSON.parse(registry.to_json).map { |model| model["key"] }).to include("mine", "claude-sonnet")
    end
  end
end
