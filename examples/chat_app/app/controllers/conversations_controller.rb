class ConversationsController < ApplicationController
  def index
    @conversations = current_user.conversations.order(updated_at: :desc)
  end

  def create
    conversation = current_user.conversations.create!(title: "Chat #{current_user.conversations.count + 1}")
    redirect_to conversation
  end

  def show
    @conversation = find_own_conversation(params[:id])
    @messages = @conversation.messages.shown.order(:id)
    @streaming = @conversation.messages.streaming.order(:id).last

    respond_to do |format|
      format.html
      # The reply saved so far: what the page catches up to after missing a chunk.
      format.json { render json: {reply: @streaming&.content.to_s} }
    end
  end
end
