# frozen_string_literal: true

module AssistantChatNative
  # How long to wait before trying a round again, and when to stop trying: exponential
  # backoff with jitter, never shorter than the provider's retry-after, and no wait at all
  # when the provider asks for more than max_wait (the user is better told when to retry).
  class RetryPolicy
    attr_reader :max_attempts, :base_delay, :max_delay, :max_wait

    def initialize(max_attempts:, base_delay:, max_delay:, max_wait:, random: Random.new)
      @max_attempts = max_attempts
      @base_delay = base_delay.to_f
      @max_delay = max_delay.to_f
      @max_wait = max_wait.to_f
      @random = random
    end

    # attempts: how many attempts of this round have run (1 after the first failed).
    def exhausted?(attempts)
      attempts >= max_attempts
    end

    # Seconds to wait after the attempts-th failed attempt: base * 2^(attempts-1), capped,
    # with "equal jitter" (between half and all of it), raised to retry_after when given.
    def delay(attempts, failure)
      backoff = [base_delay * (2**(attempts - 1)), max_delay].min
      jittered = backoff / 2 + @random.rand * backoff / 2
      failure.retry_after ? [failure.retry_after.to_f, jittered].max : jittered
    end

    def wait_too_long?(failure)
      !failure.retry_after.nil? && failure.retry_after.to_f > max_wait
    end

    # The failure to report when the provider asks for a longer wait than we hold a job for:
    # still the kind it was, with its retryability, but nothing more to do in this job.
    def wait_too_long_failure(failure, now: Time.now)
      seconds = failure.retry_after.to_f.ceil
      at = (now + seconds).utc.strftime("%H:%M UTC")
      Failure.new(kind: failure.kind, retryable: failure.retryable?, action: :fail, status: failure.status,
        retry_after: failure.retry_after, detail: failure.detail,
        message: Taxonomy.case_copy(:wait_too_long, seconds, at))
    end

    # The classifier's copy already tells the user to try again; how often we tried
    # belongs in the detail, for the report.
    def exhausted_failure(failure, attempts)
      return failure if failure.action == :fail

      detail = [failure.detail, "gave up after #{attempts} attempts"].compact.reject(&:empty?).join("; ")
      Failure.new(kind: failure.kind, retryable: failure.retryable?, action: :fail, status: failure.status,
        retry_after: failure.retry_after, detail: detail, message: failure.message)
    end
  end
end
