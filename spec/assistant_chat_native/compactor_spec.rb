# frozen_string_literal: true

require "spec_helper"

RSpec.describe AssistantChatNative::Compactor do
  let(:elided) { described_class::ELIDED }

  def exchange(question, result)
    [{"role" => "user", "content" => question},
      {"role" => "assistant", "content" => [{"type" => "tool_call", "id" => "id-#{question}", "name" => "q", "arguments" => {}}]},
      {"role" => "user", "content" => [{"type" => "tool_result", "tool_call_id" => "id-#{question}", "content" => result}]},
      {"role" => "assistant", "content" => "answer to #{question}"}]
  end

  let(:history) { exchange("one", "rows 1") + exchange("two", "rows 2") + exchange("three", "rows 3") + [{"role" => "user", "content" => "latest"}] }

  it "first replaces the oldest half of the tool results, keeping every call answered" do
    compacted = described_class.new.call(history)
    results = compacted.flat_map { |m| Array(m["content"]).grep(Hash).select { |p| p["type"] == "tool_result" } }
    expect(results.map { |p| p["content"] }).to eq([elided, elided, "rows 3"])
    expect(compacted.size).to eq(history.size)
    expect(history[2]["content"][0]["content"]).to eq("rows 1") # the input is not changed
  end

  it "then drops the oldest exchanges, never the latest user message" do
    step = described_class.new
    compacted = step.call(step.call(history))
    compacted = step.call(compacted)
    expect(compacted.first).to eq("role" => "user", "content" => "three")
    compacted = step.call(compacted)
    expect(compacted).to eq([{"role" => "user", "content" => "latest"}])
    expect(step.call(compacted)).to eq(compacted)
  end

  it "accepts symbol keys" do
    compacted = described_class.new.call([{role: "user", content: "a"}, {role: "assistant", content: "b"}, {role: "user", content: "c"}])
    expect(compacted).to eq([{"role" => "user", "content" => "c"}])
  end
end
