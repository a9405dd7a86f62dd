# frozen_string_literal: true

require "spec_helper"

RSpec.describe AssistantChatNative::Tool do
  it "calls its block with the model's arguments" do
    tool = described_class.new(name: :lookup, description: "Finds a row", input_schema: {type: "object"}) { |args| "row #{args["id"]}" }
    expect(tool).to have_attributes(name: "lookup", description: "Finds a row", input_schema: {type: "object"})
    expect(tool.call({"id" => 7})).to eq("row 7")
  end

  it "needs a block" do
    expect { described_class.new(name: "x", description: "y") }.to raise_error(ArgumentError, /needs a block/)
  end

  it "is not idempotent unless it says so" do
    expect(described_class.new(name: "refund", description: "d") { |_| "ok" }).not_to be_idempotent
    expect(described_class.new(name: "weather", description: "d", idempotent: true) { |_| "ok" }).to be_idempotent
  end

  it "hands the tool call's id to a block that takes tool_call_id:, and not to one that does not" do
    with_id = described_class.new(name: "refund", description: "d") { |arguments, tool_call_id:| [arguments, tool_call_id] }
    without = described_class.new(name: "weather", description: "d") { |arguments| arguments }
    expect(with_id.call({"order" => 7}, tool_call_id: "toolu_1")).to eq([{"order" => 7}, "toolu_1"])
    expect(without.call({"city" => "Paris"}, tool_call_id: "toolu_2")).to eq({"city" => "Paris"})
  end
end
