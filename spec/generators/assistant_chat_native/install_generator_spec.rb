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
      "t.references :chat, null: false", "%i[chat_id job_id role]")
  end

  describe "--queue=active_job" do
    it "writes an AssistantChatNative::Job subclass in app/jobs instead of the Sidekiq worker, and the same rest" do
      generate("--queue=active_job")
      job = read("app/jobs/assistant_chat_job.rb")
      expect(job).to include("class AssistantChatJob < AssistantChatNative::Job",
        "AssistantChatJob.perform_later(conversation.id")
      expect(job).not_to include("Sidekiq", "perform_async")
      expect(File.exist?(File.join(@root, "app/workers"))).to be(false)
      expect(read("config/initializers/assistant_chat_native.rb")).to include('config.worker.conversation_class = "Conversation"')
      expect(Dir[File.join(@root, "db/migrate/*_assistant_chat_native_install.rb")].size).to eq(1)
      expect(read("app/models/conversation.rb")).to include("include AssistantChatNative::ProcessingLock")
    end

    it "takes the job's name from --worker and leaves a job the app already has alone" do
      generate("--queue=active_job", "--worker=ChatTurnJob")
      expect(read("app/jobs/chat_turn_job.rb")).to include("class ChatTurnJob < AssistantChatNative::Job")
      write("app/jobs/assistant_chat_job.rb", "class AssistantChatJob < ApplicationJob
end
")
      output = generate("--queue=active_job")
      expect(read("app/jobs/assistant_chat_job.rb")).to eq("class AssistantChatJob < ApplicationJob
end
")
      expect(output).to include("make it inherit from AssistantChatNative::Job")
    end

    it "writes a job whose class loads and is an ActiveJob running the gem's turn" do
      generate("--queue=active_job", "--worker=GeneratedTurnJob")
      load File.join(@root, "app/jobs/generated_turn_job.rb")
      expect(GeneratedTurnJob.ancestors).to include(ActiveJob::Base, AssistantChatNative::TurnJob)
    ensure
      Object.send(:remove_const, :GeneratedTurnJob) if Object.const_defined?(:GeneratedTurnJob)
    end

    it "keeps the Sidekiq worker as the default" do
      generate
      expect(read("app/workers/assistant_chat_worker.rb")).to include("class AssistantChatWorker < AssistantChatNative::Worker")
      expect(File.exist?(File.join(@root, "app/jobs"))).to be(false)
    end
  end

  def write(path, text)
    FileUtils.mkdir_p(File.dirname(File.join(@root, path)))
    File.write(File.join(@root, path), text)
  end

  def migration_source
    paths = Dir[File.join(@root, "db/migrate/*_assistant_chat_native_install.rb")]
    expect(paths.size).to eq(1)
    File.read(paths.first)
  end

  let(:seed_conversation) do
    <<~RUBY
      class AssistantConversation < ApplicationRecord
        belongs_to :party
        has_many :uploads
        has_many :assistant_messages, -> { order(:created_at) }, dependent: :destroy

        def processing_lock_key = "assistant_conversation:\#{id}"
        def acquire_processing_lock!(sender, job_id:) = true
        def force_processing_lock!(sender, job_id:) = true
        def release_processing_lock! = true
        def track_error! = true
      end
    RUBY
  end

  let(:seed_schema) do
    <<~RUBY
      ActiveRecord::Schema[7.2].define(version: 2025_01_01_000000) do
        create_table "assistant_conversations", force: :cascade do |t|
          t.bigint "party_id"
          t.bigint "processing_by_id"
          t.datetime "processing_since"
        end

        create_table "assistant_messages", force: :cascade do |t|
          t.bigint "assistant_conversation_id", null: false
          t.string "role", null: false
          t.text "body"
          t.datetime "created_at", null: false
          t.datetime "updated_at", null: false
        end
      end
    RUBY
  end

  context "in an app shaped like the seed's (AssistantConversation, Party, an assistant_messages table)" do
    before do
      write("app/models/assistant_conversation.rb", seed_conversation)
      write("app/models/assistant_message.rb", "class AssistantMessage < ApplicationRecord\n  belongs_to :assistant_conversation\nend\n")
      write("app/models/party.rb", "class Party < ApplicationRecord\nend\n")
      write("db/schema.rb", seed_schema)
    end

    it "writes down the app's names, its association's foreign key and the column it calls body" do
      generate
      initializer = read("config/initializers/assistant_chat_native.rb")
      expect(initializer).to include('config.worker.conversation_class = "AssistantConversation"',
        'config.worker.sender_class = "Party"', 'config.worker.message_class = "AssistantMessage"',
        'config.worker.message_foreign_key = "assistant_conversation_id"',
        'config.worker.message_columns = {"content" => "body"}')
    end

    it "adds to the existing messages table only the columns the hooks need and it lacks" do
      generate
      source = migration_source
      added = %w[job_id transcript status model continuation_state].map { |column| ":assistant_messages, :#{column}, :" }
      expect(source).to include(*added)
      expect(source).not_to include("create_table :assistant_messages", ":assistant_messages, :content",
        ":assistant_messages, :role", ":assistant_messages, :body")
      expect(source).to include("add_column :assistant_conversations, :cancel_requested_at, :datetime",
        "%i[assistant_conversation_id job_id role]", 'name: "index_assistant_messages_once_per_job"')
    end

    it "leaves a conversation model that has the seed's lock methods, and an existing message model, as they are" do
      generate
      expect(read("app/models/assistant_conversation.rb")).to eq(seed_conversation)
      expect(read("app/models/assistant_message.rb")).to eq("class AssistantMessage < ApplicationRecord\n  belongs_to :assistant_conversation\nend\n")
    end

    it "includes ProcessingLock in a conversation model that lacks one of the lock methods, keeping its own" do
      without_track_error = seed_conversation.sub(/^  def track_error!.*\n/, "")
      write("app/models/assistant_conversation.rb", without_track_error)
      generate
      expect(read("app/models/assistant_conversation.rb")).to eq(without_track_error.sub(
        "class AssistantConversation < ApplicationRecord\n",
        "class AssistantConversation < ApplicationRecord\n  include AssistantChatNative::ProcessingLock\n"
      ))
    end

    it "maps a job id column the table already has under the name jid, and adds what is missing" do
      write("db/schema.rb", seed_schema.sub('t.text "body"', "t.text \"content\"\n    t.string \"jid\""))
      generate
      expect(read("config/initializers/assistant_chat_native.rb")).to include('config.worker.message_columns = {"job_id" => "jid"}')
      expect(migration_source).to include("%i[assistant_conversation_id jid role]", ":assistant_messages, :status, :string")
      expect(migration_source).not_to include(":assistant_messages, :job_id", ":assistant_messages, :content")
    end
  end

  it "follows the class_name and foreign_key of the conversation's has_many for messages" do
    write("app/models/conversation.rb", "class Conversation < ApplicationRecord\n  has_many :chat_messages, class_name: \"ChatLine\", foreign_key: :thread_id\nend\n")
    generate
    expect(read("config/initializers/assistant_chat_native.rb")).to include('config.worker.message_class = "ChatLine"',
      'config.worker.message_foreign_key = "thread_id"')
    expect(migration_source).to include("create_table :chat_lines", "t.references :thread, null: false", "%i[thread_id job_id role]")
  end

  it "finds an existing AssistantMessage model when the conversation model has no association for it" do
    write("app/models/assistant_conversation.rb", "class AssistantConversation < ApplicationRecord\nend\n")
    write("app/models/assistant_message.rb", "class AssistantMessage < ApplicationRecord\nend\n")
    generate
    expect(read("config/initializers/assistant_chat_native.rb")).to include('config.worker.conversation_class = "AssistantConversation"',
      'config.worker.message_class = "AssistantMessage"', 'config.worker.message_foreign_key = "assistant_conversation_id"')
    expect(read("app/models/assistant_conversation.rb")).to include("include AssistantChatNative::ProcessingLock")
    expect(read("app/models/assistant_message.rb")).to eq("class AssistantMessage < ApplicationRecord\nend\n")
  end

  context "when the app already has the worker file" do
    let(:seed_worker) do
      <<~RUBY
        class AssistantChatWorker
          include AssistantChat::Broadcaster
          include Sidekiq::Job
          include Sidekiq::Status::Worker

          def perform(conversation_id, user_message, model, tool_services = [], user_context = {}, upload_ids = [])
          end

          def system_prompt(user_context)
            "You help \#{user_context["name"]}."
          end

          private

          def process_query(user_message, model, tool_services, user_context, upload_ids)
          end

          def cleanup_attachment_tempfiles
          end

          def build_tool_definitions
          end
        end
      RUBY
    end

    it "leaves it as it is and prints the superclass to set and the methods the gem now provides" do
      write("app/workers/assistant_chat_worker.rb", seed_worker)
      output = generate
      expect(read("app/workers/assistant_chat_worker.rb")).to eq(seed_worker)
      expect(output).to include("app/workers/assistant_chat_worker.rb exists and was left as it is",
        "1. Change `class AssistantChatWorker` to `class AssistantChatWorker < AssistantChatNative::Worker`.",
        "2. Delete these methods: AssistantChatNative::Worker provides them: perform, process_query, cleanup_attachment_tempfiles.",
        "3. These override the gem's hooks (AssistantChatNative::Worker::Hooks); keep one only where the app's differs from the default: system_prompt.")
      expect(output).not_to include("build_tool_definitions")
    end

    it "says there is nothing to change when it already inherits from the gem's worker and overrides nothing" do
      write("app/workers/assistant_chat_worker.rb", "class AssistantChatWorker < AssistantChatNative::Worker\n  include Sidekiq::Job\nend\n")
      output = generate
      expect(output).to include("Nothing to change.")
      expect(output).not_to include("Change `")
    end
  end
end
