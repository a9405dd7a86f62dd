# frozen_string_literal: true

# Loaded by `sidekiq -r` in a worker process of its own (WorkerProcess spawns it):
# boots the spec app copy the parent process installed (ACN_APP_ROOT) against the
# parent's PostgreSQL and Redis, points the models at the parent's LocalProvider,
# and registers a tool that records each of its runs in the tool_runs table, so
# runs are counted across processes.
#
# Each broadcast is also published on Redis pubsub (BroadcastRelay), where the
# parent listens as a page would.
require_relative "../../support/broadcast_relay"
require_relative "../../support/quick_settings"

ENV["RAILS_ENV"] = "test"
require File.join(ENV.fetch("ACN_APP_ROOT"), "config", "environment")

BroadcastRelay.install(ENV.fetch("ACN_REDIS_URL"))

Sidekiq.configure_server do |config|
  config.redis = {url: ENV.fetch("ACN_REDIS_URL")}
  Sidekiq::Status.configure_server_middleware(config, expiration: 600)
  Sidekiq::Status.configure_client_middleware(config, expiration: 600)
end

tool_sleep = Float(ENV.fetch("ACN_TOOL_SLEEP", "0"))
AssistantChatNative.configure do |config|
  QuickSettings.apply(config, base_url: ->(provider) { ENV.fetch("ACN_PROVIDER_#{provider.to_s.upcase}") },
    api_key: ENV.fetch("ACN_API_KEY"))
  config.worker.tool_services.register("app_db") do |_user_context, conversation|
    [AssistantChatNative::Tool.new(name: "query_database", description: "Runs a SQL query",
      input_schema: {type: "object", properties: {sql: {type: "string"}}, required: ["sql"]},
      idempotent: false) do |arguments, tool_call_id:|
      ActiveRecord::Base.connection.exec_insert(
        "INSERT INTO tool_runs (conversation_id, tool_call_id, pid) VALUES ($1, $2, $3)", "tool run",
        [conversation.id, tool_call_id, Process.pid]
      )
      sleep tool_sleep
      {"rows" => [["CA", 120]], "sql" => arguments["sql"]}
    end]
  end
end
$stdout.puts "WORKER_PROCESS_READY #{Process.pid}"
