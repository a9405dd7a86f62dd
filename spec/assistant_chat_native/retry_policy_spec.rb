# frozen_string_literal: true

require "spec_helper"

RSpec.describe AssistantChatNative::RetryPolicy do
  def failure(retry_after: nil)
    AssistantChatNative::Failure.new(kind: :rate_limited, retryable: true, action: :retry, message: "Too many requests.",
      retry_after: retry_after, status: 429)
  end

  let(:policy) { described_class.new(max_attempts: 3, base_delay: 1.0, max_delay: 20.0, max_wait: 30, random: Random.new(1)) }

  it "doubles the backoff each attempt, jittered between half and all of it, capped" do
    expect(policy.delay(1, failure)).to be_between(0.5, 1.0)
    expect(policy.delay(2, failure)).to be_between(1.0, 2.0)
    expect(policy.delay(3, failure)).to be_between(2.0, 4.0)
    expect(policy.delay(10, failure)).to be_between(10.0, 20.0)
  end

  it "never waits less than the provider's retry-after" do
    expect(policy.delay(1, failure(retry_after: 7))).to eq(7.0)
  end

  it "gives up after max_attempts and on a retry-after longer than max_wait, saying when to retry" do
    expect(policy.exhausted?(2)).to be(false)
    expect(policy.exhausted?(3)).to be(true)
    expect(policy.wait_too_long?(failure(retry_after: 30))).to be(false)
    expect(policy.wait_too_long?(failure(retry_after: 31))).to be(true)
    copy = policy.wait_too_long_failure(failure(retry_after: 90), now: Time.utc(2026, 11, 28, 15, 0, 0))
    expect(copy).to have_attributes(kind: :rate_limited, action: :fail, retry_after: 90)
    expect(copy.message).to include("wait 90 seconds", "try again after 15:01 UTC")
  end

  it "keeps the classifier's copy when attempts run out, and puts the count in the detail" do
    given_up = policy.exhausted_failure(failure(retry_after: nil), 3)
    expect(given_up).to have_attributes(kind: :rate_limited, action: :fail, message: failure.message)
    expect(given_up.detail).to end_with("gave up after 3 attempts")
    expect(given_up.message).not_to include("attempts")
  end
end
