# frozen_string_literal: true

# Runs one turn through Sidekiq in this app with turbo-rails loaded, and prints
# every broadcast the stream received as JSON (one line, prefixed TURBO_BROADCASTS).
# It listens where `<%= turbo_stream_from conversation %>` does: the stream name
# Turbo::StreamsChannel verifies from the signed name the helper renders. With
# ACN_MESSAGE_PARTIAL=1 the app has a messages/_message partial for the final reply;
# with ACN_TOOL_FIRST=1 the model calls a tool before it answers.
# Used by spec/integration/worker_turbo_spec.rb; needs ACN_REDIS_URL.
require "json"
require "timeout"
require "tmpdir"
require "action_controller/railtie"
require_relative "../../support/rails_app"

ENV["ACN_TURBO"] = "1"
dir = Dir.mktmpdir("acn-turbo-")
ENV["FLOCK_DIR"] = dir # with_advisory_lock's file locks on SQLite, out of the checkout
begin
  SpecRailsApp.boot!(database_url: "sqlite3:#{File.join(dir, "turbo.sqlite3")}")
  provider = AssistantChatNative::LocalProvider.start(log: nil)
  AssistantChatNative.configure do |config|
    config.models.register("claude-sonnet", provider: :anthropic, model_id: "claude-sonnet-5-5", tier: :high,
      base_url: provider.base_url_for(:anthropic), api_key: "local-provider")
    config.logger = Logger.new(File::NULL)
  end
  if ENV["ACN_MESSAGE_PARTIAL"] == "1"
    views = File.join(dir, "views")
    FileUtils.mkdir_p(File.join(views, "messages"))
    File.write(File.join(views, "messages", "_message.html.erb"),
      %(<div id="<%= dom_id(message) %>" class="message"><%= message.content %></div>))
    Object.const_set(:ApplicationController, Class.new(ActionController::Base) { prepend_view_path(views) })
  end
  # ACN_TOOL_FIRST=1: a round that calls a tool (its status line) before the reply.
  provider.enqueue(tool_calls: [{name: "query_database", arguments: {"sql" => "SELECT 1"}}]) if ENV["ACN_TOOL_FIRST"] == "1"
  provider.enqueue(text: "Sales <b>rose</b> & fell, then rose again by a third in the spring.", token_rate: 50)
  conversation = Conversation.create!
  stream = Turbo::StreamsChannel.verified_stream_name(Turbo::StreamsChannel.signed_stream_name(conversation))
  received = Queue.new
  done = Queue.new
  ready = Queue.new
  # Action Cable carries each broadcast JSON-encoded; Turbo's is a String of HTML.
  ActionCable.server.pubsub.subscribe(stream, lambda { |raw|
    message = JSON.parse(raw)
    received << message
    done << true if message.include?("_lock") && message.include?("<template></template>")
  }, -> { ready << true })
  ready.pop
  sidekiq = Sidekiq.configure_embed do |config|
    config.redis = {url: ENV.fetch("ACN_REDIS_URL")}
    config.concurrency = 1
    config.logger = Sidekiq::Logger.new(File::NULL)
  end
  sidekiq.run
  AssistantChatWorker.perform_async(conversation.id, "How did sales go?", "claude-sonnet")
  Timeout.timeout(30) { done.pop }
  sidekiq.stop
  provider.stop
  messages = []
  messages << received.pop until received.empty?
  message = Message.where(role: "assistant").last
  puts "TURBO_BROADCASTS #{JSON.generate("stream" => stream, "target" => "conversation_#{conversation.id}",
    "message_id" => message&.id, "turbo" => defined?(Turbo::StreamsChannel) ? true : false, "messages" => messages)}"
ensure
  FileUtils.rm_rf(dir)
end
