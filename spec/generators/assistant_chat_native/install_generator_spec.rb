# frozen_string_literal: true

require "spec_helper"
require "tmpdir"
require "active_record"
require "rails/generators"
require "generators/assistant_chat_native/install/install_generator"

RSpec.describe AssistantChatNative::Generators::InstallGenerator do
  around do |example|
    Dir.mktmpdir("acn-generator-") do |dir|
      @root = dir
      example.run
    end
  end

  def generate(*args)
    capture = StringIO.new
    original = $stdout
    $stdout = capture
    described_class.start(args, destination_root: @root)
    capture.string
  ensure
    $stdout = original
  end

  def read(path)
    File.read(File.join(@root, path))
  end

  it "writes the initializer, the migration, the worker subclass and both models for an app without them" do
    generate
    expect(read("config/initializers/assistant_chat_native.rb")).to include('config.worker.conversation_class = "Conversation"',
      'config.worker.message_foreign_key = "conversation_id"', "# config.worker.error_messages = :generic")
    migration = Dir[File.join(@root, "db/migrate/*_assistant_chat_native_install.rb")]
    expect(migration.size).to eq(1)
    source = File.read(migration.first)
    expect(source).to include("class AssistantChatNativeInstall < ActiveRecord::Migration[#{ActiveRecord::VERSION::MAJOR}.#{ActiveRecord::VERSION::MINOR}]",
      "unless table_exists?(:conversations)", "add_column :conversations, :processing_by_id, :bigint",
      "add_column :conversations, :processing_job_id, :string", "create_table :messages")
    expect(read("app/workers/assistant_chat_worker.rb")).to include("class AssistantChatWorker < AssistantChatNative::Worker")
    expect(read("app/models/conversation.rb")).to include("include AssistantChatNative::ProcessingLock", "has_many :messages")
    expect(read("app/models/message.rb")).to include("belongs_to :conversation")
  end

  it "adds the concern to an existing conversation model and follows the model names it is given" do
    FileUtils.mkdir_p(File.join(@root, "app/models"))
    File.write(File.join(@root, "app/models/chat.rb"), "class Chat < ApplicationRecord\n  has_many :chat_messages\nend\n")
    generate("--conversation-model=Chat", "--message-model=ChatMessage", "--worker=ChatWorker")
    expect(read("app/models/chat.rb")).to eq("class Chat < ApplicationRecord\n  include AssistantChatNative::ProcessingLock\n  has_many :chat_messages\nend\n")
    expect(read("app/models/chat_message.rb")).to include("belongs_to :chat, class_name: \"Chat\"")
    expect(read("app/workers/chat_worker.rb")).to include("class ChatWorker < AssistantChatNative::Worker")
    expect(read("config/initializers/assistant_chat_native.rb")).to include('config.worker.conversation_class = "Chat"',
      'config.worker.message_class = "ChatMessage"', 'config.worker.message_foreign_key = "chat_id"')
    source = File.read(Dir[File.join(@root, "db/migrate/*_assistant_chat_native_install.rb")].first)
    expect(source).to include("add_column :chats, :processing_since, :datetime", "create_table :chat_messages",
      "t.references :chat, null: false", "[:chat_id, :job_id, :role]")
  end
end
