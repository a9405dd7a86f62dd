# frozen_string_literal: true

require "spec_helper"

# Checked against the Chat Completions reference (platform.openai.com/docs/api-reference/chat/create):
# system message first, image_url data URLs, file parts for PDFs, assistant tool_calls with
# JSON-string arguments, one role "tool" message per result, stream_options.include_usage.
RSpec.describe AssistantChatNative::Providers::OpenAI::RequestBuilder do
  let(:entry) { AssistantChatNative::ModelRegistry::Entry.new(key: "gpt", provider: :openai, model_id: "gpt-6.1-sol") }

  it "builds a streaming Chat Completions body with usage on, attachments, tool calls and tool messages" do
    body = described_class.new(entry).build(system: "Be brief.", messages: TurnConversation.messages, tools: [TurnConversation.weather_tool])

    expect(body).to eq(
      model: "gpt-6.1-sol", stream: true, stream_options: {include_usage: true},
      messages: [
        {role: "system", content: "Be brief."},
        {role: "user", content: [
          {type: "text", text: "Weather in Paris and Rome? See the attachments."},
          {type: "image_url", image_url: {url: "data:image/png;base64,#{TurnConversation.png64}"}},
          {type: "file", file: {filename: "report.pdf", file_data: "data:application/pdf;base64,#{TurnConversation.pdf64}"}}
        ]},
        {role: "assistant", content: "Checking both.", tool_calls: [
          {id: "call_1", type: "function", function: {name: "get_weather", arguments: '{"city":"Paris"}'}},
          {id: "call_2", type: "function", function: {name: "get_weather", arguments: '{"city":"Rome"}'}}
        ]},
        {role: "tool", tool_call_id: "call_1", content: "18C, clear"},
        {role: "tool", tool_call_id: "call_2", content: "Error: RuntimeError: station offline"}
      ],
      tools: [{type: "function", function: {name: "get_weather", description: "Current weather for a city",
                                            parameters: {type: "object", properties: {city: {type: "string"}}, required: ["city"]}}}]
    )
  end

  it "sends plain text content as a string and an assistant message of only tool calls with null content" do
    messages = [{role: "user", content: "Hi"}, {role: "assistant", content: [{type: "tool_call", id: "c", name: "t", arguments: {}}]}]
    body = described_class.new(entry).build(system: nil, messages: messages)
    expect(body[:messages]).to eq([
      {role: "user", content: "Hi"},
      {role: "assistant", content: nil, tool_calls: [{id: "c", type: "function", function: {name: "t", arguments: "{}"}}]}
    ])
    expect(body).not_to have_key(:tools)
  end

  it "sends max_completion_tokens when the model has a limit" do
    limited = AssistantChatNative::ModelRegistry::Entry.new(key: "g", provider: :openai, model_id: "gpt-6.1-terra", max_tokens: 1000)
    expect(described_class.new(limited).build(system: nil, messages: [{role: "user", content: "x"}])).to include(max_completion_tokens: 1000)
  end
end
