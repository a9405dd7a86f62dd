# frozen_string_literal: true

require "spec_helper"

# Checked against the Gemini API reference (ai.google.dev/api/generate-content and the
# function-calling guide): roles user/model, systemInstruction, inlineData parts,
# functionCall parts and functionResponse parts named after their call, with the result
# under "output" or "error", and functionDeclarations with a JSON schema.
RSpec.describe AssistantChatNative::Providers::Gemini::RequestBuilder do
  let(:entry) { AssistantChatNative::ModelRegistry::Entry.new(key: "gemini-pro", provider: :gemini, model_id: "gemini-3.1-pro-preview") }

  it "builds a generateContent body with systemInstruction, inline data, function calls and responses" do
    body = described_class.new(entry).build(system: "Be brief.", messages: TurnConversation.messages, tools: [TurnConversation.weather_tool])

    expect(body).to eq(
      systemInstruction: {parts: [{text: "Be brief."}]},
      contents: [
        {role: "user", parts: [
          {text: "Weather in Paris and Rome? See the attachments."},
          {inlineData: {mimeType: "image/png", data: TurnConversation.png64}},
          {inlineData: {mimeType: "application/pdf", data: TurnConversation.pdf64}}
        ]},
        {role: "model", parts: [
          {text: "Checking both."},
          {functionCall: {name: "get_weather", args: {"city" => "Paris"}}},
          {functionCall: {name: "get_weather", args: {"city" => "Rome"}}}
        ]},
        {role: "user", parts: [
          {functionResponse: {name: "get_weather", response: {output: "18C, clear"}}},
          {functionResponse: {name: "get_weather", response: {error: "RuntimeError: station offline"}}}
        ]}
      ],
      tools: [{functionDeclarations: [{name: "get_weather", description: "Current weather for a city",
                                       parametersJsonSchema: {type: "object", properties: {city: {type: "string"}}, required: ["city"]}}]}]
    )
  end

  it "asks for thoughts and a token limit through generationConfig when configured" do
    thinking = AssistantChatNative::ModelRegistry::Entry.new(key: "g", provider: :gemini, model_id: "gemini-2.5-flash-lite", thinking: 1024, max_tokens: 4096)
    body = described_class.new(thinking).build(system: nil, messages: [{role: "user", content: "x"}])
    expect(body[:generationConfig]).to eq(maxOutputTokens: 4096, thinkingConfig: {thinkingBudget: 1024, includeThoughts: true})
    expect(body).not_to have_key(:systemInstruction)
  end

  it "sends a function call's thought signature back beside it" do
    messages = [{role: "user", content: "x"}, {role: "assistant", content: [{type: "tool_call", id: "c", name: "t", arguments: {}, signature: "CiQB0e2K"}]}]
    body = described_class.new(entry).build(system: nil, messages: messages)
    expect(body[:contents].last).to eq(role: "model", parts: [{functionCall: {name: "t", args: {}}, thoughtSignature: "CiQB0e2K"}])
  end

  it "rejects roles other than user and assistant with the message's position" do
    expect { described_class.new(entry).build(system: nil, messages: [{role: "system", content: "x"}]) }
      .to raise_error(ArgumentError, /message 0: role must be "user" or "assistant"/)
  end
end
