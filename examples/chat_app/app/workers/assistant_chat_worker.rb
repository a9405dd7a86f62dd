# frozen_string_literal: true

# One assistant chat turn per job: locks, streaming, tools and broadcasts come from
# AssistantChatNative::Worker. Override a hook below to fit the app; each has a
# working default (see AssistantChatNative::Worker::Hooks).
#
#   AssistantChatWorker.perform_async(conversation.id, "Show me sales by state", "claude-sonnet",
#     ["app_db"], {"user_id" => current_user.id, "name" => current_user.name})
class AssistantChatWorker < AssistantChatNative::Worker
  # A reply chunk goes out as a <span> that says where in the reply it starts
  # (data-offset, in UTF-16 code units as JavaScript counts), so the page's chat
  # controller can drop what a reloaded page already shows and catch up after a gap.
  # Everything else (the lock, status lines, errors, and the final reply through
  # app/views/messages/_message.html.erb) is the gem's default.
  def render_broadcast(payload)
    return super unless payload[:type] == :chunk

    action = payload[:offset].zero? ? "update" : "append"
    %(<turbo-stream action="#{action}" target="#{broadcaster.target}_reply"><template>) +
      %(<span data-chat-target="chunk" data-offset="#{payload[:offset]}">#{ERB::Util.html_escape(payload[:delta])}</span>) +
      %(</template></turbo-stream>)
  end
end
