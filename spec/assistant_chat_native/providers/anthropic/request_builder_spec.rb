# frozen_string_literal: true

require "spec_helper"

# Checked against the Messages API reference (docs.anthropic.com/en/api/messages) and the
# tool-use and extended-thinking guides: tool_use/tool_result blocks, base64 image and
# document sources, thinking blocks with signatures leading the assistant content.
RSpec.describe AssistantChatNative::Providers::Anthropic::RequestBuilder do
  def entry(**options)
    AssistantChatNative::ModelRegistry::Entry.new(key: "claude-sonnet", provider: :anthropic, model_id: "claude-haiku-4-5", **options)
  end

  let(:tools) { [TurnConversation.weather_tool] }

  it "builds a streaming Messages body with system, attachments, parallel tool calls and their results" do
    body = described_class.new(entry(prompt_caching: false)).build(system: "Be brief.", messages: TurnConversation.messages, tools: tools)

    expect(body).to eq(
      model: "claude-haiku-4-5", max_tokens: 8192, stream: true, system: "Be brief.",
      messages: [
        {role: "user", content: [
          {type: "text", text: "Weather in Paris and Rome? See the attachments."},
          {type: "image", source: {type: "base64", media_type: "image/png", data: TurnConversation.png64}},
          {type: "document", source: {type: "base64", media_type: "application/pdf", data: TurnConversation.pdf64}}
        ]},
        {role: "assistant", content: [
          {type: "text", text: "Checking both."},
          {type: "tool_use", id: "call_1", name: "get_weather", input: {"city" => "Paris"}},
          {type: "tool_use", id: "call_2", name: "get_weather", input: {"city" => "Rome"}}
        ]},
        {role: "user", content: [
          {type: "tool_result", tool_use_id: "call_1", content: "18C, clear"},
          {type: "tool_result", tool_use_id: "call_2", content: "RuntimeError: station offline", is_error: true}
        ]}
      ],
      tools: [{name: "get_weather", description: "Current weather for a city",
               input_schema: {type: "object", properties: {city: {type: "string"}}, required: ["city"]}}]
    )
  end

  it "sends thinking on, and the signed thinking block back ahead of tool_use, when the model thinks" do
    body = described_class.new(entry(thinking: 2048, max_tokens: 16_000)).build(system: nil, messages: TurnConversation.messages, tools: tools)

    expect(body[:thinking]).to eq(type: "enabled", budget_tokens: 2048)
    expect(body).not_to have_key(:system)
    expect(body[:messages][1][:content].map { |block| block[:type] }).to eq(%w[thinking text tool_use tool_use])
    expect(body[:messages][1][:content].first).to eq(type: "thinking", thinking: "Two cities: two calls.", signature: "sig-abc")
  end

  it "sends the signed thinking back for a model that thinks by default, without asking for thinking" do
    default_thinker = entry.class.new(key: "claude-sonnet", provider: :anthropic, model_id: "claude-sonnet-5-5")
    body = described_class.new(default_thinker).build(system: nil, messages: TurnConversation.messages, tools: tools)

    expect(body).not_to have_key(:thinking)
    expect(body[:messages][1][:content].map { |block| block[:type] }).to eq(%w[thinking text tool_use tool_use])
  end

  it "keeps max_tokens above the thinking budget, as the API requires" do
    body = described_class.new(entry(thinking: 10_000, max_tokens: 4096)).build(system: nil, messages: [{role: "user", content: "hi"}])
    expect(body[:max_tokens]).to be > body[:thinking][:budget_tokens]
  end

  it "puts tool results first in a user message that also says something, and drops empty text" do
    messages = [{role: "user", content: [{type: "text", text: "and then?"}, {type: "tool_result", tool_call_id: "t", content: {"rows" => 2}}]},
      {role: "assistant", content: ""}]
    body = described_class.new(entry).build(system: "", messages: messages)
    expect(body[:messages]).to eq([{role: "user", content: [
      {type: "tool_result", tool_use_id: "t", content: '{"rows":2}'}, {type: "text", text: "and then?"}
    ]}])
  end

  it "explains an attachment that cannot be read" do
    messages = [{role: "user", content: [{type: "image", path: "/nonexistent/cat.png", media_type: "image/png"}]}]
    expect { described_class.new(entry).build(system: nil, messages: messages) }
      .to raise_error(AssistantChatNative::Error, /cannot attach cat.png/)
  end
  describe "prompt caching" do
    let(:ephemeral) { {type: "ephemeral"} }

    # Where cache_control went: [path, block type] for each marked block.
    def breakpoints(body)
      marked = []
      body[:tools]&.each_with_index { |tool, i| marked << ["tools[#{i}]", "tool"] if tool[:cache_control] }
      Array(body[:system]).each_with_index { |block, i| marked << ["system[#{i}]", block[:type]] if block.is_a?(Hash) && block[:cache_control] }
      body[:messages].each_with_index do |message, m|
        message[:content].each_with_index { |block, i| marked << ["messages[#{m}][#{i}]", block[:type]] if block[:cache_control] }
      end
      marked
    end

    it "marks the tools, the system prompt, the history before the newest user turn and the last tool result" do
      history = [{role: "user", content: "Earlier question"}, {role: "assistant", content: "Earlier answer"}] + TurnConversation.messages
      body = described_class.new(entry).build(system: "Be brief.", messages: history, tools: tools)

      expect(breakpoints(body)).to eq([["tools[0]", "tool"], ["system[0]", "text"], ["messages[1][0]", "text"],
        ["messages[4][1]", "tool_result"]])
      expect(body[:system]).to eq([{type: "text", text: "Be brief.", cache_control: ephemeral}])
      expect(breakpoints(body).size).to be <= 4
    end

    it "marks the previous reply when the request ends with a new user turn, and nothing in a first message" do
      body = described_class.new(entry).build(system: "Be brief.", messages: [
        {role: "user", content: "Hi"}, {role: "assistant", content: "Hello!"}, {role: "user", content: "Weather?"}
      ])
      expect(breakpoints(body)).to eq([["system[0]", "text"], ["messages[1][0]", "text"]])

      first = described_class.new(entry).build(system: nil, messages: [{role: "user", content: "Hi"}])
      expect(breakpoints(first)).to eq([])
      expect(first).not_to have_key(:system)
    end

    it "never marks a thinking block, which the API does not cache on its own" do
      body = described_class.new(entry(thinking: 2048, max_tokens: 16_000)).build(system: nil, messages: TurnConversation.messages, tools: tools)

      marked = body[:messages].flat_map { |message| message[:content] }.select { |block| block[:cache_control] }
      expect(marked.map { |block| block[:type] }).to eq(["tool_result"])
      expect(body[:messages][1][:content].first).not_to have_key(:cache_control)
    end

    it "sends the one-hour lifetime when registered with prompt_caching: \"1h\"" do
      body = described_class.new(entry(prompt_caching: "1h")).build(system: "Be brief.", messages: TurnConversation.messages, tools: tools)

      expect(body[:tools].last[:cache_control]).to eq(type: "ephemeral", ttl: "1h")
      expect(body[:system].first[:cache_control]).to eq(type: "ephemeral", ttl: "1h")
    end

    it "sends no cache_control when registered with prompt_caching: false" do
      body = described_class.new(entry(prompt_caching: false)).build(system: "Be brief.", messages: TurnConversation.messages, tools: tools)

      expect(JSON.generate(body)).not_to include("cache_control")
      expect(body[:system]).to eq("Be brief.")
    end

    it "refuses a lifetime the API does not offer" do
      expect { entry(prompt_caching: "2h") }.to raise_error(AssistantChatNative::ConfigurationError, /prompt_caching/)
    end
  end
end
