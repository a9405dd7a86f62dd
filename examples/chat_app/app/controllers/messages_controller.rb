class MessagesController < ApplicationController
  # The model registry key every turn asks for; LocalProvider plays it unless
  # ANTHROPIC_API_KEY is set without ANTHROPIC_BASE_URL.
  MODEL = ENV.fetch("CHAT_MODEL", "claude-sonnet")

  # Enqueues the turn and shows the user's message at once. The worker saves the
  # message (once per job), so this one is only rendered, not saved.
  def create
    @conversation = find_own_conversation(params[:conversation_id])
    content = params.dig(:message, :content).to_s.strip
    return head :unprocessable_entity if content.empty?

    AssistantChatWorker.perform_async(@conversation.id, content, MODEL, ["app_db"],
      {"user_id" => current_user.id, "name" => current_user.name})
    @message = Message.new(conversation: @conversation, role: "user", content: content)

    respond_to do |format|
      format.turbo_stream
      format.html { redirect_to @conversation }
    end
  end
end
