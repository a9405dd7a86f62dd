# frozen_string_literal: true

require "spec_helper"
require "logger"
require "stringio"
require "assistant_chat_native/worker"

RSpec.describe AssistantChatNative::Worker::Reporter do
  it "logs the error with the seed's tag and custom data when neither AppSignal nor Sentry is loaded" do
    expect([defined?(Appsignal), defined?(Sentry)].compact).to be_empty

    io = StringIO.new
    reporter = described_class.new(logger: Logger.new(io))
    error = AssistantChatNative::Error.new("overloaded failure on claude-sonnet: Overloaded")
    reporter.call(error, user_id: 42, custom_data: {worker: "AssistantChatWorker", conversation_id: 7,
                                                    model: "claude-sonnet", response_body: "Overloaded"})
    expect(io.string).to include("ERROR", "[AssistantChatWorker] AssistantChatNative::Error: overloaded failure on claude-sonnet: Overloaded",
      "conversation_id=7 model=claude-sonnet user_id=42", "response_body=Overloaded")
  end

  it "leaves the response body out of the line when there is none" do
    io = StringIO.new
    described_class.new(logger: Logger.new(io)).call(RuntimeError.new("boom"), user_id: nil,
      custom_data: {worker: "AssistantChatWorker", conversation_id: 1, model: "gpt", response_body: nil})
    expect(io.string).to include("RuntimeError: boom", "user_id=nil")
    expect(io.string).not_to include("response_body")
  end

  it "logs the message and the response body redacted, whoever calls it" do
    io = StringIO.new
    described_class.new(logger: Logger.new(io)).call(IOError.new("cannot open /srv/.env: OPENAI_API_KEY=sk-proj-planted0123456789"),
      user_id: 3, custom_data: {worker: "AssistantChatWorker", conversation_id: 1, model: "gpt",
                                response_body: "Incorrect API key provided: sk-proj-planted0123456789."})
    expect(io.string).to include("IOError: cannot open /srv/.env: OPENAI_API_KEY=[redacted]",
      "response_body=Incorrect API key provided: [redacted].")
    expect(io.string).not_to include("planted")
  end
end

RSpec.describe AssistantChatNative::Worker::Reporter, "in an app with its own ErrorReporting" do
  let(:calls) { [] }

  before do
    received = calls
    stub_const("ErrorReporting", Module.new {
      define_singleton_method(:error) { |error, **options| received << [error, options] }
    })
  end

  it "calls ErrorReporting.error with the seed's arguments, and nothing else" do
    io = StringIO.new
    failure = AssistantChatNative::Failure.new(kind: :rate_limited, retryable: true, action: :retry,
      message: "Too many requests.", detail: "Number of request tokens has exceeded your rate limit", status: 429)
    error = AssistantChatNative::ProviderError.from(failure, model: "claude-sonnet")
    custom_data = {worker: "AssistantChatWorker", conversation_id: 7, model: "claude-sonnet",
                   response_body: failure.detail}
    described_class.new(logger: Logger.new(io)).call(error, user_id: 42, custom_data: custom_data)

    expect(calls.size).to eq(1)
    reported, options = calls.first
    expect(reported).to be_a(AssistantChatNative::ProviderError::RateLimited)
    expect(reported.response_body).to eq("Number of request tokens has exceeded your rate limit")
    expect(options).to eq(source: :background, user_id: 42, custom_data: custom_data)
    expect(io.string).to be_empty
  end
end
