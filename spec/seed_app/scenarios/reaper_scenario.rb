# frozen_string_literal: true

require "spec_helper"
require_relative "seed_app_helpers"

RSpec.describe "The seed's app when a turn's job died", :worker_integration do
  include SeedAppHelpers

  # What a killed process leaves: the app's column lock, stale (no job id column here).
  def leave_stale_lock
    AssistantConversation.where(id: conversation.id).update_all(processing_by_id: party.id, processing_since: Time.now - 3600)
  end

  it "lets the Reaper tell the party through the app's broadcast_error and clear the app's lock" do
    leave_stale_lock

    expect(AssistantChatNative::Reaper.new(worker: AssistantChatWorker).call).to eq(conversation.id => :failed)

    expect(host_errors).to eq([AssistantChatNative::Worker::ErrorCopy::INTERRUPTED])
    expect(host_locks).to eq([false])
    expect(conversation.reload.processing_by_id).to be_nil
  end

  it "has the Reaper skip a lock whose job holds the advisory lock" do
    leave_stale_lock
    holder = AdvisoryLockHolder.new(AssistantConversation, conversation.processing_lock_key)

    expect(AssistantChatNative::Reaper.new(worker: AssistantChatWorker).call).to eq(conversation.id => :live)
    expect(conversation.reload.processing_by_id).to eq(party.id)
    expect(host_errors).to be_empty
  ensure
    holder&.release
  end
end
