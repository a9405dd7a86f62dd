# frozen_string_literal: true

require "spec_helper"

RSpec.describe AssistantChatNative::Taxonomy::DefFile do
  def rows(text)
    described_class.new(text, path: "test.def").rows
  end

  let(:kind) { %(ACN_FAILURE_KIND(TIMEOUT, timeout, RETRY, 1, "Too slow. Please try again.")\n) }

  it "reads kinds, case copy and phrases, joining adjacent literals and their escapes" do
    text = <<~DEF
      /* a comment
         over lines */
      #ifndef ACN_FAILURE_KIND
      #define ACN_FAILURE_KIND(NAME, name, ACTION, retryable, copy)
      #endif
      ACN_FAILURE_KIND(TIMEOUT, timeout, RETRY, 1,
                       "Too slow. "
                       "Say \\"again\\".")
      ACN_FAILURE_COPY(SLOW_NAMED, slow_named, "Too slow (%s).")
      ACN_FAILURE_PHRASE(TIMEOUT, "deadline exceeded")
      ACN_FAILURE_TRANSPORT(TIMEOUT, TIMEOUT, "the request timed out")
      #undef ACN_FAILURE_KIND
    DEF

    expect(rows(text)).to eq(
      kinds: [[:timeout, :retry, true, 'Too slow. Say "again".']],
      copies: [[:slow_named, "Too slow (%s)."]],
      phrases: [[:timeout, "deadline exceeded"]],
      transports: [[:timeout, :timeout, "the request timed out"]]
    )
  end

  it "reads the gem's own file" do
    rows = described_class.read(AssistantChatNative::Taxonomy::DEF_FILE)
    expect(rows[:kinds].map(&:first)).to include(:rate_limited, :context_overflow, :cancelled)
    expect(rows[:phrases]).to include([:context_overflow, "prompt is too long"])
  end

  {
    "an unknown macro" => %(ACN_FAILURE_KINDS(X, x, FAIL, 0, "X.")\n),
    "an unknown action" => %(ACN_FAILURE_KIND(X, x, PANIC, 0, "X.")\n),
    "names that disagree" => %(ACN_FAILURE_KIND(X, y, FAIL, 0, "X.")\n),
    "a retryability other than 0 or 1" => %(ACN_FAILURE_KIND(X, x, FAIL, 2, "X.")\n),
    "an empty copy" => %(ACN_FAILURE_KIND(X, x, FAIL, 0, "")\n),
    "an escape the reader does not know" => %(ACN_FAILURE_KIND(X, x, FAIL, 0, "X.\\n")\n),
    "a missing argument" => %(ACN_FAILURE_KIND(X, x, FAIL, "X.")\n),
    "a row that does not end" => "ACN_FAILURE_KIND(X, x, FAIL, 0,\n \"X.\"\n",
    "other preprocessor lines" => %(#include "other.def"\n),
    "a line comment" => %(// ACN_FAILURE_KIND(X, x, FAIL, 0, "X.")\n),
    "a repeated kind" => %(ACN_FAILURE_KIND(X, x, FAIL, 0, "X.")\nACN_FAILURE_KIND(X, x, FAIL, 0, "X.")\n),
    "a phrase for a kind no row declares" => %(ACN_FAILURE_PHRASE(TIMEOUT, "slow")\n),
    "a transport error whose kind no row declares" => %(ACN_FAILURE_TRANSPORT(LOST, CONNECTION_LOST, "lost")\n),
    "a phrase that is not lowercase" => %(ACN_FAILURE_KIND(X, x, FAIL, 0, "X.")\nACN_FAILURE_PHRASE(X, "Slow")\n)
  }.each do |what, text|
    it "refuses #{what}, naming the line" do
      expect { rows(text) }.to raise_error(described_class::Error, /\Atest\.def(:\d+)?: /)
    end
  end

  it "reads a single well-formed kind row" do
    expect(rows(kind)[:kinds]).to eq([[:timeout, :retry, true, "Too slow. Please try again."]])
  end
end
