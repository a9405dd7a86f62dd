# frozen_string_literal: true

require "spec_helper"
require "assistant_chat_native/worker"

RSpec.describe AssistantChatNative::Worker::ErrorCopy do
  describe ".for_message" do
    it "reads an Anthropic invalid-model message (model: ...) as an unavailable model, naming it" do
      expect(described_class.for_message("model: claude-sonnet-9-9"))
        .to eq("The selected model (claude-sonnet-9-9) is not available. Please choose another model and try again.")
    end

    it "reads an OpenAI model_not_found message as an unavailable model, naming it" do
      message = "The model `gpt-9` does not exist or you do not have access to it."
      expect(described_class.for_message(message)).to eq("The selected model (gpt-9) is not available. Please choose another model and try again.")
    end

    it "reads the registry's unknown-model error as an unavailable model" do
      message = 'unknown model "no-such-model": known models are claude-haiku, claude-sonnet'
      expect(described_class.for_message(message)).to start_with("The selected model (no-such-model) is not available.")
    end

    it "gives friendly copy for rate limits, overload, long contexts and timeouts" do
      expect(described_class.for_message("Rate limit reached for requests")).to match(/too many requests/)
      expect(described_class.for_message("Overloaded")).to match(/overloaded/)
      expect(described_class.for_message("prompt is too long: 215000 tokens > 200000 maximum")).to match(/new conversation/)
      expect(described_class.for_message("Net::ReadTimeout with #<TCPSocket:(closed)>")).to match(/took too long/)
    end

    it "passes an unrecognised message through as it is" do
      expect(described_class.for_message("Couldn't find Upload with 'id'=12")).to eq("Couldn't find Upload with 'id'=12")
      expect(described_class.for_message("Record 500 of 529 ignored")).to eq("Record 500 of 529 ignored")
    end

    it "gives a generic line for a blank message" do
      expect(described_class.for_message("  ")).to eq("Something went wrong while answering. Please try again.")
    end
  end
end
