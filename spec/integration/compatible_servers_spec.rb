# frozen_string_literal: true

require "spec_helper"
require "logger"

# OpenAI-compatible servers that end a Chat Completions stream by closing it after
# the choice's finish_reason, with no `data: [DONE]`: the reply is whole. A close
# before any finish_reason is a reply cut off. Both readings (the C Stream and
# RubyStream) are held to it, over real HTTP to LocalProvider.
RSpec.describe "Chat Completions streams from servers that send no [DONE]" do
  include StreamHelpers

  let(:handler) { StreamHelpers::RecordingHandler.new }

  def body(include_usage:)
    options = {model: "compatible-local", stream: true, messages: [{role: "user", content: "Say hello"}]}
    options[:stream_options] = {include_usage: true} if include_usage
    JSON.generate(options)
  end

  stream_classes = [AssistantChatNative::RubyStream]
  stream_classes.unshift(AssistantChatNative::Stream) if AssistantChatNative.native?

  stream_classes.each do |klass|
    context "read by #{klass.name.split("::").last}" do
      def run(klass, include_usage: true)
        klass.new(provider: :openai, url: local_provider.endpoint_for(:openai),
          headers: {"authorization" => "Bearer #{StreamHelpers::SECRET}"}, body: body(include_usage: include_usage))
          .run(handler)
      end

      it "takes a clean close after the finish_reason and the usage chunk as a whole reply" do
        local_provider.enqueue(tokens: ["Hel", "lo."], done: false,
          usage: {input_tokens: 21, output_tokens: 2, cache_read_tokens: 16})

        result = run(klass)

        expect(local_provider.last_request.wait_until_finished(timeout: 2)).to be_truthy
        expect(local_provider.last_request.outcome).to eq(:completed)
        expect(result.failure).to be_nil
        expect(result).to have_attributes(text: "Hello.", stop_reason: :end_turn, provider_stop_reason: "stop")
        expect(result.usage).to include(input_tokens: 21, output_tokens: 2, cache_read_tokens: 16)
      end

      it "takes a clean close right after the finish_reason as a whole reply when no usage was asked for" do
        local_provider.enqueue(tokens: ["Just ", "text."], done: false)

        result = run(klass, include_usage: false)

        expect(result.failure).to be_nil
        expect(result).to have_attributes(text: "Just text.", stop_reason: :end_turn)
      end

      it "ends the tool calls at the finish_reason and keeps them when the server closes without [DONE]" do
        local_provider.enqueue(tool_calls: [{name: "get_weather", arguments: {city: "Paris"}}], done: false)

        result = run(klass)

        expect(result.failure).to be_nil
        expect(result.stop_reason).to eq(:tool_use)
        expect(result.tool_calls.map { |call| [call.name, call.arguments] }).to eq([["get_weather", {"city" => "Paris"}]])
      end

      it "still fails as connection lost when the server closes before any finish_reason" do
        local_provider.enqueue(tokens: %w[cut off], close_without_terminal: true)

        result = run(klass)

        expect(result.text).to eq("cutoff")
        expect(result.failure&.kind).to eq(:connection_lost)
        expect(result.stop_reason).to be_nil
      end

      it "waits for the usage chunk that follows the finish_reason when the server does send [DONE]" do
        local_provider.enqueue(tokens: ["Hi."], usage: {input_tokens: 9, output_tokens: 1, cache_read_tokens: 4})

        result = run(klass)

        expect(result.failure).to be_nil
        expect(result.usage).to include(input_tokens: 9, output_tokens: 1, cache_read_tokens: 4)
      end
    end
  end
end

# A whole turn against such a server: every round completes the first time.
RSpec.describe AssistantChatNative::Turn, "against a compatible server that sends no [DONE]" do
  let(:config) do
    AssistantChatNative::Configuration.new.tap do |config|
      config.retry_base_delay = 0.01
      config.retry_max_delay = 0.05
      config.logger = Logger.new(nil)
      config.models.register("compatible", provider: :openai, model_id: "compatible-local", tier: :high,
        base_url: local_provider.base_url_for(:openai), api_key: "test-key")
    end
  end
  let(:weather) do
    AssistantChatNative::Tool.new(name: "get_weather", description: "Current weather for a city",
      input_schema: {type: "object", properties: {city: {type: "string"}}, required: ["city"]}) { |arguments|
      "sunny in #{arguments["city"]}"
    }
  end

  it "runs a two-round tool loop with no retries" do
    local_provider.enqueue(text: "Checking.", tool_calls: [{name: "get_weather", arguments: {city: "Paris"}}], done: false)
    local_provider.enqueue(text: "Sunny in Paris.", done: false, usage: {input_tokens: 30, output_tokens: 4})

    outcome = described_class.new(model: "compatible", system: "Answer briefly.",
      messages: [{role: "user", content: "Weather in Paris?"}], tools: [weather], config: config).run

    expect(outcome.failure).to be_nil
    expect(outcome).to have_attributes(status: :completed, rounds: 2, retries: 0, text: "Checking.\n\nSunny in Paris.")
    expect(outcome.usage_per_round.last).to include(input_tokens: 30, output_tokens: 4)
    expect(local_provider.requests.size).to eq(2)
  end
end
