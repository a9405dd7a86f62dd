# frozen_string_literal: true

require "spec_helper"

RSpec.describe AssistantChatNative::Configuration do
  around do |example|
    saved = AssistantChatNative.config
    AssistantChatNative.reset_config!
    example.run
  ensure
    AssistantChatNative.config = saved
  end

  it "has the documented defaults" do
    config = described_class.new
    expect(config).to have_attributes(broadcast_interval: 0.1, heartbeat_interval: 30, cancel_poll_interval: 0.5,
      stall_timeout: 60, connect_timeout: 10, request_timeout: 600, max_attempts: 3, max_retry_wait: 30,
      max_compaction_retries: 2, escalation_model: "claude-sonnet", max_rounds: 10)
    expect(config.models).to be_a(AssistantChatNative::ModelRegistry)
    expect(config.logger).to respond_to(:warn)
  end

  it "streams with the extension's Stream when it is loaded, else RubyStream" do
    expected = AssistantChatNative.native? ? AssistantChatNative::Stream : AssistantChatNative::RubyStream
    expect(described_class.new.stream_class).to eq(expected)
  end

  it "is changed through AssistantChatNative.configure" do
    AssistantChatNative.configure do |config|
      config.stall_timeout = 5
      config.models.register("local", provider: :openai, model_id: "m", base_url: "http://127.0.0.1:1/v1")
    end
    expect(AssistantChatNative.config.stall_timeout).to eq(5)
    expect(AssistantChatNative.config.stream_options).to include(stall_timeout: 5, timeout: 600)
    expect(AssistantChatNative.config.models.fetch("local").url).to eq("http://127.0.0.1:1/v1/chat/completions")
  end

  it "exposes the seed's constants on the gem and on Turn" do
    expect(AssistantChatNative::HEARTBEAT_INTERVAL).to eq(30)
    expect(AssistantChatNative::Turn::MAX_COMPACTION_RETRIES).to eq(2)
    expect(AssistantChatNative::Turn::ESCALATION_MODEL).to eq("claude-sonnet")
  end

  it "shows and serializes its models without API keys or base-URL credentials" do
    require "active_support"
    require "active_support/json"
    config = described_class.new
    config.models.register("gateway", provider: :anthropic, model_id: "claude-sonnet-5-5",
      base_url: "https://relay:sk-ant-userinfo-secret@gw.example/anthropic?token=sk-ant-query-secret",
      api_key: "sk-ant-api03-key-secret")

    json = JSON.parse(config.to_json)
    expect(json).to include("stall_timeout" => 60, "max_rounds" => 10)
    expect(json["models"]).to include(a_hash_including("key" => "gateway", "api_key" => "[FILTERED]",
      "base_url" => "https://[FILTERED]@gw.example/anthropic?[FILTERED]"))
    [config.inspect, config.to_h.to_s, config.to_json, {config: config}.to_json].each do |text|
      expect(text).not_to include("secret")
    end
  end
end
