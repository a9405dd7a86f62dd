# frozen_string_literal: true

require "spec_helper"
require_relative "seed_app_helpers"

RSpec.describe "The seed's app when a turn fails", :worker_integration do
  include SeedAppHelpers

  # Runs a job that fails; returns the one call of the app's ErrorReporting.error.
  def fail_turn(model: "claude-sonnet")
    AssistantChatWorker.perform_async(conversation.id, "Show me sales by state", model, [], party_context)
    wait_for_release(timeout: 30)
    WorkerHarness.wait_until(message: "the app's error broadcast") { host_errors.any? }
    calls = ErrorReporting.calls
    expect(calls.size).to eq(1)
    expect(host_errors.size).to eq(1)
    expect(conversation.reload.failed_turns_count).to eq(1)
    expect(conversation.processing_by_id).to be_nil
    expect(messages.where(role: "assistant")).to be_empty
    calls.first
  end

  it "reports a rate limit to the app's ErrorReporting.error with the seed's exact arguments" do
    provider.enqueue(status: 429, headers: {"retry-after" => "120"},
      body: anthropic_error("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"))
    call = fail_turn

    error = call[:error]
    expect(error).to be_a(AssistantChatNative::ProviderError::RateLimited)
    expect(call.except(:error)).to eq(source: :background, user_id: party.id, custom_data: {
      worker: "AssistantChatWorker", conversation_id: conversation.id, model: "claude-sonnet", response_body: error.response_body
    })
    # The provider's own words, on the error as the seed's Faraday error carried them.
    expect(error.response_body).to include("per-minute rate limit")
    expect(error.response.body).to eq(error.response_body)
    expect(host_errors.first).to match(/rate|busy|limit/i)
  end

  it "tells the party once, through the app's broadcast_error, that an unknown model is not available" do
    call = fail_turn(model: "no-such-model")
    expect(host_errors).to eq(["The selected AI model (no-such-model) isn't available. Please choose a different model."])
    expect(call.except(:error)).to include(source: :background, user_id: party.id)
    expect(call[:custom_data]).to include(worker: "AssistantChatWorker", conversation_id: conversation.id, model: "no-such-model")
  end

  it "names the model the provider says it does not know, in one copy" do
    provider.enqueue(status: 404, body: anthropic_error("not_found_error", "model: claude-sonnet-9-9"))
    call = fail_turn
    expect(host_errors).to eq(["The selected AI model (claude-sonnet-9-9) isn't available. Please choose a different model."])
    expect(call[:error]).to be_a(AssistantChatNative::ProviderError::InvalidModel)
    expect(call[:custom_data][:response_body]).to include("model: claude-sonnet-9-9")
  end
end
