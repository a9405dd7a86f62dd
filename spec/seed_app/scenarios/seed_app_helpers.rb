# frozen_string_literal: true

# What the seed app's scenarios share: a party, its conversation, and the app's
# own broadcasts (AssistantChat::Broadcaster's format, on the conversation's
# chat_stream).
module SeedAppHelpers
  LOCK_EVENT = "assistant_chat.lock_state"
  ERROR_EVENT = "assistant_chat.error"

  def self.included(group)
    group.let(:provider) { WorkerHarness.provider }
    group.let(:party) { Party.create!(name: "Dana") }
    group.let(:conversation) { AssistantConversation.create!(party: party, title: "Sales") }
    group.let!(:host_broadcasts) { WorkerHarness::BroadcastLog.new(conversation.chat_stream) }
    group.before { ErrorReporting.calls }
    group.after { host_broadcasts.close }
  end

  # The party's context, as the seed's app enqueues it.
  def party_context
    {"party_id" => party.id, "name" => "Dana"}
  end

  def host_events(event)
    host_broadcasts.events.select { |payload| payload["event"] == event }
  end

  def host_locks
    host_events(LOCK_EVENT).map { |payload| payload["locked"] }
  end

  def host_errors
    host_events(ERROR_EVENT).map { |payload| payload["message"] }
  end

  # Waits until the app's broadcaster said the lock was released count times.
  def wait_for_release(count: 1, timeout: 20)
    host_broadcasts.wait_for_end(count: count, timeout: timeout, key: "event", lock: LOCK_EVENT)
  end

  def messages
    conversation.assistant_messages.reload
  end

  def script_tool_then_reply(reply)
    provider.enqueue(tool_calls: [{name: "query_database", id: "toolu_1",
                                   arguments: {"sql" => "SELECT state, count(*) FROM sales GROUP BY state"}}])
    provider.enqueue(text: reply)
  end

  # [role, text] for each message of a request LocalProvider received.
  def request_texts(request)
    request.json["messages"].map do |message|
      content = message["content"]
      text = content.is_a?(String) ? content : content.select { |part| part["type"] == "text" }.map { |part| part["text"] }.join
      [message["role"], text]
    end
  end

  def anthropic_error(type, message)
    JSON.generate({"type" => "error", "error" => {"type" => type, "message" => message}})
  end
end
