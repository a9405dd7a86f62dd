# A conversation's Turbo stream for its owner only. Turbo::StreamsChannel already
# refuses a stream name that is not signed by this app; this also refuses a signed
# name (copied from another user's page, say) whose conversation is not the
# subscriber's.
class ConversationStreamsChannel < Turbo::StreamsChannel
  def subscribed
    stream_name = verified_stream_name_from_params
    if stream_name && owner?(stream_name)
      stream_from stream_name
    else
      reject
    end
  end

  private

  def owner?(stream_name)
    conversation = GlobalID::Locator.locate(stream_name, only: Conversation)
    !conversation.nil? && conversation.user_id == current_user.id
  rescue ActiveRecord::RecordNotFound
    false
  end
end
