# frozen_string_literal: true

require "spec_helper"
require_relative "seed_app_helpers"

RSpec.describe "The seed's app after `rails generate assistant_chat_native:install`", :worker_integration do
  def source(path)
    File.read(File.join(SpecRailsApp.source, path))
  end

  def installed(path)
    File.read(File.join(SpecRailsApp.root, path))
  end

  it "leaves the worker file alone and says there is nothing left to change in it" do
    expect(installed("app/workers/assistant_chat_worker.rb")).to eq(source("app/workers/assistant_chat_worker.rb"))
    expect(SpecRailsApp.generator_output).to include("app/workers/assistant_chat_worker.rb exists and was left as it is",
      "Nothing to change.")
    expect(AssistantChatWorker.superclass).to eq(AssistantChatNative::Worker)
    expect(AssistantChatWorker.ancestors).to include(AssistantChat::Broadcaster, Sidekiq::Status::Worker)
  end

  it "keeps the app's own lock methods: the conversation model is not given ProcessingLock" do
    expect(installed("app/models/assistant_conversation.rb")).to eq(source("app/models/assistant_conversation.rb"))
    expect(AssistantConversation.ancestors).not_to include(AssistantChatNative::ProcessingLock)
    expect(AssistantConversation.instance_method(:acquire_processing_lock!).owner).to eq(AssistantConversation)
  end

  it "writes down the app's names and maps the messages table's body column instead of adding content" do
    settings = AssistantChatWorker.settings
    expect([settings.conversation_model, settings.sender_model, settings.message_class, settings.message_foreign_key])
      .to eq([AssistantConversation, Party, "AssistantMessage", "assistant_conversation_id"])
    expect(settings.message_columns).to eq("content" => "body")

    columns = AssistantMessage.column_names
    expect(columns).to include("body", "job_id", "transcript", "status", "model", "continuation_state")
    expect(columns).not_to include("content")
    expect(AssistantConversation.column_names).to include("cancel_requested_at", "processing_by_id", "processing_since")
    index = ActiveRecord::Base.connection.indexes(:assistant_messages).find { |candidate| candidate.name == "index_assistant_messages_once_per_job" }
    expect([index&.columns, index&.unique]).to eq([%w[assistant_conversation_id job_id role], true])
  end

  it "keeps the gem's retry: 0 although the worker's body includes Sidekiq::Job again" do
    expect(AssistantChatWorker.get_sidekiq_options).to include("retry" => 0)
  end
end
