# frozen_string_literal: true

require "spec_helper"
require "assistant_chat_native/ruby_stream"

# What RubyStream classifies with when the C extension is not loaded: by status
# and transport error only, keeping the provider's own words.
RSpec.describe AssistantChatNative::RubyStream::FallbackClassifier do
  def classify(**input)
    described_class.classify(provider: :anthropic, status: 0, **input)
  end

  {429 => :rate_limited, 529 => :overloaded, 503 => :overloaded, 500 => :server_error, 401 => :authentication,
   403 => :permission, 404 => :invalid_model, 413 => :request_too_large}.each do |status, kind|
    it "classifies HTTP #{status} as #{kind}" do
      expect(classify(status: status, body: "{}").kind).to eq(kind)
    end
  end

  it "tells a 400 with a body from an empty one" do
    expect(classify(status: 400, body: '{"error":{"message":"bad"}}').kind).to eq(:bad_request)
    expect(classify(status: 400, body: "").kind).to eq(:empty_bad_request)
  end

  it "keeps the provider's message from Anthropic, OpenAI and Gemini error bodies, and from a JSON array" do
    anthropic = '{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too big"}}'
    gemini = '[{"error":{"code":400,"message":"Invalid JSON payload","status":"INVALID_ARGUMENT"}}]'

    expect(classify(status: 400, body: anthropic).detail).to eq("max_tokens: too big")
    expect(classify(status: 400, body: gemini).detail).to eq("Invalid JSON payload")
    expect(classify(status: 502, body: "<html>Bad gateway</html>").detail).to eq("<html>Bad gateway</html>")
  end

  it "reads retry-after in seconds, whatever the header's case" do
    expect(classify(status: 429, headers: {"Retry-After" => "12"}).retry_after).to eq(12.0)
    expect(classify(status: 429, headers: {}).retry_after).to be_nil
  end

  it "maps each transport error to its kind" do
    {connect: :connection_failed, timeout: :timeout, stalled: :stalled, lost: :connection_lost,
     incomplete: :connection_lost, malformed: :malformed_stream, too_large: :malformed_stream,
     cancelled: :cancelled}.each do |error, kind|
      expect(classify(transport_error: error).kind).to eq(kind)
    end
  end

  it "retries what may pass next time, and not a cancellation or a bad request" do
    expect(classify(status: 529).action).to eq(:retry)
    expect(classify(transport_error: :stalled)).to be_retryable
    expect(classify(transport_error: :cancelled)).not_to be_retryable
    expect(classify(status: 400, body: "x").action).to eq(:fail)
  end

  it "bounds the detail and keeps it valid UTF-8" do
    failure = classify(status: 400, body: "é" * 5000)

    expect(failure.detail.bytesize).to be <= 2048
    expect(failure.detail).to be_valid_encoding
  end
end
