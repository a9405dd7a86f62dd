# frozen_string_literal: true

require "spec_helper"

# Checked against the Responses reference (platform.openai.com/docs/api-reference/responses/create)
# and the reasoning guide's stateless tool loop: instructions for the system prompt, input items
# (input_text, input_image, input_file; function_call and function_call_output), function tools
# flat, store: false with the encrypted reasoning asked for and sent back ahead of the calls.
RSpec.describe AssistantChatNative::Providers::OpenAIResponses::RequestBuilder do
  def entry(model_id = "gpt-6.1-sol", **options)
    AssistantChatNative::ModelRegistry::Entry.new(key: "gpt", provider: :openai, model_id: model_id, **options)
  end

  let(:reasoning_turn) do
    [{role: "user", content: "Weather in Paris?"},
      {role: "assistant", content: [
        {type: "thinking", thinking: "One call.", signature: "gAAAA-enc", id: "rs_1"},
        {type: "text", text: "Checking."},
        {type: "tool_call", id: "call_1", name: "get_weather", arguments: {"city" => "Paris"}}
      ]},
      {role: "user", content: [{type: "tool_result", tool_call_id: "call_1", content: "18C, clear"}]}]
  end

  it "is the builder an OpenAI model registered without api: gets" do
    expect(AssistantChatNative::Providers.fetch(entry.dialect).request_builder).to be(described_class)
  end

  it "builds a stateless Responses body: instructions, input items with attachments, calls and outputs, flat tools" do
    body = described_class.new(entry).build(system: "Be brief.", messages: TurnConversation.messages, tools: [TurnConversation.weather_tool])

    expect(body).to eq(
      model: "gpt-6.1-sol", stream: true, store: false, instructions: "Be brief.",
      input: [
        {role: "user", content: [
          {type: "input_text", text: "Weather in Paris and Rome? See the attachments."},
          {type: "input_image", image_url: "data:image/png;base64,#{TurnConversation.png64}"},
          {type: "input_file", filename: "report.pdf", file_data: "data:application/pdf;base64,#{TurnConversation.pdf64}"}
        ]},
        {role: "assistant", content: "Checking both."},
        {type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}'},
        {type: "function_call", call_id: "call_2", name: "get_weather", arguments: '{"city":"Rome"}'},
        {type: "function_call_output", call_id: "call_1", output: "18C, clear"},
        {type: "function_call_output", call_id: "call_2", output: "Error: RuntimeError: station offline"}
      ],
      tools: [{type: "function", name: "get_weather", description: "Current weather for a city",
               parameters: {type: "object", properties: {city: {type: "string"}}, required: ["city"]}, strict: false}],
      reasoning: {summary: "auto"}, include: ["reasoning.encrypted_content"]
    )
  end

  it "sends a reasoning item back, with its id and encrypted content, before the message and the calls it led to" do
    input = described_class.new(entry).build(system: nil, messages: reasoning_turn)[:input]

    expect(input).to eq([
      {role: "user", content: "Weather in Paris?"},
      {type: "reasoning", id: "rs_1", summary: [{type: "summary_text", text: "One call."}], encrypted_content: "gAAAA-enc"},
      {role: "assistant", content: "Checking."},
      {type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}'},
      {type: "function_call_output", call_id: "call_1", output: "18C, clear"}
    ])
  end

  it "sends a reasoning item with no summary as an empty summary list" do
    messages = [{role: "assistant", content: [{type: "thinking", thinking: "", signature: "enc", id: "rs_2"}]}]

    expect(described_class.new(entry).build(system: nil, messages: messages)[:input])
      .to eq([{type: "reasoning", id: "rs_2", summary: [], encrypted_content: "enc"}])
  end

  it "asks for the effort, summaries and encrypted reasoning from a reasoning model, and for none of it otherwise" do
    body = described_class.new(entry(effort: "high", max_tokens: 2048)).build(system: nil, messages: reasoning_turn)
    expect(body).to include(reasoning: {summary: "auto", effort: "high"}, include: ["reasoning.encrypted_content"],
      max_output_tokens: 2048)

    plain = described_class.new(entry("gpt-4.1")).build(system: nil, messages: reasoning_turn)
    expect(plain.keys).not_to include(:reasoning, :include, :max_output_tokens, :instructions)
    expect(plain[:store]).to be(false)
    expect(plain[:input].map { |item| item[:type] || item[:role] }).to eq(%w[user assistant function_call function_call_output])
  end
end
