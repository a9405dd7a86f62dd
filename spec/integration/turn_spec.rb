# frozen_string_literal: true

require "spec_helper"
require "logger"

# Turn end to end: real HTTP to LocalProvider on loopback, streamed by
# AssistantChatNative.stream_class (the C Stream when the extension is loaded, else
# RubyStream), with the request bodies LocalProvider recorded checked against each
# provider's documented format.
RSpec.describe AssistantChatNative::Turn do
  let(:config) do
    QuickTurnConfig.build do |config|
      TurnProviders::MODELS.each do |provider, models|
        %i[high low].each do |tier|
          config.models.register(models[tier], provider: provider, model_id: models[:"#{tier}_id"], tier: tier,
            base_url: local_provider.base_url_for(provider), api_key: "test-key")
        end
      end
    end
  end
  include_context "a weather turn"

  # The tool-related messages of a recorded body, in the provider's own shape.
  def assistant_calls(provider, body)
    case provider
    when :anthropic
      body["messages"].find { |m| m["role"] == "assistant" }["content"].select { |b| b["type"] == "tool_use" }
        .map { |b| [b["name"], b["input"]] }
    when :openai
      body["messages"].find { |m| m["role"] == "assistant" }["tool_calls"]
        .map { |c| [c["function"]["name"], JSON.parse(c["function"]["arguments"])] }
    when :gemini
      body["contents"].find { |c| c["role"] == "model" }["parts"].filter_map { |p| p["functionCall"] }
        .map { |c| [c["name"], c["args"]] }
    end
  end

  def tool_results(provider, body)
    case provider
    when :anthropic
      body["messages"].flat_map { |m| Array(m["content"]) }.grep(Hash).select { |b| b["type"] == "tool_result" }
        .map { |b| [b["content"], b["is_error"] || false] }
    when :openai
      body["messages"].select { |m| m["role"] == "tool" }.map { |m| [m["content"], m["content"].start_with?("Error")] }
    when :gemini
      body["contents"].flat_map { |c| c["parts"] }.filter_map { |p| p["functionResponse"] }
        .map { |r| r["response"].key?("error") ? [r["response"]["error"], true] : [r["response"]["output"], false] }
    end
  end

  TurnProviders::MODELS.each do |provider, models|
    context "with #{provider}" do
      it "runs a two-round tool loop with parallel tool calls, sending the provider's documented format" do
        local_provider.enqueue(text: "Checking both.", tool_calls: two_cities)
        local_provider.enqueue(text: "Both sunny.", usage: {input_tokens: 40, output_tokens: 3})

        outcome = turn(models[:high]).run

        expect(outcome).to have_attributes(status: :completed, text: "Checking both.\n\nBoth sunny.", rounds: 2,
          retries: 0, model: models[:high], escalated?: false, failure: nil)
        expect(weather_calls).to eq([{"city" => "Paris"}, {"city" => "Rome"}])
        expect(outcome.transcript.map { |m| m["role"] }).to eq(%w[assistant user assistant])
        expect(outcome.transcript[1]["content"].map { |p| p["content"] }).to eq(["sunny in Paris", "sunny in Rome"])
        expect(outcome.usage_per_round.last).to include(input_tokens: 40, output_tokens: 3)
        expect(outcome.usage[:output_tokens]).to be > 3
        expect(handler.of(:on_text).last.first).to eq("Checking both.\n\nBoth sunny.")
        expect(handler.of(:on_status)).to eq([["get_weather", {"city" => "Paris"}], ["get_weather", {"city" => "Rome"}]])
        expect(handler.of(:on_round).map(&:first)).to eq([1, 2])

        requests = local_provider.requests
        expect(requests.size).to eq(2)
        expect(requests.map(&:provider)).to all(eq(provider))
        expect(requests.first.header(models[:auth][0])).to eq(models[:auth][1])
        first, second = bodies
        case provider
        when :anthropic
          # Prompt caching is on by default: the tools, the system prompt and the round's tool results are marked.
          cached = {"cache_control" => {"type" => "ephemeral"}}
          expect(first).to include("model" => models[:high_id], "stream" => true,
            "system" => [{"type" => "text", "text" => "Answer briefly."}.merge(cached)],
            "max_tokens" => 8192, "messages" => [{"role" => "user", "content" => [{"type" => "text", "text" => "Weather in Paris and Rome?"}]}])
          expect(first["tools"]).to eq([{"name" => "get_weather", "description" => "Current weather for a city",
                                         "input_schema" => {"type" => "object", "properties" => {"city" => {"type" => "string"}}, "required" => ["city"]}}.merge(cached)])
          ids = second["messages"][1]["content"].select { |b| b["type"] == "tool_use" }.map { |b| b["id"] }
          expect(second["messages"][2]).to eq("role" => "user", "content" => [
            {"type" => "tool_result", "tool_use_id" => ids[0], "content" => "sunny in Paris"},
            {"type" => "tool_result", "tool_use_id" => ids[1], "content" => "sunny in Rome"}.merge(cached)
          ])
        when :openai
          expect(first).to include("model" => models[:high_id], "stream" => true, "stream_options" => {"include_usage" => true})
          expect(first["messages"]).to eq([{"role" => "system", "content" => "Answer briefly."},
            {"role" => "user", "content" => "Weather in Paris and Rome?"}])
          expect(first["tools"].first).to include("type" => "function")
          expect(first["tools"].first["function"]).to include("name" => "get_weather", "parameters" => a_hash_including("type" => "object"))
          assistant = second["messages"][2]
          expect(assistant).to include("role" => "assistant", "content" => "Checking both.")
          expect(second["messages"][3..]).to eq(assistant["tool_calls"].zip(["sunny in Paris", "sunny in Rome"]).map { |call, text|
            {"role" => "tool", "tool_call_id" => call["id"], "content" => text}
          })
          expect(assistant["tool_calls"]).to all(include("type" => "function"))
        when :gemini
          expect(requests.first.path).to eq("/v1beta/models/#{models[:high_id]}:streamGenerateContent")
          expect(requests.first.query).to include("alt" => "sse")
          expect(first).to include("systemInstruction" => {"parts" => [{"text" => "Answer briefly."}]},
            "contents" => [{"role" => "user", "parts" => [{"text" => "Weather in Paris and Rome?"}]}])
          expect(first["tools"].first["functionDeclarations"].first).to include("name" => "get_weather")
          expect(second["contents"].map { |c| c["role"] }).to eq(%w[user model user])
          expect(second["contents"].last["parts"]).to eq([
            {"functionResponse" => {"name" => "get_weather", "response" => {"output" => "sunny in Paris"}}},
            {"functionResponse" => {"name" => "get_weather", "response" => {"output" => "sunny in Rome"}}}
          ])
        end
        expect(assistant_calls(provider, second)).to eq([["get_weather", {"city" => "Paris"}], ["get_weather", {"city" => "Rome"}]])
      end

      it "retries after a 429, waiting the retry-after the provider asked for" do
        local_provider.enqueue(status: 429, headers: {"retry-after" => "1"})
        local_provider.enqueue(text: "Done.")

        outcome = turn(models[:high]).run

        expect(outcome).to have_attributes(status: :completed, text: "Done.", retries: 1)
        expect(outcome.round_details.first).to include(attempts: 2, failures: [:rate_limited])
        attempt, delay, failure = handler.of(:on_retry).first
        expect([attempt, failure.kind]).to eq([2, :rate_limited])
        expect(delay).to be >= 1.0
        expect(local_provider.requests.size).to eq(2)
      end

      it "fails at once, saying when to retry, when retry-after is longer than 30 seconds" do
        local_provider.enqueue(status: 429, headers: {"retry-after" => "120"})

        outcome = turn(models[:high]).run

        expect(outcome.status).to eq(:failed)
        expect(outcome.failure).to have_attributes(kind: :rate_limited, action: :fail)
        expect(outcome.failure.message).to match(/wait 120 seconds.*try again after \d\d:\d\d UTC/)
        expect(local_provider.requests.size).to eq(1)
      end

      it "retries an overloaded provider (#{models[:overloaded]}) and then succeeds" do
        local_provider.enqueue(status: models[:overloaded])
        local_provider.enqueue(text: "Back.")

        outcome = turn(models[:high]).run

        expect(outcome).to have_attributes(status: :completed, text: "Back.", retries: 1)
        expect(outcome.round_details.first[:failures]).to eq([:overloaded])
      end

      it "gives up after three attempts of one round" do
        local_provider.enqueue(status: 500, times: 3)
        local_provider.enqueue(text: "never reached")

        outcome = turn(models[:high]).run

        expect(outcome.status).to eq(:failed)
        expect(outcome.failure).to have_attributes(kind: :server_error, action: :fail)
        expect(local_provider.requests.size).to eq(3)
        expect(outcome.retries).to eq(2)
      end

      it "retries a mid-stream error, going on from the words already shown" do
        local_provider.enqueue(text: "Partial answer that breaks off here", error_event: {after: 4})
        local_provider.enqueue(text: " and the rest.")

        outcome = turn(models[:high]).run

        shown = handler.of(:on_text).map(&:first)
        partial = shown.find { |text| shown.last.start_with?(text) && !text.empty? }
        expect(outcome).to have_attributes(status: :completed, retries: 1)
        expect(outcome.text).to end_with(" and the rest.")
        expect(handler.of(:on_text_reset)).to be_empty
        # Each text the user is shown goes on from the one before: nothing is taken back.
        expect(shown.each_cons(2).reject { |before, after| after.start_with?(before) }).to eq([])
        expect(outcome.text).to eq("#{outcome.text.delete_suffix(" and the rest.")} and the rest.")
        expect(outcome.text).to start_with(partial)
        expect(JSON.generate(bodies.last)).to include(JSON.generate(described_class::CONTINUE_PROMPT))
      end

      it "keeps earlier rounds' text, and the words shown, when a later round is retried after partial text" do
        local_provider.enqueue(text: "Looking.", tool_calls: two_cities.take(1))
        local_provider.enqueue(text: "Half of the ans", close_without_terminal: true)
        local_provider.enqueue(text: "wer: Paris is sunny.")

        outcome = turn(models[:high]).run

        expect(outcome).to have_attributes(status: :completed, retries: 1)
        expect(outcome.text).to start_with("Looking.\n\nHalf")
        expect(outcome.text).to end_with("wer: Paris is sunny.")
        shown = handler.of(:on_text).map(&:first)
        expect(shown.each_cons(2).reject { |before, after| after.start_with?(before) }).to eq([])
        expect(handler.of(:on_text_reset)).to be_empty
      end

      it "compacts the history after a context overflow and succeeds" do
        local_provider.enqueue(status: 400, body: JSON.generate(TurnProviders::CONTEXT_OVERFLOW[provider]))
        local_provider.enqueue(text: "Short enough now.")
        history = [{role: "user", content: "old question"}, {role: "assistant", content: "old answer"}] + question

        outcome = turn(models[:high], messages: history).run

        expect(outcome).to have_attributes(status: :completed, text: "Short enough now.", compactions: 1)
        expect(handler.of(:on_compaction).map(&:first)).to eq([1])
        sent = bodies.last
        texts = (provider == :gemini) ? sent["contents"].map { |c| c["parts"].first["text"] } : sent["messages"].map { |m| m["content"] }
        expect(texts.to_s).not_to include("old question")
        expect(texts.to_s).to include("Weather in Paris and Rome?")
      end

      it "fails with advice to start a new conversation when compaction is exhausted" do
        local_provider.enqueue(status: 400, body: JSON.generate(TurnProviders::CONTEXT_OVERFLOW[provider]), times: 3)
        history = Array.new(6) { |i| {role: i.even? ? "user" : "assistant", content: "message #{i}"} } + question

        outcome = turn(models[:high], messages: history).run

        expect(outcome.status).to eq(:failed)
        expect(outcome.failure).to have_attributes(kind: :context_overflow, action: :fail)
        expect(outcome.failure.message).to match(/start a new conversation/)
        expect(outcome.compactions).to eq(AssistantChatNative::MAX_COMPACTION_RETRIES)
        expect(local_provider.requests.size).to eq(3)
      end

      it "escalates to claude-sonnet when the low-tier model stalls after tool calls, reusing the transcript" do
        local_provider.enqueue(text: "Checking.", tool_calls: two_cities, model: models[:low_id])
        local_provider.enqueue(stall_after: 1, stall_for: 5, model: models[:low_id])
        local_provider.enqueue(text: "Escalated answer.", provider: :anthropic, model: "claude-sonnet-5-5")

        outcome = turn(models[:low]).run

        # Words the stalled stream showed (Gemini's first event has some) stay, and the
        # stronger model goes on from them.
        escalated_at = handler.calls.index { |call| call.first == :on_escalation }
        kept = handler.calls[0...escalated_at].reverse.find { |call| call.first == :on_text }[1].sub(/\AChecking\.(\n\n)?/, "")
        expect(outcome).to have_attributes(status: :completed, model: "claude-sonnet", requested_model: models[:low],
          escalated?: true, text: "Checking.\n\n#{kept}Escalated answer.")
        expect(handler.of(:on_escalation)).to eq([[models[:low], "claude-sonnet", :stalled]])
        last = local_provider.requests.last
        expect(last.provider).to eq(:anthropic)
        expect(last.json["model"]).to eq("claude-sonnet-5-5")
        expect(last.json["messages"].map { |m| m["role"] }).to eq(kept.empty? ? %w[user assistant user] : %w[user assistant user assistant user])
        expect(tool_results(:anthropic, last.json)).to eq([["sunny in Paris", false], ["sunny in Rome", false]])
        expect(weather_calls.size).to eq(2) # the tools did not run again
        expect(outcome.round_details.last).to include(model: "claude-sonnet", failures: [:stalled])
      end

      it "escalates when the low-tier model answers tool results with nothing" do
        local_provider.enqueue(tool_calls: two_cities.take(1), model: models[:low_id])
        local_provider.enqueue(text: "", model: models[:low_id])
        local_provider.enqueue(text: "Paris is sunny.", model: "claude-sonnet-5-5")

        outcome = turn(models[:low]).run

        expect(outcome).to have_attributes(status: :completed, model: "claude-sonnet", text: "Paris is sunny.")
        expect(handler.of(:on_escalation).first.last).to eq(:empty_answer)
      end

      it "continues past max_rounds and resumes from the state without repeating a round" do
        local_provider.enqueue(text: "Step one.", tool_calls: two_cities.take(1))
        local_provider.enqueue(text: "Step two.", tool_calls: two_cities.drop(1))
        local_provider.enqueue(text: "All done.")

        first = turn(models[:high], max_rounds: 1).run
        expect(first).to have_attributes(status: :continue, rounds: 1, text: "Step one.")
        state = JSON.parse(JSON.generate(first.state))
        expect(state).to include("version" => 1, "model" => models[:high], "rounds" => 1)
        expect(local_provider.requests.size).to eq(1)

        second = described_class.resume(state, system: "Answer briefly.", tools: [weather], handler: handler,
          config: config).run
        expect(second).to have_attributes(status: :completed, rounds: 2, text: "Step one.\n\nStep two.\n\nAll done.")
        expect(second.round_details.map { |r| r[:round] }).to eq([2, 3])
        expect(weather_calls).to eq([{"city" => "Paris"}, {"city" => "Rome"}])
        expect(local_provider.requests.size).to eq(3)
        expect(assistant_calls(provider, bodies[1])).to eq([["get_weather", {"city" => "Paris"}]])
        expect(tool_results(provider, bodies[1])).to eq([["sunny in Paris", false]])
        expect((first.transcript + second.transcript).map { |m| m["role"] }).to eq(%w[assistant user assistant user assistant])
      end

      it "continues when the deadline has passed between rounds" do
        local_provider.enqueue(text: "Step one.", tool_calls: two_cities.take(1))

        outcome = turn(models[:high], deadline: Time.now).run

        expect(outcome).to have_attributes(status: :continue, rounds: 1)
        expect(outcome.state["messages"].last["content"].first).to include("type" => "tool_result")
      end

      it "turns a raising tool into an error result the model reads" do
        broken = AssistantChatNative::Tool.new(name: "get_weather", description: "d", input_schema: {type: "object"}) do
          raise IOError, "station offline"
        end
        local_provider.enqueue(tool_calls: two_cities.take(1))
        local_provider.enqueue(text: "The station is offline.")

        outcome = turn(models[:high], tools: [broken]).run

        expect(outcome).to have_attributes(status: :completed, text: "The station is offline.")
        expect(outcome.transcript[1]["content"].first).to include("is_error" => true, "content" => "IOError: station offline")
        expect(tool_results(provider, bodies.last)).to eq([[(provider == :openai) ? "Error: IOError: station offline" : "IOError: station offline", true]])
      end

      it "stops mid-stream when cancelled, within a second" do
        local_provider.enqueue(text: "word " * 200, token_rate: 20)
        handler.cancel_when = ->(h) { h.of(:on_text).any? }

        started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        outcome = turn(models[:high]).run

        expect(outcome.status).to eq(:cancelled)
        expect(outcome.failure.kind).to eq(:cancelled)
        expect(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).to be < 2
        expect(outcome.text).to start_with("word")
        expect(outcome.transcript).to eq([{"role" => "assistant", "content" => [{"type" => "text", "text" => outcome.text}]}])
        expect(local_provider.requests.size).to eq(1)
      end

      it "stops between tools when cancelled, answering the calls it did not run" do
        cancel = false
        first_tool = AssistantChatNative::Tool.new(name: "get_weather", description: "d", input_schema: {type: "object"}) do |arguments|
          cancel = true
          "sunny in #{arguments["city"]}"
        end
        handler.cancel_when = ->(_h) { cancel }
        local_provider.enqueue(tool_calls: two_cities)

        outcome = turn(models[:high], tools: [first_tool]).run

        expect(outcome.status).to eq(:cancelled)
        results = outcome.transcript.last["content"]
        expect(results.map { |r| [r["content"], r["is_error"]] }).to eq([["sunny in Paris", false], [described_class::CANCELLED_RESULT, true]])
        expect(local_provider.requests.size).to eq(1)
      end
    end
  end

  it "sends Anthropic thinking blocks back, signed and ahead of tool_use, when thinking is on" do
    config.models.register("claude-thinking", provider: :anthropic, model_id: "claude-haiku-4-5", thinking: 1024,
      max_tokens: 4096, base_url: local_provider.base_url_for(:anthropic), api_key: "test-key")
    local_provider.enqueue(thinking: "Paris first.", signature: "sig-local-1", tool_calls: two_cities.take(1))
    local_provider.enqueue(text: "Sunny.")

    outcome = turn("claude-thinking").run

    expect(outcome.status).to eq(:completed)
    expect(handler.of(:on_thinking).last.first).to eq("Paris first.")
    first, second = bodies
    expect(first["thinking"]).to eq("type" => "enabled", "budget_tokens" => 1024)
    blocks = second["messages"][1]["content"]
    expect(blocks.map { |b| b["type"] }).to eq(%w[thinking tool_use])
    expect(blocks.first).to eq("type" => "thinking", "thinking" => "Paris first.", "signature" => "sig-local-1")
  end

  it "sends adaptive thinking with its effort to Claude 5.5 through LocalProvider, and its thinking blocks back" do
    config.models.register("claude-adaptive", provider: :anthropic, model_id: "claude-sonnet-5-5", thinking: true,
      effort: "medium", base_url: local_provider.base_url_for(:anthropic), api_key: "test-key")
    local_provider.enqueue(thinking: "Paris first.", signature: "sig-local-2", tool_calls: two_cities.take(1))
    local_provider.enqueue(text: "Sunny.")

    outcome = turn("claude-adaptive").run

    expect(outcome.status).to eq(:completed)
    first, second = bodies
    expect(first.slice("thinking", "output_config")).to eq("thinking" => {"type" => "adaptive"}, "output_config" => {"effort" => "medium"})
    expect(second["messages"][1]["content"].map { |b| b["type"] }).to eq(%w[thinking tool_use])
  end

  it "sends Gemini 3's thinkingLevel through LocalProvider" do
    config.models.register("gemini-thinking", provider: :gemini, model_id: "gemini-3.8-flash", effort: "low",
      base_url: local_provider.base_url_for(:gemini), api_key: "test-key")
    local_provider.enqueue(text: "Sunny.", provider: :gemini)

    expect(turn("gemini-thinking").run.status).to eq(:completed)
    expect(bodies.last["generationConfig"]["thinkingConfig"]).to eq("includeThoughts" => true, "thinkingLevel" => "low")
  end

  it "sends a Gemini function call's thought signature back beside the call" do
    lookup = AssistantChatNative::Tool.new(name: "lookup_order", description: "Find an order",
      input_schema: {type: "object", properties: {order_id: {type: "string"}}}) { |arguments| "shipped #{arguments["order_id"]}" }
    # A recorded Gemini reply whose functionCall part carries "thoughtSignature": "CiwB0e2Kb3xQzTq7".
    local_provider.enqueue(replay: "text_and_function_call", provider: :gemini)
    local_provider.enqueue(text: "It shipped.", provider: :gemini)

    outcome = turn("gemini-flash", tools: [lookup]).run

    expect(outcome.status).to eq(:completed)
    model_turn = bodies.last["contents"].find { |content| content["role"] == "model" }
    call_part = model_turn["parts"].find { |part| part["functionCall"] }
    expect(call_part).to include("functionCall" => include("name" => "lookup_order"), "thoughtSignature" => "CiwB0e2Kb3xQzTq7")
  end

  it "compacts through the handler's own compact(messages) when it has one" do
    local_provider.enqueue(status: 400, body: JSON.generate(TurnProviders::CONTEXT_OVERFLOW[:anthropic]))
    local_provider.enqueue(text: "Fits now.")
    def handler.compact(messages)
      [{"role" => "user", "content" => "Summary of earlier talk."}, messages.last]
    end
    history = [{role: "user", content: "old question"}, {role: "assistant", content: "old answer"}] + question

    outcome = turn("claude-sonnet", messages: history).run

    expect(outcome).to have_attributes(status: :completed, compactions: 1)
    expect(bodies.last["messages"].map { |m| m["content"].first["text"] }).to eq(["Summary of earlier talk.", "Weather in Paris and Rome?"])
  end

  it "resumes an escalated turn on the escalation model, still escalated" do
    local_provider.enqueue(tool_calls: two_cities.take(1), model: "gemini-3.8-flash")
    local_provider.enqueue(status: 400, body: "", provider: :gemini)
    local_provider.enqueue(text: "Step two.", tool_calls: two_cities.drop(1), provider: :anthropic)
    local_provider.enqueue(text: "Done.", provider: :anthropic)

    first = turn("gemini-flash", max_rounds: 2).run
    expect(first).to have_attributes(status: :continue, model: "claude-sonnet", escalated?: true)
    state = JSON.parse(JSON.generate(first.state))
    expect(state).to include("model" => "claude-sonnet", "requested_model" => "gemini-flash", "escalated" => true)

    second = described_class.resume(state, system: "Answer briefly.", tools: [weather], handler: handler, config: config).run
    expect(second).to have_attributes(status: :completed, model: "claude-sonnet", requested_model: "gemini-flash",
      escalated?: true, text: "Step two.\n\nDone.")
    expect(local_provider.requests.map(&:provider)).to eq(%i[gemini gemini anthropic anthropic])
  end

  it "takes a deadline as a Process::CLOCK_MONOTONIC reading too" do
    local_provider.enqueue(tool_calls: two_cities.take(1))
    local_provider.enqueue(text: "Done.")

    past = turn("claude-sonnet", deadline: Process.clock_gettime(Process::CLOCK_MONOTONIC)).run
    expect(past.status).to eq(:continue)

    local_provider.reset
    local_provider.enqueue(tool_calls: two_cities.take(1))
    local_provider.enqueue(text: "Done.")
    future = turn("claude-sonnet", deadline: Process.clock_gettime(Process::CLOCK_MONOTONIC) + 60).run
    expect(future.status).to eq(:completed)
  end

  it "streams another round after Anthropic's pause_turn, sending the paused reply back" do
    local_provider.enqueue(text: "Searching the web", stop_reason: :pause_turn)
    local_provider.enqueue(text: "Found it.")

    outcome = turn("claude-sonnet").run

    expect(outcome).to have_attributes(status: :completed, rounds: 2, text: "Searching the web\n\nFound it.")
    expect(bodies.last["messages"].last).to eq("role" => "assistant", "content" => [{"type" => "text", "text" => "Searching the web"}])
  end

  it "keeps heartbeats going while it waits to retry" do
    config.heartbeat_interval = 0.05
    local_provider.enqueue(status: 429, headers: {"retry-after" => "1"})
    local_provider.enqueue(text: "ok")

    outcome = turn("claude-sonnet").run

    expect(outcome.status).to eq(:completed)
    retry_at = handler.calls.index { |call| call.first == :on_retry }
    expect(handler.calls[retry_at..].count { |call| call.first == :on_heartbeat }).to be >= 5
  end

  it "names the known models when asked for an unknown one" do
    expect { turn("claude-unknown") }.to raise_error(AssistantChatNative::ConfigurationError, /unknown model "claude-unknown": known models are/)
  end

  it "runs once" do
    local_provider.enqueue(text: "ok")
    running = turn("claude-sonnet")
    running.run
    expect { running.run }.to raise_error(AssistantChatNative::Error, /runs once/)
  end

  it "reports per-round figures for instrumentation" do
    local_provider.enqueue(status: 503, provider: :anthropic)
    local_provider.enqueue(tool_calls: two_cities.take(1), usage: {input_tokens: 10, output_tokens: 2})
    local_provider.enqueue(text: "Done.", usage: {input_tokens: 20, output_tokens: 3})

    outcome = turn("claude-sonnet").run

    expect(outcome.round_stats.map { |r| r.slice(:round, :model, :provider, :attempts, :input_tokens, :output_tokens, :stop_reason, :failure_kind) }).to eq([
      {round: 1, model: "claude-sonnet", provider: :anthropic, attempts: 2, input_tokens: 10, output_tokens: 2, stop_reason: :tool_use, failure_kind: :overloaded},
      {round: 2, model: "claude-sonnet", provider: :anthropic, attempts: 1, input_tokens: 20, output_tokens: 3, stop_reason: :end_turn, failure_kind: nil}
    ])
    expect(outcome.round_stats.first).to include(:status, :duration, :time_to_first_token, :flushes)
    expect(outcome.usage).to eq(input_tokens: 30, output_tokens: 5)
    expect(outcome.to_h).to include(status: :completed, rounds: 2, retries: 1, escalated: false, failure: nil)
  end

  [AssistantChatNative.stream_class, AssistantChatNative::RubyStream].uniq.each do |stream_class|
    context "with a handler that answers on_stream_end, streamed by #{stream_class.name}" do
      before { config.stream_class = stream_class }

      let(:handler) do
        RecordingTurnHandler.new.tap do |recording|
          recording.define_singleton_method(:on_stream_end) { |details| @lock.synchronize { @calls << [:on_stream_end, details] } }
        end
      end

      def stream_ends
        handler.of(:on_stream_end).map(&:first)
      end

      def summary(details)
        details.slice(:round, :attempt, :model, :provider, :model_id, :stop_reason, :failures, :failure_kind)
      end

      it "reports each stream as it ends, before the tools of its round run" do
        local_provider.enqueue(tool_calls: two_cities.take(1), usage: {input_tokens: 10, output_tokens: 2})
        local_provider.enqueue(text: "Sunny in Paris.", usage: {input_tokens: 20, output_tokens: 3})

        outcome = turn("claude-sonnet").run

        expect(outcome.status).to eq(:completed)
        expect(stream_ends.map { |details| summary(details) }).to eq([
          {round: 1, attempt: 1, model: "claude-sonnet", provider: :anthropic, model_id: "claude-sonnet-5-5",
           stop_reason: :tool_use, failures: [], failure_kind: nil},
          {round: 2, attempt: 1, model: "claude-sonnet", provider: :anthropic, model_id: "claude-sonnet-5-5",
           stop_reason: :end_turn, failures: [], failure_kind: nil}
        ])
        expect(stream_ends.map { |details| [details[:usage], details[:tool_calls]] })
          .to eq([[{input_tokens: 10, output_tokens: 2}, 1], [{input_tokens: 20, output_tokens: 3}, 0]])
        stream_ends.each do |details|
          expect(details[:stats].keys).to include(:status, :time_to_first_byte, :time_to_first_token, :duration, :bytes, :events, :flushes)
          expect(details[:stats]).to include(status: 200)
          expect(details[:stats][:bytes]).to be > 0
          expect(details[:stats][:events]).to be > 0
          expect(details[:stats][:duration]).to be >= details[:stats][:time_to_first_byte]
        end
        names = handler.calls.map(&:first)
        expect(names.each_index.select { |at| names[at] == :on_stream_end })
          .to eq([names.index(:on_status) - 1, names.rindex(:on_stream_end)])
        expect(names.index(:on_stream_end)).to be > names.index(:on_round)
        expect(names.last).to eq(:on_stream_end)
      end

      it "reports a failed attempt with its failure kind, then the retry that succeeded" do
        local_provider.enqueue(status: 529, provider: :anthropic)
        local_provider.enqueue(text: "Sunny in Paris.", usage: {input_tokens: 20, output_tokens: 3})

        outcome = turn("claude-sonnet").run

        expect(outcome.status).to eq(:completed)
        expect(stream_ends.map { |details| summary(details) }).to eq([
          {round: 1, attempt: 1, model: "claude-sonnet", provider: :anthropic, model_id: "claude-sonnet-5-5",
           stop_reason: nil, failures: [], failure_kind: :overloaded},
          {round: 1, attempt: 2, model: "claude-sonnet", provider: :anthropic, model_id: "claude-sonnet-5-5",
           stop_reason: :end_turn, failures: [:overloaded], failure_kind: nil}
        ])
        failed, succeeded = stream_ends
        expect(failed[:stats]).to include(status: 529, time_to_first_token: nil)
        expect(failed[:usage]).to eq(input_tokens: 0, output_tokens: 0)
        expect(succeeded[:stats]).to include(status: 200)
        expect(handler.calls.map(&:first).select { |name| %i[on_stream_end on_retry].include?(name) })
          .to eq(%i[on_stream_end on_retry on_stream_end])
      end

      it "reports every attempt of a round that fails, the last with the kind the turn failed on" do
        3.times { local_provider.enqueue(status: 529, provider: :anthropic) }

        outcome = turn("claude-sonnet").run

        expect(outcome.status).to eq(:failed)
        expect(stream_ends.map { |details| details.values_at(:round, :attempt, :failures, :failure_kind) })
          .to eq([[1, 1, [], :overloaded], [1, 2, [:overloaded], :overloaded], [1, 3, %i[overloaded overloaded], :overloaded]])
        expect(outcome.failure.kind).to eq(stream_ends.last[:failure_kind])
      end

      it "reports the attempt on the escalated model apart from the one that led to it" do
        local_provider.enqueue(status: 400, body: "", provider: :gemini)
        local_provider.enqueue(text: "Answered by Claude.", provider: :anthropic)

        turn("gemini-flash").run

        expect(stream_ends.map { |details| details.values_at(:round, :attempt, :model, :provider, :model_id, :failure_kind) })
          .to eq([[1, 1, "gemini-flash", :gemini, "gemini-3.8-flash", :empty_bad_request],
            [1, 1, "claude-sonnet", :anthropic, "claude-sonnet-5-5", nil]])
      end

      it "reports a stream cancelled midway with failure kind :cancelled" do
        local_provider.enqueue(text: "word " * 200, token_rate: 20)
        handler.cancel_when = ->(h) { h.of(:on_text).any? }

        outcome = turn("claude-sonnet").run

        expect(outcome.status).to eq(:cancelled)
        expect(stream_ends.map { |details| details.values_at(:round, :attempt, :failure_kind) }).to eq([[1, 1, :cancelled]])
        expect(stream_ends.first[:stats][:flushes]).to be >= 1
      end

      it "passes no request headers, so no API key" do
        local_provider.enqueue(text: "ok")

        turn("claude-sonnet").run

        expect(stream_ends.size).to eq(1)
        expect(stream_ends.first.keys).to contain_exactly(:round, :attempt, :model, :provider, :model_id, :stats, :usage, :cost,
          :stop_reason, :tool_calls, :failures, :failure_kind)
        expect(stream_ends.first.inspect).not_to include("test-key")
      end
    end
  end

  it "costs an escalated turn what each model charged for its own attempts" do
    local_provider.enqueue(tool_calls: two_cities.take(1), model: "claude-haiku-5-5", usage: {input_tokens: 100, output_tokens: 10})
    local_provider.enqueue(text: "", model: "claude-haiku-5-5", usage: {input_tokens: 120, output_tokens: 1})
    local_provider.enqueue(text: "Paris is sunny.", model: "claude-sonnet-5-5",
      usage: {input_tokens: 150, output_tokens: 5, cache_read_tokens: 50, cache_write_tokens: 0})

    outcome = turn("claude-haiku").run

    expect(outcome).to have_attributes(status: :completed, model: "claude-sonnet", escalated?: true)
    # Haiku 5.5 $0.10 in / $0.50 out; Sonnet 5.5 $2 in / $10 out / $0.20 cache read (per million).
    haiku = (100 * 0.10 + 10 * 0.50) + (120 * 0.10 + 1 * 0.50)
    sonnet = 150 * 2.0 + 5 * 10.0 + 50 * 0.20
    expect(outcome.cost).to be_within(1e-12).of((haiku + sonnet) / 1_000_000.0)
    expect(outcome.round_details.map { |round| round[:cost] }).to eq([0.000015, 0.0003725])
    expect(outcome.to_h[:cost]).to eq(outcome.cost)
  end

  it "escalates a Gemini body-less 400 to claude-sonnet" do
    local_provider.enqueue(status: 400, body: "", provider: :gemini)
    local_provider.enqueue(text: "Answered by Claude.", provider: :anthropic)

    outcome = turn("gemini-flash").run

    expect(outcome).to have_attributes(status: :completed, model: "claude-sonnet", escalated?: true, text: "Answered by Claude.")
    expect(handler.of(:on_escalation)).to eq([["gemini-flash", "claude-sonnet", :empty_bad_request]])
    expect(local_provider.requests.map(&:provider)).to eq(%i[gemini anthropic])
    expect(local_provider.requests.last.json["messages"]).to eq([{"role" => "user", "content" => [{"type" => "text", "text" => "Weather in Paris and Rome?"}]}])
  end

  it "escalates at most once per turn" do
    local_provider.enqueue(status: 400, body: "", provider: :gemini)
    local_provider.enqueue(status: 400, body: "", provider: :anthropic)

    outcome = turn("gemini-flash").run

    expect(outcome.status).to eq(:failed)
    expect(outcome.failure.kind).to eq(:empty_bad_request)
    expect(handler.of(:on_escalation).size).to eq(1)
  end

  it "keeps heartbeats going while tools run" do
    config.heartbeat_interval = 0.05
    slow = AssistantChatNative::Tool.new(name: "get_weather", description: "d", input_schema: {type: "object"}) do
      sleep 0.35
      "done"
    end
    local_provider.enqueue(tool_calls: two_cities.take(1))
    local_provider.enqueue(text: "ok")

    outcome = turn("claude-sonnet", tools: [slow]).run

    expect(outcome.status).to eq(:completed)
    status_at = handler.calls.index { |call| call.first == :on_status }
    result_at = handler.calls.index { |call| call.first == :on_tool_result }
    expect(handler.calls[status_at..result_at].count { |call| call.first == :on_heartbeat }).to be >= 3
  end

  it "answers an unknown tool with an error result naming the tools it has" do
    local_provider.enqueue(tool_calls: [{name: "drop_tables", arguments: {}}])
    local_provider.enqueue(text: "I cannot do that.")

    outcome = turn("claude-sonnet").run

    expect(outcome.transcript[1]["content"].first["content"]).to eq('Unknown tool "drop_tables". Available tools: get_weather.')
  end

  it "stops a running turn from another thread with #cancel" do
    local_provider.enqueue(text: "word " * 200, token_rate: 20)
    running = turn("claude-sonnet")
    thread = Thread.new { running.run }
    sleep 0.01 until handler.of(:on_text).any?
    running.cancel

    expect(thread.join(2)&.value&.status).to eq(:cancelled)
  end
end
