# frozen_string_literal: true

require "spec_helper"
require "logger"

# Turns on OpenAI's Responses API end to end, against LocalProvider speaking it: the tool
# loop with reasoning items carried across rounds (nothing is stored at OpenAI, so the
# encrypted reasoning must travel in the next request), retries, compaction, and escalation
# into Responses and out of it.
RSpec.describe AssistantChatNative::Turn do
  let(:config) do
    QuickTurnConfig.build do |config|
      {"gpt" => [:high, "gpt-6.1-sol"], "gpt-mini" => [:low, "gpt-6.1-terra"]}.each do |key, (tier, id)|
        config.models.register(key, provider: :openai, api: :responses, model_id: id, tier: tier,
          base_url: local_provider.base_url_for(:openai_responses), api_key: "test-key")
      end
      %w[claude-sonnet claude-haiku].zip(%i[high low]).each do |key, tier|
        config.models.register(key, provider: :anthropic, model_id: "#{key}-5-5", tier: tier,
          base_url: local_provider.base_url_for(:anthropic), api_key: "test-key")
      end
    end
  end
  include_context "a weather turn"

  let(:context_overflow) do
    {"error" => {"message" => "Your input exceeds the context window of this model. Please adjust your input and try again.",
                 "type" => "invalid_request_error", "param" => "input", "code" => "context_length_exceeded"}}
  end

  it "runs a two-round tool loop, sending each round's reasoning item back, encrypted, before its calls" do
    local_provider.enqueue(thinking: "Two cities, two calls.", signature: "enc-round-1", text: "Checking both.",
      tool_calls: two_cities, usage: {cache_read_tokens: 64})
    local_provider.enqueue(thinking: "Both answered.", text: "Both sunny.", usage: {input_tokens: 40, output_tokens: 3})

    outcome = turn("gpt").run

    expect(outcome).to have_attributes(status: :completed, text: "Checking both.\n\nBoth sunny.", rounds: 2, failure: nil)
    expect(weather_calls).to eq([{"city" => "Paris"}, {"city" => "Rome"}])
    expect(outcome.usage_per_round.first).to include(cache_read_tokens: 64)
    expect(outcome.usage_per_round.last).to include(input_tokens: 40, output_tokens: 3)
    expect(handler.of(:on_thinking).map(&:first)).to include("Two cities, two calls.")

    requests = local_provider.requests
    expect(requests.map(&:provider)).to eq(%i[openai_responses openai_responses])
    expect(requests.map(&:path)).to all(eq("/v1/responses"))
    expect(requests.first.header("authorization")).to eq("Bearer test-key")
    first, second = bodies
    expect(first).to include("model" => "gpt-6.1-sol", "stream" => true, "store" => false,
      "instructions" => "Answer briefly.", "include" => ["reasoning.encrypted_content"],
      "reasoning" => {"summary" => "auto"}, "input" => [{"role" => "user", "content" => "Weather in Paris and Rome?"}])
    expect(first["tools"]).to eq([{"type" => "function", "name" => "get_weather", "description" => "Current weather for a city",
                                   "parameters" => {"type" => "object", "properties" => {"city" => {"type" => "string"}},
                                                    "required" => ["city"]}, "strict" => false}])

    input = second["input"]
    expect(input.map { |item| item["type"] || item["role"] })
      .to eq(%w[user reasoning assistant function_call function_call function_call_output function_call_output])
    reasoning = input[1]
    expect(reasoning).to include("type" => "reasoning", "encrypted_content" => "enc-round-1",
      "summary" => [{"type" => "summary_text", "text" => "Two cities, two calls."}])
    expect(reasoning["id"]).to start_with("rs_")
    expect(input[2]).to eq("role" => "assistant", "content" => "Checking both.")
    calls = input[3, 2]
    expect(calls.map { |call| [call["name"], JSON.parse(call["arguments"])] })
      .to eq([["get_weather", {"city" => "Paris"}], ["get_weather", {"city" => "Rome"}]])
    expect(input[5, 2]).to eq(calls.zip(["sunny in Paris", "sunny in Rome"]).map { |call, output|
      {"type" => "function_call_output", "call_id" => call["call_id"], "output" => output}
    })
  end

  it "carries every round's reasoning items into a third round, each before the calls it led to" do
    local_provider.enqueue(thinking: "Paris first.", signature: "enc-1", tool_calls: two_cities.take(1))
    local_provider.enqueue(thinking: "Now Rome.", signature: "enc-2", tool_calls: two_cities.drop(1))
    local_provider.enqueue(text: "Both sunny.")

    outcome = turn("gpt").run

    expect(outcome).to have_attributes(status: :completed, rounds: 3)
    kinds = bodies.last["input"].map { |item| item["type"] || item["role"] }
    expect(kinds).to eq(%w[user reasoning function_call function_call_output reasoning function_call function_call_output])
    expect(bodies.last["input"].select { |item| item["type"] == "reasoning" }.map { |item| item["encrypted_content"] })
      .to eq(%w[enc-1 enc-2])
  end

  it "retries after a 429 with OpenAI's error body, waiting the retry-after asked for" do
    local_provider.enqueue(status: 429, headers: {"retry-after" => "1"})
    local_provider.enqueue(text: "Done.")

    outcome = turn("gpt").run

    expect(outcome).to have_attributes(status: :completed, text: "Done.", retries: 1)
    expect(outcome.round_details.first).to include(attempts: 2, failures: [:rate_limited])
  end

  it "retries a mid-stream error event, going on from the words already shown" do
    local_provider.enqueue(text: "Partial answer that breaks off here", error_event: {after: 5})
    local_provider.enqueue(text: " and the rest.")

    outcome = turn("gpt").run

    expect(outcome).to have_attributes(status: :completed, retries: 1)
    expect(outcome.round_details.first[:failures]).to eq([:server_error])
    expect(outcome.text).to end_with(" and the rest.")
    expect(JSON.generate(bodies.last)).to include(JSON.generate(described_class::CONTINUE_PROMPT))
  end

  it "retries a response.failed that names a rate limit" do
    local_provider.enqueue(text: "Never finished", error_event: {after: 3, type: "response.failed", code: "rate_limit_exceeded",
                                                                 message: "Rate limit reached for gpt-6.1-sol. Please try again in 20ms."})
    local_provider.enqueue(text: "Done.")

    outcome = turn("gpt").run

    expect(outcome).to have_attributes(status: :completed, retries: 1)
    expect(outcome.round_details.first[:failures]).to eq([:rate_limited])
  end

  it "compacts the history after a context overflow and succeeds" do
    local_provider.enqueue(status: 400, body: JSON.generate(context_overflow))
    local_provider.enqueue(text: "Short enough now.")
    history = [{role: "user", content: "old question"}, {role: "assistant", content: "old answer"}] + question

    outcome = turn("gpt", messages: history).run

    expect(outcome).to have_attributes(status: :completed, text: "Short enough now.", compactions: 1)
    expect(bodies.first["input"].to_s).to include("old question")
    expect(bodies.last["input"].to_s).not_to include("old question")
    expect(bodies.last["input"].to_s).to include("Weather in Paris and Rome?")
  end

  it "escalates out of Responses to claude-sonnet, dropping the reasoning items Claude cannot read" do
    local_provider.enqueue(thinking: "Calls first.", text: "Checking.", tool_calls: two_cities, model: "gpt-6.1-terra")
    local_provider.enqueue(stall_after: 1, stall_for: 5, model: "gpt-6.1-terra")
    local_provider.enqueue(text: "Escalated answer.", provider: :anthropic, model: "claude-sonnet-5-5")

    outcome = turn("gpt-mini").run

    expect(outcome).to have_attributes(status: :completed, model: "claude-sonnet", escalated?: true)
    expect(outcome.text).to end_with("Escalated answer.")
    expect(handler.of(:on_escalation)).to eq([["gpt-mini", "claude-sonnet", :stalled]])
    last = local_provider.requests.last
    expect(last.provider).to eq(:anthropic)
    assistant = last.json["messages"].find { |message| message["role"] == "assistant" }
    expect(assistant["content"].map { |block| block["type"] }).to eq(%w[text tool_use tool_use])
    expect(weather_calls.size).to eq(2)
  end

  it "escalates into Responses from a low-tier Claude, sending Claude's calls as function_call items" do
    config.escalation_model = "gpt"
    local_provider.enqueue(text: "Checking.", tool_calls: two_cities.take(1), provider: :anthropic, model: "claude-haiku-5-5")
    local_provider.enqueue(stall_after: 1, stall_for: 5, provider: :anthropic, model: "claude-haiku-5-5")
    local_provider.enqueue(text: "Paris is sunny.", provider: :openai_responses)

    outcome = turn("claude-haiku").run

    expect(outcome).to have_attributes(status: :completed, model: "gpt", escalated?: true)
    expect(outcome.text).to end_with("Paris is sunny.")
    last = local_provider.requests.last
    expect(last.provider).to eq(:openai_responses)
    kinds = last.json["input"].map { |item| item["type"] || item["role"] }
    expect(kinds.first(4)).to eq(%w[user assistant function_call function_call_output])
    expect(kinds).not_to include("reasoning")
    call, output = last.json["input"][2, 2]
    expect(output).to eq("type" => "function_call_output", "call_id" => call["call_id"], "output" => "sunny in Paris")
  end
end
