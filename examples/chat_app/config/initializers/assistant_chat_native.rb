# frozen_string_literal: true

# assistant_chat_native: streaming, rounds and the chat worker.
AssistantChatNative.configure do |config|
  # Models the app may ask for (registry key => provider, model id, tier). API keys
  # and base URLs come from ANTHROPIC_API_KEY / OPENAI_API_KEY / GEMINI_API_KEY and
  # *_BASE_URL unless given here.
  # Defaults: claude-sonnet (claude-sonnet-5-5), claude-haiku (claude-haiku-5-5), gpt (gpt-6.1-sol),
  # gpt-mini (gpt-6.1-terra), gemini-pro (gemini-3.1-pro-preview), gemini-flash (gemini-3.8-flash);
  # `bin/rails assistant_chat_native:models` lists them with each one's end of life. Thinking:
  # thinking: true plus effort: "low" | "medium" | "high"; a token budget only for models that take
  # one (Claude before 4.6, Gemini 2.5).
  # config.models.register("claude-opus", provider: :anthropic, model_id: "claude-opus-5-5", tier: :high,
  #   thinking: true, effort: "high")

  # Seconds between reply flushes from a stream (the reply's one throttle), between
  # heartbeats, and between cancellation checks.
  # config.broadcast_interval = 0.1
  # config.heartbeat_interval = 30
  # The Stop button: a cancel reaches the turn within this many seconds.
  config.cancel_poll_interval = 0.2

  # Model rounds one job streams before it schedules a continuation.
  config.max_rounds = 10

  # The worker: seconds one job runs before it schedules a continuation, the tool
  # status throttle, and the models it reads and writes.
  config.worker.job_deadline = 300
  # Seconds between tool status lines; unset, the worker class's STATUS_BROADCAST_INTERVAL.
  # config.worker.status_broadcast_interval = 1.0
  # The app's models, as the generator found them.
  config.worker.conversation_class = "Conversation"
  config.worker.sender_class = "User"
  config.worker.message_class = "Message"
  config.worker.message_foreign_key = "conversation_id"
  # The messages table's columns where they differ from the names the worker's
  # hooks use (role content job_id transcript status model continuation_state).
  # config.worker.message_columns = {"content" => "body"}

  # On SQLite the advisory lock is a file lock (with_advisory_lock): set FLOCK_DIR to
  # keep its files out of the app's root, e.g. ENV["FLOCK_DIR"] ||= Rails.root.join("tmp").to_s

  # Errors go to AppSignal or Sentry when loaded, else the log; or set your own:
  # config.worker.reporter = ->(error, user_id:, custom_data:) { Honeybadger.notify(error, context: custom_data.merge(user_id: user_id)) }

  # An error the gem does not recognise (a hook's exception, a provider's unclassified
  # words) is shown to the user as its message with keys, tokens and credentials
  # removed (:redacted), or as "Something went wrong while answering. Please try again."
  # (:generic). Logs and reports are redacted either way.
  # config.worker.error_messages = :generic

  # Tool services: the keys jobs are enqueued with, to the tools they give a turn.
  # MessagesController enqueues every turn with "app_db".
  config.worker.tool_services.register("app_db") do |_user_context, conversation|
    [
      AssistantChatNative::Tool.new(name: "conversation_stats",
        description: "Counts the user's conversations and the messages in them") do |_arguments|
        user = conversation.user
        {conversations: user.conversations.count, messages: Message.where(conversation: user.conversations).count}
      end,
      AssistantChatNative::Tool.new(name: "weather", description: "Today's weather in a city",
        input_schema: {type: "object", properties: {city: {type: "string"}}, required: ["city"]}) do |arguments|
        Weather.for(arguments["city"]) || {error: "no forecast for #{arguments["city"]}"}
      end
    ]
  end
  # What the tool status lines call them.
  config.worker.tool_display_names = {"conversation_stats" => "Counting your conversations",
                                      "weather" => "Looking up the weather"}
end
