# frozen_string_literal: true

require "spec_helper"
require "assistant_chat_native/provider_error"

RSpec.describe AssistantChatNative::ProviderError do
  def failure(kind, detail: "the provider's words", status: 400)
    AssistantChatNative::Failure.new(kind: kind, retryable: false, action: :fail, message: "Copy for #{kind}.",
      detail: detail, status: status)
  end

  it "has one class per failure kind, so error trackers group them apart" do
    classes = AssistantChatNative::Failure::KINDS.map { |kind| described_class.for_kind(kind) }
    expect(classes.uniq.size).to eq(AssistantChatNative::Failure::KINDS.size)
    expect(classes).to all(be < described_class)
    expect(described_class.for_kind(:rate_limited)).to eq(AssistantChatNative::ProviderError::RateLimited)
    expect(described_class.for_kind(:invalid_model)).to eq(AssistantChatNative::ProviderError::InvalidModel)
    expect(described_class.for_kind(:empty_bad_request)).to eq(AssistantChatNative::ProviderError::EmptyBadRequest)
  end

  it "carries the failure, the model and the provider's words as a response body" do
    error = described_class.from(failure(:overloaded, detail: "Overloaded", status: 529), model: "claude-sonnet")
    expect(error).to be_a(AssistantChatNative::ProviderError::Overloaded).and be_a(AssistantChatNative::Error)
    expect(error.kind).to eq(:overloaded)
    expect(error.model).to eq("claude-sonnet")
    expect(error.message).to eq("overloaded failure on claude-sonnet: Overloaded")
    expect(error.response_body).to eq("Overloaded")
    expect(error.response.body).to eq("Overloaded")
    expect(error.response.status).to eq(529)
  end

  it "has no response body when the provider said nothing, and names the copy instead" do
    error = described_class.from(failure(:empty_bad_request, detail: nil))
    expect(error.response_body).to be_nil
    expect(error.response.body).to be_nil
    expect(error.message).to eq("empty_bad_request failure: Copy for empty_bad_request.")
  end
end
