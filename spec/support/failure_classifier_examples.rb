# frozen_string_literal: true

require "json"
require "time"

# What both classifiers must do, held to the same examples: the C one
# (AssistantChatNative.classify, spec/assistant_chat_native/classify_spec.rb) and
# RubyStream's plain-Ruby FallbackClassifier (its spec under ruby_stream/). A group
# includes them with its own `classify(**input)`, which takes provider: and status:
# as AssistantChatNative.classify does; what only one of the two does stays in its spec.
RSpec.shared_examples "a failure classifier" do
  errors_dir = File.expand_path("../fixtures/errors", __dir__)
  manifest = JSON.parse(File.read(File.join(errors_dir, "cases.json")))

  def rate_limited(headers)
    classify(provider: :openai, status: 429, body: "", headers: headers)
  end

  def openai_error(message, type: "invalid_request_error", code: nil)
    JSON.generate({error: {message: message, type: type, code: code}})
  end

  describe "the providers' documented error bodies (spec/fixtures/errors/cases.json)" do
    it "has a case for every status the classifier knows and every kind an HTTP error can have" do
      statuses = manifest["cases"].map { |c| c["status"] }.uniq
      expect(statuses).to include(400, 401, 403, 404, 408, 409, 413, 429, 500, 502, 503, 504, 529, 200)
      kinds = manifest["cases"].map { |c| c.dig("expected", "kind") }.uniq
      expect(kinds).to include("rate_limited", "quota_exhausted", "overloaded", "server_error", "context_overflow",
        "request_too_large", "invalid_model", "authentication", "permission", "bad_request", "empty_bad_request",
        "timeout", "refusal")
    end

    manifest["cases"].each do |c|
      it "classifies #{c["name"]}" do
        body = c.key?("file") ? File.binread(File.join(errors_dir, c["file"])) : c.fetch("body")
        failure = classify(provider: c["provider"].to_sym, status: c["status"], body: body,
          headers: c.fetch("headers", {}), mid_stream: c.fetch("mid_stream", false))
        expected = c["expected"]

        expect(failure).to be_a(AssistantChatNative::Failure)
        expect([failure.kind, failure.action, failure.retryable?, failure.status])
          .to eq([expected["kind"].to_sym, expected["action"].to_sym, expected["retryable"], c["status"]])
        if expected["retry_after"].nil?
          expect(failure.retry_after).to be_nil
        else
          expect(failure.retry_after).to be_within(1e-6).of(expected["retry_after"])
        end
        expect(failure.message).to include(expected["message_includes"]) if expected["message_includes"]
        expect(failure.detail).to include(expected["detail_includes"]) if expected["detail_includes"]
        Array(expected["absent"]).each do |secret|
          [failure.message, failure.detail.to_s, failure.inspect].each { |text| expect(text).not_to include(secret) }
        end
        expect(failure.message).to be_valid_encoding.and(satisfy { |message| !message.empty? })
      end
    end
  end

  describe "retry-after" do
    it "prefers retry-after-ms, then Retry-After in seconds" do
      expect(rate_limited({"retry-after" => "9", "retry-after-ms" => "250"}).retry_after).to be_within(1e-9).of(0.25)
      expect(rate_limited({"Retry-After" => "30"}).retry_after).to eq(30)
      expect(rate_limited({"retry-after-ms" => "abc", "retry-after" => "4"}).retry_after).to eq(4)
    end

    it "reads an IMF-fixdate relative to now" do
      expect(rate_limited({"Retry-After" => (Time.now + 120).httpdate}).retry_after).to be_between(118, 120)
    end

    it "reads the obsolete RFC 850 and asctime dates relative to now" do
      later = (Time.now + 60).utc

      expect(rate_limited({"retry-after" => later.strftime("%A, %d-%b-%y %H:%M:%S GMT")}).retry_after).to be_between(58, 60)
      expect(rate_limited({"retry-after" => later.strftime("%a %b %e %H:%M:%S %Y")}).retry_after).to be_between(58, 60)
    end

    it "treats a date in the past as no wait" do
      expect(rate_limited({"retry-after" => "Sun, 06 Nov 1994 08:49:37 GMT"}).retry_after).to eq(0)
    end

    it "ignores invalid values" do
      ["soon", "-1", "", "1e3", "1.", "1234567890123", "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 CET"].each do |value|
        expect(rate_limited({"retry-after" => value}).retry_after).to be_nil, value.inspect
        expect(rate_limited({"retry-after-ms" => value}).retry_after).to be_nil, value.inspect
      end
    end

    it "is nil when the provider gave none" do
      expect(rate_limited({}).retry_after).to be_nil
    end

    it "waits as long as Gemini's RetryInfo says" do
      body = JSON.generate({error: {code: 429, message: "Quota exceeded.", status: "RESOURCE_EXHAUSTED",
                                    details: [{"@type" => "type.googleapis.com/google.rpc.RetryInfo", "retryDelay" => "7.5s"}]}})

      expect(classify(provider: :gemini, status: 429, body: body).retry_after).to eq(7.5)
    end

    it "reads a wait the message states when no header gives one" do
      body = openai_error("Rate limit reached for gpt-4o. Please try again in 1m30.5s.", type: "tokens", code: "rate_limit_exceeded")

      expect(classify(provider: :openai, status: 429, body: body).retry_after).to be_within(1e-9).of(90.5)
      expect(classify(provider: :openai, status: 429, body: body, headers: {"retry-after" => "3"}).retry_after).to eq(3)
      expect(classify(provider: :openai, status: 429, body: openai_error("Please retry after 20 seconds.", type: "x")).retry_after)
        .to eq(20)
    end

    it "accepts headers in any case, as pairs, with Symbol names or Integer values" do
      expect(rate_limited({"RETRY-AFTER" => "7"}).retry_after).to eq(7)
      expect(rate_limited([["Retry-After", "8"]]).retry_after).to eq(8)
      expect(rate_limited({"retry-after": 9}).retry_after).to eq(9)
      expect(rate_limited({"retry-after" => ["10"]}).retry_after).to eq(10)
    end

    it "is read only for an error response, not for a 200 whose stream broke" do
      expect(classify(provider: :openai, status: 200, transport_error: :lost, headers: {"retry-after" => "5"}).retry_after)
        .to be_nil
    end
  end

  describe "x-should-retry" do
    it "makes an otherwise final failure retryable when true" do
      failure = classify(provider: :openai, status: 409, body: "", headers: {"X-Should-Retry" => "true"})

      expect([failure.kind, failure.retryable?, failure.action]).to eq([:bad_request, true, :retry])
    end

    it "makes an otherwise retryable failure final when false, whatever its case and spaces" do
      failure = classify(provider: :anthropic, status: 500, body: "", headers: {"x-should-retry" => " False "})

      expect([failure.kind, failure.retryable?, failure.action]).to eq([:server_error, false, :fail])
    end

    it "keeps compaction for a context overflow" do
      failure = classify(provider: :openai, status: 400, body: openai_error("prompt is too long"),
        headers: {"x-should-retry" => "false"})

      expect([failure.kind, failure.action]).to eq([:context_overflow, :compact])
    end

    it "never revives a cancelled request" do
      failure = classify(provider: :openai, status: 200, transport_error: :cancelled, headers: {"x-should-retry" => "true"})

      expect([failure.kind, failure.retryable?, failure.action]).to eq([:cancelled, false, :fail])
    end
  end

  describe "transport errors" do
    {
      connect: [:connection_failed, :retry, true],
      timeout: [:timeout, :retry, true],
      stalled: [:stalled, :retry, true],
      lost: [:connection_lost, :retry, true],
      incomplete: [:connection_lost, :retry, true],
      malformed: [:malformed_stream, :retry, true],
      too_large: [:malformed_stream, :fail, false],
      cancelled: [:cancelled, :fail, false]
    }.each do |symbol, (kind, action, retryable)|
      it "classifies :#{symbol} as #{kind}" do
        failure = classify(provider: :anthropic, status: nil, transport_error: symbol)

        expect([failure.kind, failure.action, failure.retryable?]).to eq([kind, action, retryable])
        expect([failure.status, failure.retry_after]).to eq([nil, nil])
        expect(failure.detail).to be_a(String).and(satisfy { |detail| !detail.empty? })
      end
    end

    it "lets an HTTP error status win over a lost connection while its body was read" do
      expect(classify(provider: :anthropic, status: 429, body: "", transport_error: :lost).kind).to eq(:rate_limited)
    end
  end

  describe "streamed output" do
    it "says so in the detail and keeps the kind and action" do
      quiet = classify(provider: :anthropic, status: 200, transport_error: :stalled)
      streamed = classify(provider: :anthropic, status: 200, transport_error: :stalled, streamed: true)

      expect([streamed.kind, streamed.action, streamed.retryable?]).to eq([quiet.kind, quiet.action, quiet.retryable?])
      expect(streamed.detail).to eq("#{quiet.detail} (part of the reply had already been streamed)")
    end
  end

  describe "secrets" do
    let(:anthropic_key) { "sk-ant-api03-" + "Zx9" * 30 }
    let(:google_key) { "AIzaSy" + "Q7w" * 11 }

    it "never shows API keys from the body in message, detail or inspect" do
      bodies = [
        openai_error("Incorrect API key provided: #{anthropic_key}.", code: "invalid_api_key"),
        JSON.generate({error: {code: 403, message: "Permission denied: Consumer 'api_key:#{google_key}' has been suspended.",
                               status: "PERMISSION_DENIED"}}),
        "Forbidden: GET https://example.test/v1beta/models/gemini:streamGenerateContent?key=#{google_key}&alt=sse",
        openai_error("bad request with Authorization: Bearer #{anthropic_key}"),
        openai_error("x-goog-api-key: #{google_key}. Bearer #{anthropic_key}")
      ]
      bodies.each do |body|
        failure = classify(provider: :openai, status: 400, body: body)
        [failure.message, failure.detail.to_s, failure.inspect, failure.to_h.inspect].each do |text|
          expect(text).not_to include("Zx9Zx9")
          expect(text).not_to include("Q7wQ7w")
        end
      end
    end

    it "keeps the label and marks what it took out" do
      failure = classify(provider: :openai, status: 400, body: openai_error("bad request with Authorization: Bearer #{anthropic_key}."))

      expect(failure.message).to eq("bad request with Authorization: Bearer [redacted].")
      expect(classify(provider: :openai, status: 400, body: openai_error("sk-short is fine")).message).to eq("sk-short is fine")
    end

    it "never copies request or response headers into the failure" do
      headers = {"x-api-key" => anthropic_key, "authorization" => "Bearer #{anthropic_key}", "x-goog-api-key" => google_key,
                 "retry-after" => anthropic_key}
      failure = classify(provider: :anthropic, status: 401, body: "", headers: headers)

      expect(failure.to_h.inspect).not_to include("Zx9")
      expect(failure.to_h.inspect).not_to include("Q7w")
      expect(failure.retry_after).to be_nil
    end
  end

  describe "arguments" do
    it "rejects headers that are neither a Hash nor pairs" do
      expect { rate_limited("retry-after: 1") }.to raise_error(TypeError, /headers must be/)
      expect { rate_limited([["retry-after"]]) }.to raise_error(ArgumentError, /\[name, value\] pair/)
    end

    it "rejects a status that is not an HTTP status" do
      expect { classify(provider: :openai, status: 1000) }.to raise_error(ArgumentError)
      expect { classify(provider: :openai, status: "400") }.to raise_error(TypeError)
    end

    it "returns a frozen Failure with frozen UTF-8 strings" do
      failure = classify(provider: :openai, status: 500, body: "{}")

      expect(failure).to be_frozen
      expect(failure.message).to be_frozen
      expect(failure.message.encoding).to eq(Encoding::UTF_8)
      expect(failure.detail.encoding).to eq(Encoding::UTF_8)
    end
  end
end
