# frozen_string_literal: true

require "spec_helper"

# What each model accepts for reasoning (ModelRegistry::Thinking): adaptive thinking with
# output_config.effort for Claude 4.6 and later, budget_tokens before; thinkingLevel for
# Gemini 3.x, thinkingBudget for 2.5; reasoning_effort for OpenAI.
RSpec.describe "request bodies per model's thinking" do
  def entry(provider, model_id, **options)
    AssistantChatNative::ModelRegistry::Entry.new(key: "m", provider: provider, model_id: model_id,
      base_url: "http://127.0.0.1:1", **options)
  end

  def body(entry, tools: [])
    AssistantChatNative::Request.build(entry, system: nil, messages: [{role: "user", content: "hi"}], tools: tools)
  end

  it "sends adaptive thinking with output_config.effort to Claude Sonnet 5.5 and Haiku 5.5" do
    %w[claude-sonnet-5-5 claude-haiku-5-5].each do |model_id|
      sent = body(entry(:anthropic, model_id, thinking: true, effort: "medium"))
      expect(sent.slice(:thinking, :output_config)).to eq(thinking: {type: "adaptive"}, output_config: {effort: "medium"})
    end
    expect(body(entry(:anthropic, "claude-sonnet-5-5", effort: "low"))[:thinking]).to eq(type: "adaptive")
    expect(body(entry(:anthropic, "claude-sonnet-5-5", thinking: true))).not_to have_key(:output_config)
  end

  it "sends budget_tokens to Claude models before 4.6, and no thinking when it is off" do
    sent = body(entry(:anthropic, "claude-haiku-4-5", thinking: 2048))
    expect(sent[:thinking]).to eq(type: "enabled", budget_tokens: 2048)
    expect(sent).not_to have_key(:output_config)
    expect(body(entry(:anthropic, "claude-sonnet-5-5")).keys).not_to include(:thinking, :output_config)
  end

  it "refuses at registration a token budget for a model that takes only adaptive thinking or levels" do
    [[:anthropic, "claude-sonnet-5-5"], [:anthropic, "claude-haiku-5-5"], [:gemini, "gemini-3.8-flash"],
      [:openai, "gpt-6.1-sol"]].each do |provider, model_id|
      expect { entry(provider, model_id, thinking: 4000) }
        .to raise_error(AssistantChatNative::ConfigurationError, /#{Regexp.escape(model_id)} takes no thinking token budget.*effort:/)
    end
  end

  it "sends thinkingLevel to Gemini 3.x and thinkingBudget to Gemini 2.5, never both" do
    level = body(entry(:gemini, "gemini-3.8-flash", effort: "high"))
    expect(level[:generationConfig][:thinkingConfig]).to eq(includeThoughts: true, thinkingLevel: "high")
    budget = body(entry(:gemini, "gemini-2.5-flash", thinking: 1024))
    expect(budget[:generationConfig][:thinkingConfig]).to eq(includeThoughts: true, thinkingBudget: 1024)
    expect(body(entry(:gemini, "gemini-3.1-pro-preview"))).not_to have_key(:generationConfig)
  end

  it "sends reasoning_effort to OpenAI, but not beside tools to GPT-6, which refuses the pair" do
    expect(body(entry(:openai, "gpt-6.1-sol", effort: "high"))[:reasoning_effort]).to eq("high")
    expect(body(entry(:openai, "gpt-6.1-sol", effort: "high"), tools: [TurnConversation.weather_tool])).not_to have_key(:reasoning_effort)
    expect(body(entry(:openai, "gpt-5", effort: "low"), tools: [TurnConversation.weather_tool])[:reasoning_effort]).to eq("low")
    expect(body(entry(:openai, "gpt-6.1-terra"))).not_to have_key(:reasoning_effort)
  end
end
