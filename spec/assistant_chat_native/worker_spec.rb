# frozen_string_literal: true

require "spec_helper"
require "assistant_chat_native/worker"

RSpec.describe AssistantChatNative::Worker do
  it "keeps the seed's constants" do
    expect(described_class::HEARTBEAT_INTERVAL).to eq(30)
    expect(described_class::MAX_COMPACTION_RETRIES).to eq(2)
    expect(described_class::ESCALATION_MODEL).to eq("claude-sonnet")
    expect(described_class::STATUS_BROADCAST_INTERVAL).to eq(AssistantChatNative::Broadcaster::STATUS_BROADCAST_INTERVAL)
    expect(described_class::TOOLS_WITH_SUMMARIES).to include("query_database")
    expect(described_class::TOOL_DISPLAY_NAMES).to include("query_database" => "Querying the database")
    expect(described_class::TOOL_PREFIXES).to include("app_db" => "app_db_")
  end

  it "shows unrecognised errors redacted by default, and takes only :redacted or :generic" do
    settings = AssistantChatNative::Worker::Settings.new
    expect(settings.error_messages).to eq(:redacted)
    settings.error_messages = :generic
    expect(settings.error_messages).to eq(:generic)
    expect { settings.error_messages = :verbatim }
      .to raise_error(AssistantChatNative::ConfigurationError, /error_messages must be :redacted or :generic/)
  end

  it "is a Sidekiq job" do
    expect(described_class.ancestors).to include(Sidekiq::Job)
  end

  describe "arguments" do
    let(:worker) { described_class.new }

    it "reads the seed's positional form with its defaults" do
      expect(worker.send(:parse_arguments, [7, "Hi", "claude-sonnet"])).to include(
        "conversation_id" => 7, "user_message" => "Hi", "model" => "claude-sonnet", "tool_services" => nil,
        "user_context" => nil, "upload_ids" => nil, "continuation" => nil
      )
    end

    it "reads the single Hash form with string keys, as Sidekiq delivers it" do
      parsed = worker.send(:parse_arguments, [{"conversation_id" => 7, "user_message" => "Hi", "model" => "gpt",
                                               "tool_services" => ["app_db"], "user_context" => {"party_id" => 3}}])
      expect(parsed).to include("conversation_id" => 7, "tool_services" => ["app_db"], "user_context" => {"party_id" => 3})
    end

    it "names unknown keys and a missing conversation_id" do
      expect { worker.send(:parse_arguments, [{"conversation_id" => 7, "mesage" => "Hi"}]) }
        .to raise_error(ArgumentError, /unknown argument\(s\) mesage/)
      expect { worker.send(:parse_arguments, [{"user_message" => "Hi"}]) }
        .to raise_error(ArgumentError, /conversation_id is required/)
      expect { worker.send(:parse_arguments, [7]) }.to raise_error(ArgumentError, /got 1 argument/)
    end

    it "turns symbol keys into strings before enqueueing, for Sidekiq's strict argument check" do
      expect(described_class.stringify_arguments([{conversation_id: 7, user_context: {party_id: 3}}]))
        .to eq([{"conversation_id" => 7, "user_context" => {"party_id" => 3}}])
      expect(described_class.stringify_arguments([7, "Hi", "gpt", [], {name: "Dana"}]))
        .to eq([7, "Hi", "gpt", [], {"name" => "Dana"}])
    end
  end
end
