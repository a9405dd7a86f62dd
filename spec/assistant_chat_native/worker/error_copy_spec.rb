# frozen_string_literal: true

require "spec_helper"
require "assistant_chat_native/worker"

RSpec.describe AssistantChatNative::Worker::ErrorCopy do
  describe ".for_message" do
    it "reads an Anthropic invalid-model message (model: ...) as an unavailable model, naming it" do
      expect(described_class.for_message("model: claude-sonnet-9-9"))
        .to eq("The selected AI model (claude-sonnet-9-9) isn't available. Please choose a different model.")
    end

    it "reads an OpenAI model_not_found message as an unavailable model, naming it" do
      message = "The model `gpt-9` does not exist or you do not have access to it."
      expect(described_class.for_message(message)).to eq("The selected AI model (gpt-9) isn't available. Please choose a different model.")
    end

    it "reads the registry's unknown-model error as an unavailable model" do
      message = 'unknown model "no-such-model": known models are claude-haiku, claude-sonnet'
      expect(described_class.for_message(message)).to start_with("The selected AI model (no-such-model) isn't available.")
    end

    it "gives the taxonomy's copy of the kind a rate limit, overload, long context or timeout reads as" do
      taxonomy = AssistantChatNative::Taxonomy
      expect(described_class.for_message("Rate limit reached for requests")).to eq(taxonomy.copy(:rate_limited))
      expect(described_class.for_message("Overloaded")).to eq(taxonomy.copy(:overloaded))
      expect(described_class.for_message("prompt is too long: 215000 tokens > 200000 maximum"))
        .to eq(taxonomy.copy(:context_overflow))
      expect(described_class.for_message("Net::ReadTimeout with #<TCPSocket:(closed)>")).to eq(taxonomy.copy(:timeout))
    end

    it "passes an unrecognised message through as it is" do
      expect(described_class.for_message("Couldn't find Upload with 'id'=12")).to eq("Couldn't find Upload with 'id'=12")
      expect(described_class.for_message("Record 500 of 529 ignored")).to eq("Record 500 of 529 ignored")
    end

    it "gives a generic line for a blank message" do
      expect(described_class.for_message("  ")).to eq("Something went wrong while answering. Please try again.")
    end

    it "passes an unrecognised message through only after removing keys and credentials" do
      message = "PG::InsufficientPrivilege: ERROR: permission denied; SELECT * FROM secrets WHERE api_key = " \
        "'sk-ant-api03-planted-0123456789' -- via postgres://app:hunter2@db.internal:5432/app?sslpassword=hunter2"

      copy = described_class.for_message(message)

      expect(copy).to eq("PG::InsufficientPrivilege: ERROR: permission denied; SELECT * FROM secrets WHERE api_key = " \
        "'[redacted]' -- via postgres://[FILTERED]@db.internal:5432/app?[FILTERED]")
    end

    it "cuts an unrecognised message to the message bound" do
      copy = described_class.for_message("Couldn't save the reply: " + ("é" * 2_000))
      expect(copy.bytesize).to be <= AssistantChatNative::Redaction::MESSAGE_BYTES
      expect(copy).to start_with("Couldn't save the reply: ééé")
      expect(copy).to be_valid_encoding
    end

    it "shows generic copy for an unrecognised message when asked to, and still recognises known ones" do
      expect(described_class.for_message("Couldn't find Upload with 'id'=12", unknown: :generic))
        .to eq(described_class::GENERIC)
      expect(described_class.for_message("Rate limit reached for requests", unknown: :generic))
        .to eq(AssistantChatNative::Taxonomy.copy(:rate_limited))
    end
  end

  describe ".for_failure" do
    # The C classifier, or its Ruby twin where the extension is not loaded.
    def classify(**input)
      return AssistantChatNative.classify(**input) if AssistantChatNative.native?

      require "assistant_chat_native/ruby_stream"
      AssistantChatNative::RubyStream::FallbackClassifier.classify(**input)
    end

    let(:provider_words) do
      classify(provider: :openai, status: 400,
        body: JSON.generate(error: {message: "Unsupported parameter 'foo' for key sk-proj-planted0123456789", type: "invalid_request_error"}))
    end

    it "shows an unrecognised bad request's words as the classifier cleaned them" do
      expect(provider_words.kind).to eq(:bad_request)
      expect(described_class.for_failure(provider_words)).to eq("Unsupported parameter 'foo' for key [redacted]")
    end

    it "shows the kind's plain copy instead of the provider's words when generic copy is asked for" do
      expect(described_class.for_failure(provider_words, unknown: :generic))
        .to eq("The assistant couldn't process this request. Please rephrase your message and try again.")
    end

    it "keeps the classifier's copy of a recognised kind in either mode" do
      overloaded = classify(provider: :anthropic, status: 529, body: "")
      expect(described_class.for_failure(overloaded)).to eq(overloaded.message)
      expect(described_class.for_failure(overloaded, unknown: :generic)).to eq(overloaded.message)
    end
  end
end
