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
end
