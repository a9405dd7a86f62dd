class CancellationsController < ApplicationController
  # The Stop button: the worker's cancelled? hook reads cancel_requested_at every
  # cancel_poll_interval and ends the turn, keeping what it streamed so far.
  def create
    conversation = find_own_conversation(params[:conversation_id])
    conversation.update!(cancel_requested_at: Time.current)

    respond_to do |format|
      format.turbo_stream { head :no_content }
      format.html { redirect_to conversation }
    end
  end
end
