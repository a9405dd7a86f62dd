# frozen_string_literal: true

require "spec_helper"
require "assistant_chat_native/worker"

RSpec.describe AssistantChatNative::Worker::ToolServices do
  subject(:registry) { described_class.new }

  def tool(name)
    AssistantChatNative::Tool.new(name: name, description: name) { |_arguments| name }
  end

  it "builds each service's tools with the job's user context and conversation, in the order asked" do
    seen = []
    registry.register("content") { |context, conversation| seen << [context, conversation] && [tool("search_content")] }
    registry.register(:app_db) { |_context, _conversation| [tool("query_database"), tool("list_tables")] }
    tools = registry.tools_for(%w[app_db content], user_context: {"user_id" => 7}, conversation: :conversation)
    expect(tools.map(&:name)).to eq(%w[query_database list_tables search_content])
    expect(seen).to eq([[{"user_id" => 7}, :conversation]])
  end

  it "keeps the first of two tools with the same name" do
    registry.register("a") { [tool("query_database")] }
    registry.register("b") { [tool("query_database"), tool("other")] }
    expect(registry.tools_for(%w[a b]).map(&:name)).to eq(%w[query_database other])
  end

  it "names the registered services when asked for an unknown one" do
    registry.register("app_db") { [] }
    expect { registry.tools_for(["nope"]) }
      .to raise_error(AssistantChatNative::ConfigurationError, /unknown tool service "nope"; registered: "app_db"/)
  end

  it "needs a block to register" do
    expect { registry.register("x") }.to raise_error(ArgumentError, /with a block/)
  end
end
