# frozen_string_literal: true

require "spec_helper"
require "logger"

# A turn whose job dies goes on from its last checkpoint: real streams from
# LocalProvider; the job's death is an exception out of the handler, which ends the
# run where a killed process would have stopped it.
class JobDied < StandardError; end

# Records every callback and every checkpoint (as JSON, as a database keeps it);
# dies on the callback and occurrence it is told to.
class CheckpointingHandler < RecordingTurnHandler
  attr_reader :checkpoints

  def initialize(die_on: nil, die_at: 1)
    super()
    @checkpoints = []
    @die_on = die_on
    @die_at = die_at
    @seen = Hash.new(0)
  end

  def on_checkpoint(state)
    @checkpoints << JSON.parse(JSON.generate(state))
  end

  def on_resume(text)
    @calls << [:on_resume, text]
  end

  %i[on_status on_text].each do |name|
    define_method(name) do |*arguments|
      super(*arguments)
      @seen[name] += 1
      raise JobDied, "the process was killed" if name == @die_on && @seen[name] == @die_at
    end
  end
end

RSpec.describe AssistantChatNative::Turn, "checkpoints" do
  let(:config) do
    AssistantChatNative::Configuration.new.tap do |config|
      config.stall_timeout = 2
      config.broadcast_interval = 0.01
      config.checkpoint_interval = 0
      config.logger = Logger.new(nil)
      config.models.register("claude-sonnet", provider: :anthropic, model_id: "claude-sonnet-local",
        base_url: local_provider.base_url_for(:anthropic), api_key: "test-key")
    end
  end
  let(:runs) { Hash.new(0) }
  let(:question) { [{role: "user", content: "Refund order 7 and check the weather"}] }

  def tool(name, idempotent:)
    counts = runs
    AssistantChatNative::Tool.new(name: name, description: name, idempotent: idempotent) do |arguments, tool_call_id:|
      counts[[name, tool_call_id]] += 1
      "#{name} done for #{arguments["order"]}"
    end
  end

  let(:tools) { [tool("refund_order", idempotent: false), tool("get_weather", idempotent: true)] }

  def start(handler)
    described_class.new(model: "claude-sonnet", system: "Be brief.", messages: question, tools: tools,
      handler: handler, config: config)
  end

  def resume(state, handler = CheckpointingHandler.new)
    [described_class.resume(state, system: "Be brief.", tools: tools, handler: handler, config: config).run, handler]
  end

  def last_request_messages
    local_provider.requests.last.json["messages"]
  end

  it "saves the round, each tool's start and each result, and the results once the round is done" do
    local_provider.enqueue(text: "On it.", tool_calls: [{name: "refund_order", id: "toolu_a", arguments: {order: 7}},
      {name: "get_weather", id: "toolu_b", arguments: {order: 7}}])
    local_provider.enqueue(text: "Refunded; sunny.")
    handler = CheckpointingHandler.new
    outcome = start(handler).run

    expect(outcome.status).to eq(:completed)
    tool_states = handler.checkpoints.filter_map { |state| state["tools"] }
    expect(tool_states.map { |tools| [tools["running"], tools["results"].keys] }).to eq([
      ["toolu_a", []], [nil, ["toolu_a"]], ["toolu_b", ["toolu_a"]], [nil, %w[toolu_a toolu_b]]
    ])
    after_round = handler.checkpoints.reverse.find { |state| !state.key?("tools") && !state.key?("partial_text") }
    expect(after_round["messages"].last["content"].map { |part| part["tool_call_id"] }).to eq(%w[toolu_a toolu_b])
    expect(handler.checkpoints).to all(include("checkpoint" => true, "version" => 1))
  end

  it "does not run a finished tool again, nor a non-idempotent one that was under way, when it resumes" do
    local_provider.enqueue(text: "On it.", tool_calls: [{name: "get_weather", id: "toolu_b", arguments: {order: 7}},
      {name: "refund_order", id: "toolu_a", arguments: {order: 7}}])
    handler = CheckpointingHandler.new(die_on: :on_status, die_at: 2)
    expect { start(handler).run }.to raise_error(JobDied)
    # The job died as refund_order was about to run: it was checkpointed as under way.
    expect(handler.checkpoints.last["tools"]).to include("running" => "toolu_a")

    local_provider.enqueue(text: "The weather is sunny; I could not confirm the refund.")
    outcome, resumed = resume(handler.checkpoints.last)

    expect(outcome).to have_attributes(status: :completed,
      text: "On it.\n\nThe weather is sunny; I could not confirm the refund.")
    expect(runs).to eq({["get_weather", "toolu_b"] => 1})
    results = last_request_messages.last["content"].map { |part| [part["tool_use_id"], part["content"], part["is_error"]] }
    expect(results).to eq([["toolu_b", "get_weather done for 7", nil], ["toolu_a", described_class::UNKNOWN_RESULT, true]])
    expect(resumed.of(:on_resume)).to eq([["On it."]])
    expect(resumed.of(:on_status)).to be_empty
  end

  it "runs an idempotent tool that was under way again, with the same call id" do
    local_provider.enqueue(text: "", tool_calls: [{name: "get_weather", id: "toolu_b", arguments: {order: 7}}])
    handler = CheckpointingHandler.new(die_on: :on_status, die_at: 1)
    expect { start(handler).run }.to raise_error(JobDied)

    local_provider.enqueue(text: "Sunny.")
    outcome, = resume(handler.checkpoints.last)

    expect(outcome).to have_attributes(status: :completed, text: "Sunny.")
    expect(runs).to eq({["get_weather", "toolu_b"] => 1})
  end

  it "keeps the text a dead job streamed and asks the model to go on from it" do
    local_provider.enqueue(text: "Sales rose in every state, led by California and", token_rate: 200)
    handler = CheckpointingHandler.new(die_on: :on_text, die_at: 3)
    expect { start(handler).run }.to raise_error(JobDied)
    partial = handler.checkpoints.last["partial_text"]
    expect(partial).not_to be_empty
    expect("Sales rose in every state, led by California and").to start_with(partial)
    shown = handler.of(:on_text).last.first
    expect(shown).to start_with(partial)

    local_provider.enqueue(text: " the rest.")
    outcome, resumed = resume(handler.checkpoints.last)

    expect(outcome).to have_attributes(status: :completed, text: "#{partial} the rest.")
    # The words kept end the prefix before the newest user message, where the cache breakpoint goes.
    expect(last_request_messages.last(2)).to eq([
      {"role" => "assistant", "content" => [{"type" => "text", "text" => partial, "cache_control" => {"type" => "ephemeral"}}]},
      {"role" => "user", "content" => [{"type" => "text", "text" => described_class::CONTINUE_PROMPT}]}
    ])
    # Every text the resumed turn shows starts with what the user had seen.
    expect(resumed.of(:on_text).map(&:first)).to all(start_with(partial))
  end

  it "goes on from all the words shown when a resumed turn dies too, with nothing in between" do
    local_provider.enqueue(text: "Sales rose in every state, led by", token_rate: 200)
    handler = CheckpointingHandler.new(die_on: :on_text, die_at: 3)
    expect { start(handler).run }.to raise_error(JobDied)

    # The second job dies too, after showing more words than its last checkpoint holds.
    local_provider.enqueue(text: " California and Texas, then", token_rate: 200)
    second = CheckpointingHandler.new(die_on: :on_text, die_at: 3)
    expect { resume(handler.checkpoints.last, second) }.to raise_error(JobDied)
    shown = second.of(:on_text).last.first
    state = described_class.with_shown_text(second.checkpoints.last, shown)
    expect(described_class.shown_text(state)).to eq(shown)

    local_provider.enqueue(text: " the rest.")
    outcome, third = resume(JSON.parse(JSON.generate(state)))
    expect(outcome).to have_attributes(status: :completed, text: "#{shown} the rest.")
    expect(third.of(:on_resume)).to eq([[shown]])
  end

  it "checkpoints streaming text at most every checkpoint_interval seconds" do
    config.checkpoint_interval = 60
    local_provider.enqueue(text: "word " * 40, token_rate: 400)
    handler = CheckpointingHandler.new
    start(handler).run
    expect(handler.checkpoints.count { |state| state.key?("partial_text") }).to eq(1)
  end

  it "a state goes on from the words a page was shown after it, joined as the reply joins them" do
    state = {"text" => "Round one.", "partial_text" => "Round two"}
    expect(described_class.shown_text(state)).to eq("Round one.\n\nRound two")
    expect(described_class.with_shown_text(state, "Round one.\n\nRound two goes on")["partial_text"]).to eq("Round two goes on")
    # Between rounds: the words after the separator are the next round's.
    between = {"text" => "Round one."}
    expect(described_class.with_shown_text(between, "Round one.\n\nRound")["partial_text"]).to eq("Round")
    # A resumed reply goes on with nothing in between.
    glued = {"text" => "Half a sen", "glue" => ""}
    expect(described_class.with_shown_text(glued, "Half a sentence")["partial_text"]).to eq("tence")
    # Text that does not go on from the state (a retry dropped it) changes nothing.
    expect(described_class.with_shown_text(state, "Round one.\n\nOther")).to equal(state)
    expect(described_class.with_shown_text(state, "Round one.")).to equal(state)
  end
end
