# frozen_string_literal: true

require "spec_helper"
require "json"
require "assistant_chat_native/ruby_stream"

# The failure taxonomy is written once, in core/failure_kinds.def. These examples hold
# every reader to that one file: the C core's tables (through the extension), the
# file read in plain Ruby, the fallback classifier, Failure and the worker's copy.
RSpec.describe AssistantChatNative::Taxonomy do
  let(:file_rows) { described_class::DefFile.read(described_class::DEF_FILE) }
  let(:fallback) { AssistantChatNative::RubyStream::FallbackClassifier }

  it "has, for every kind in the file, a known action, copy, and retryability that agrees with the action" do
    expect(file_rows[:kinds]).not_to be_empty
    file_rows[:kinds].each do |name, action, retryable, copy|
      expect(AssistantChatNative::Failure::ACTIONS).to include(action), "#{name}: action #{action.inspect}"
      expect(copy).to match(/\A[A-Z].*[.!?]\z/), "#{name}: copy #{copy.inspect}"
      expect(retryable).to eq(action == :retry), "#{name}: retryable #{retryable.inspect} with action #{action}"
    end
  end

  # Failure, the fallback classifier and the worker read these, and keep no copies.
  it "gives the file's kinds, phrases and transport errors, row for row" do
    expect(AssistantChatNative::Failure::KINDS).to eq(file_rows[:kinds].map(&:first))
    expect(described_class::KINDS.transform_values(&:to_a)).to eq(file_rows[:kinds].to_h { |row| [row.first, row] })
    expect(described_class.phrases(:permission))
      .to eq(file_rows[:phrases].filter_map { |kind, phrase| phrase if kind == :permission })
    expect(described_class::TRANSPORTS).to eq(file_rows[:transports].to_h { |error, *rest| [error, rest] })
  end

  context "with the extension loaded", if: AssistantChatNative.native? do
    it "takes its rows from the C core, and they are the file's rows" do
      expect(described_class::SOURCE).to eq(:extension)
      expect(described_class.native_rows).to eq(file_rows)
    end
  end

  context "without the extension", unless: AssistantChatNative.native? do
    it "reads the file" do
      expect(described_class::SOURCE).to eq(:file)
      expect(described_class::ROWS).to eq(file_rows)
    end
  end

  # A message made of one phrase, as the provider would send it with a generic code.
  def body_saying(kind, phrase)
    words = (kind == :invalid_model) ? "The model gpt-x-1: #{phrase}" : "Request refused: #{phrase}."
    JSON.generate(error: {message: words, type: "invalid_request_error"})
  end

  def classifications(body)
    input = {provider: :openai, status: 400, body: body}
    both = {fallback: fallback.classify(**input)}
    both[:c] = AssistantChatNative.classify(**input) if AssistantChatNative.native?
    both
  end

  it "classifies a message holding any one phrase as the kind its row names, on both sides" do
    expect(file_rows[:phrases].map(&:first).uniq.size).to be >= 6
    file_rows[:phrases].each do |kind, phrase|
      classifications(body_saying(kind, phrase)).each do |side, failure|
        expect(failure.kind).to eq(kind), "#{side} read #{phrase.inspect} as #{failure.kind}, its row says #{kind}"
        expect(failure.action).to eq(described_class.kind(kind).action) unless kind == :invalid_model
      end
    end
  end

  it "gives each kind's copy from its row, on both sides" do
    statuses = {rate_limited: 429, overloaded: 529, server_error: 500, authentication: 401, permission: 403, timeout: 504}
    statuses.each do |kind, status|
      input = {provider: :anthropic, status: status, body: ""}
      sides = {fallback: fallback.classify(**input)}
      sides[:c] = AssistantChatNative.classify(**input) if AssistantChatNative.native?
      sides.each do |side, failure|
        expect([failure.kind, failure.message]).to eq([kind, described_class.copy(kind)]), "#{side}: #{failure.inspect}"
      end
    end
  end

  it "names the model with the copy row for that case, on both sides" do
    body = JSON.generate(error: {message: "The model `gpt-9-turbo` does not exist", code: "model_not_found"})
    classifications(body).each do |side, failure|
      expect(failure.message).to eq(described_class.case_copy(:invalid_model_named, "gpt-9-turbo")), side.to_s
    end
  end

  it "gives each transport error the kind and detail words its row names, on both sides" do
    expect(file_rows[:transports].size).to be >= 8
    file_rows[:transports].each do |error, kind, what|
      input = {provider: :openai, status: 0, transport_error: error}
      sides = {fallback: fallback.classify(**input)}
      sides[:c] = AssistantChatNative.classify(**input) if AssistantChatNative.native?
      sides.each do |side, failure|
        expect([failure.kind, failure.detail]).to eq([kind, what]), "#{side} gave #{failure.inspect} for #{error}"
      end
    end
  end

  it "says stopped, not cancelled, for a cancelled reply wherever it is built" do
    expect(fallback.classify(provider: :openai, status: 0, transport_error: :cancelled).message)
      .to eq(described_class.copy(:cancelled))
    expect(AssistantChatNative::Failure.of(:cancelled).message).to eq("The reply was stopped.")
  end

  # The detail of a refusal that came with no text is written by the stream's reader (the
  # core's accumulator, RubyStream's), not the classifier: both take its words from the row.
  it "writes a refusal without text's detail from its row, with the stop reason, on both sides" do
    bytes = ["data: #{JSON.generate(choices: [{index: 0, delta: {role: "assistant"}, finish_reason: nil}])}\n\n",
      "data: #{JSON.generate(choices: [{index: 0, delta: {}, finish_reason: "content_filter"}])}\n\n", "data: [DONE]\n\n"]
    sides = {ruby_stream: RubyStreamReading.decode(:openai, bytes).failure}
    if AssistantChatNative.native?
      decoder = AssistantChatNative::Decoder.new(:openai)
      bytes.each { |chunk| decoder.feed(chunk) }
      sides[:c] = decoder.finish.failure
    end
    sides.each do |side, failure|
      expect([failure&.kind, failure&.detail])
        .to eq([:refusal, described_class.case_copy(:refusal_without_text, "content_filter")]), "#{side}: #{failure.inspect}"
    end
  end

  describe ".case_copy" do
    it "fills each %s with a value, and treats a % in a value as text" do
      expect(described_class.case_copy(:wait_too_long, 90, "15:02 UTC"))
        .to eq("The AI provider is busy and asked us to wait 90 seconds. Please try again after 15:02 UTC.")
      expect(described_class.case_copy(:invalid_model_named, "m-%s-%d")).to include("(m-%s-%d)")
    end

    it "refuses the wrong number of values" do
      expect { described_class.case_copy(:wait_too_long, 90) }.to raise_error(ArgumentError, /takes 2 values/)
    end
  end
end
