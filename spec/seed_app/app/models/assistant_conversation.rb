# frozen_string_literal: true

# The app's conversation, with the processing-lock methods the seed's worker calls,
# written the app's own way (no processing_job_id: the job id is not stored).
class AssistantConversation < ApplicationRecord
  belongs_to :party, optional: true
  # The chat itself; support notes on the conversation are not part of it.
  has_many :assistant_messages, -> { where(kind: "chat").order(:created_at) }, dependent: :destroy

  def processing_lock_key
    "assistant_conversation:#{id}:processing"
  end

  # Takes the column lock unless someone holds it; true when taken.
  def acquire_processing_lock!(sender, job_id:)
    now = Time.current
    taken = self.class.where(id: id, processing_by_id: nil).update_all(processing_by_id: sender.id, processing_since: now)
    return false unless taken == 1

    self.processing_by_id = sender.id
    self.processing_since = now
    clear_attribute_changes(%i[processing_by_id processing_since])
    true
  end

  def force_processing_lock!(sender, job_id:)
    update_columns(processing_by_id: sender.id, processing_since: Time.current)
  end

  def release_processing_lock!
    update_columns(processing_by_id: nil, processing_since: nil)
  end

  def track_error!
    self.class.where(id: id).update_all("failed_turns_count = failed_turns_count + 1")
  end

  # The stream the app's own broadcasts (AssistantChat::Broadcaster) go to.
  def chat_stream
    "assistant_chat:#{id}"
  end
end
