# frozen_string_literal: true

require "json"
require "time"

RSpec.describe "AssistantChatNative.classify" do
  errors_dir = File.expand_path("../fixtures/errors", __dir__)
  manifest = JSON.parse(File.read(File.join(errors_dir, "cases.json")))

  def classify(**options)
    AssistantChatNative.classify(**options)
  end

  def rate_limited(headers)
    classify(provider: :anthropic, status: 429, body: "", headers: headers)
  end

  def anthropic_body(type, message)
    JSON.generate({type: "error", error: {type: type, message: message}})
  end

  describe "the providers' documented error bodies (spec/fixtures/errors/cases.json)" do
    it "has a case for every status the classifier knows" do
      statuses = manifest["cases"].map { |c| c["status"] }.uniq
      expect(statuses).to include(400, 401, 403, 404, 408, 409, 413, 429, 500, 502, 503, 504, 529, 200)
      kinds = manifest["cases"].map { |c| c.dig("expected", "kind") }.uniq
      expect(kinds).to include("rate_limited", "quota_exhausted", "overloaded", "server_error", "context_overflow",
        "request_too_large", "invalid_model", "authentication", "permission", "bad_request", "empty_bad_request",
        "timeout")
    end

    manifest["cases"].each do |c|
      it "classifies #{c["name"]}" do
        body = c.key?("file") ? File.binread(File.join(errors_dir, c["file"])) : c.fetch("body")
        failure = classify(provider: c["provider"].to_sym, status: c["status"], body: body,
          headers: c.fetch("headers", {}), mid_stream: c.fetch("mid_stream", false))
        expected = c["expected"]

        expect(failure).to be_a(AssistantChatNative::Failure)
        expect(failure.kind).to eq(expected["kind"].to_sym)
        expect(failure.action).to eq(expected["action"].to_sym)
        expect(failure.retryable?).to eq(expected["retryable"])
        if expected["retry_after"].nil?
          expect(failure.retry_after).to be_nil
        else
          expect(failure.retry_after).to be_within(1e-6).of(expected["retry_after"])
        end
        expect(failure.status).to eq(c["status"])
        expect(failure.message).to include(expected["message_includes"]) if expected["message_includes"]
        expect(failure.detail).to include(expected["detail_includes"]) if expected["detail_includes"]
        Array(expected["absent"]).each do |secret|
          expect(failure.message).not_to include(secret)
          expect(failure.detail.to_s).not_to include(secret)
          expect(failure.inspect).not_to include(secret)
        end
        expect(failure.message).to be_valid_encoding
        expect(failure.message).not_to be_empty
      end
    end
  end

  describe "a mid-stream error event, as the Decoder classifies it" do
    def error_event(provider, payload)
      (provider == "anthropic") ? "event: error\ndata: #{payload}\n\n" : "data: #{payload}\n\n"
    end

    manifest["cases"].select { |c| c["mid_stream"] }.each do |c|
      it "matches classify(mid_stream: true) for #{c["name"]}" do
        raw = c["file"] ? File.read(File.join(errors_dir, c["file"])) : c["body"]
        payload = JSON.generate(JSON.parse(raw))
        decoder = AssistantChatNative::Decoder.new(c["provider"].to_sym)
        decoder.feed(error_event(c["provider"], payload))
        from_decoder = decoder.finish.failure
        direct = classify(provider: c["provider"].to_sym, status: 200, body: payload, mid_stream: true)

        expect(from_decoder.to_h.slice(:kind, :action, :retryable, :message, :detail))
          .to eq(direct.to_h.slice(:kind, :action, :retryable, :message, :detail))
        expect(direct.kind).to eq(c.dig("expected", "kind").to_sym)
      end
    end
  end

  describe "user-facing copy" do
    it "says an invalid model is unavailable and names it" do
      failure = classify(provider: :anthropic, status: 404, body: anthropic_body("not_found_error", "model: claude-x-9"))

      expect(failure.kind).to eq(:invalid_model)
      expect(failure.message).to eq("The selected AI model (claude-x-9) isn't available. Please choose a different model.")
      expect(failure.detail).to eq("model: claude-x-9")
    end

    it "passes an unrecognised provider message as-is" do
      body = anthropic_body("invalid_request_error", "messages.3: tool_result block(s) provided when previous message does not have tool_use")
      failure = classify(provider: :anthropic, status: 400, body: body)

      expect(failure.kind).to eq(:bad_request)
      expect(failure.message).to eq("messages.3: tool_result block(s) provided when previous message does not have tool_use")
    end

    it "uses plain words for known kinds, never the provider's jargon" do
      failure = classify(provider: :anthropic, status: 529, body: anthropic_body("overloaded_error", "Overloaded"))

      expect(failure.message).to eq("The assistant's AI service is very busy right now. Please try again in a moment.")
      expect(failure.to_s).to eq(failure.message)
      expect(failure.detail).to eq("Overloaded")
    end
  end

  describe "bodies" do
    it "classifies a 400 with an empty body as empty_bad_request that escalates" do
      [nil, "", "  \r\n"].each do |body|
        failure = classify(provider: :gemini, status: 400, body: body)
        expect([failure.kind, failure.action, failure.retryable?]).to eq([:empty_bad_request, :escalate, false])
        expect(failure.detail).to eq("HTTP 400 with an empty body")
      end
    end

    it "defaults the body to empty" do
      expect(classify(provider: :gemini, status: 400).kind).to eq(:empty_bad_request)
    end

    it "reads a body that is not JSON as text, with the generic copy" do
      failure = classify(provider: :openai, status: 502, body: "<html><title>502 Bad Gateway</title></html>")

      expect(failure.kind).to eq(:server_error)
      expect(failure.message).to eq("The assistant's AI service ran into a problem. Please try again in a moment.")
      expect(failure.detail).to eq("HTTP 502: <html><title>502 Bad Gateway</title></html>")
    end

    it "reads the first error of a JSON array body" do
      body = JSON.generate([{error: {code: 429, message: "Resource has been exhausted (e.g. check quota).", status: "RESOURCE_EXHAUSTED"}}])
      failure = classify(provider: :gemini, status: 429, body: body)

      expect(failure.kind).to eq(:rate_limited)
      expect(failure.detail).to eq("Resource has been exhausted (e.g. check quota).")
    end

    it "bounds a huge body: classified by status, detail cut" do
      body = JSON.generate({error: {message: "x" * (3 * 1024 * 1024), type: "server_error"}})
      failure = classify(provider: :openai, status: 500, body: body)

      expect(failure.kind).to eq(:server_error)
      expect(failure.detail.bytesize).to be < 2048
    end

    it "turns binary garbage into valid UTF-8 text" do
      failure = classify(provider: :openai, status: 400, body: "\xFF\xFE\x00\x01bad\xC3".b)

      expect(failure.kind).to eq(:bad_request)
      expect(failure.detail).to be_valid_encoding
      expect(failure.detail.encoding).to eq(Encoding::UTF_8)
      expect(failure.detail).to include("bad")
    end

    it "recognises context overflow by its words as well as its code" do
      ["prompt is too long: 201000 tokens > 200000 maximum",
        "This model's maximum context length is 16385 tokens.",
        "Your input exceeds the context window of this model.",
        "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."].each do |message|
        failure = classify(provider: :openai, status: 400, body: JSON.generate({error: {message: message, type: "invalid_request_error"}}))
        expect([failure.kind, failure.action]).to eq([:context_overflow, :compact]), message
      end
    end

    it "reads a mid-stream error event's payload" do
      failure = classify(provider: :anthropic, status: 200, body: anthropic_body("overloaded_error", "Overloaded"), mid_stream: true)

      expect([failure.kind, failure.action, failure.retryable?, failure.status]).to eq([:overloaded, :retry, true, 200])
    end
  end

  describe "retry-after" do
    it "reads delay-seconds" do
      expect(rate_limited({"retry-after" => "30"}).retry_after).to eq(30)
    end

    it "reads an IMF-fixdate relative to now" do
      failure = rate_limited({"Retry-After" => (Time.now + 120).httpdate})

      expect(failure.retry_after).to be_between(118, 120)
    end

    it "reads the obsolete RFC 850 and asctime dates relative to now" do
      later = (Time.now + 60).utc
      rfc850 = later.strftime("%A, %d-%b-%y %H:%M:%S GMT")
      asctime = later.strftime("%a %b %e %H:%M:%S %Y")

      expect(rate_limited({"retry-after" => rfc850}).retry_after).to be_between(58, 60)
      expect(rate_limited({"retry-after" => asctime}).retry_after).to be_between(58, 60)
    end

    it "treats a date in the past as no wait" do
      expect(rate_limited({"retry-after" => "Sun, 06 Nov 1994 08:49:37 GMT"}).retry_after).to eq(0)
    end

    it "prefers retry-after-ms" do
      expect(rate_limited({"retry-after" => "9", "retry-after-ms" => "250"}).retry_after).to be_within(1e-9).of(0.25)
    end

    it "ignores invalid values" do
      ["soon", "-1", "", "1e3", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 CET"].each do |value|
        expect(rate_limited({"retry-after" => value}).retry_after).to be_nil, value.inspect
        expect(rate_limited({"retry-after-ms" => value}).retry_after).to be_nil, value.inspect
      end
      expect(rate_limited({"retry-after-ms" => "abc", "retry-after" => "4"}).retry_after).to eq(4)
    end

    it "reads a wait the message states when no header gives one" do
      body = JSON.generate({error: {message: "Rate limit reached for gpt-4o. Please try again in 1m30.5s.", type: "tokens", code: "rate_limit_exceeded"}})

      expect(classify(provider: :openai, status: 429, body: body).retry_after).to be_within(1e-9).of(90.5)
      expect(classify(provider: :openai, status: 429, body: body, headers: {"retry-after" => "3"}).retry_after).to eq(3)
    end

    it "is nil when the provider gave none" do
      expect(rate_limited({}).retry_after).to be_nil
    end

    it "accepts headers in any case, as pairs, with Symbol names or Integer values" do
      expect(rate_limited({"RETRY-AFTER" => "7"}).retry_after).to eq(7)
      expect(rate_limited([["Retry-After", "8"]]).retry_after).to eq(8)
      expect(rate_limited({"retry-after": 9}).retry_after).to eq(9)
      expect(rate_limited({"retry-after" => ["10"]}).retry_after).to eq(10)
    end

    it "rejects headers that are neither a Hash nor pairs" do
      expect { rate_limited("retry-after: 1") }.to raise_error(TypeError, /headers must be/)
      expect { rate_limited([["retry-after"]]) }.to raise_error(ArgumentError, /\[name, value\] pair/)
    end
  end

  describe "x-should-retry" do
    it "makes an otherwise final failure retryable when true" do
      failure = classify(provider: :openai, status: 409, body: "", headers: {"X-Should-Retry" => "true"})

      expect([failure.kind, failure.retryable?, failure.action]).to eq([:bad_request, true, :retry])
    end

    it "makes an otherwise retryable failure final when false" do
      failure = classify(provider: :anthropic, status: 500, body: anthropic_body("api_error", "Internal server error"),
        headers: {"x-should-retry" => "false"})

      expect([failure.kind, failure.retryable?, failure.action]).to eq([:server_error, false, :fail])
    end

    it "keeps compaction for a context overflow" do
      failure = classify(provider: :anthropic, status: 400, body: anthropic_body("invalid_request_error", "prompt is too long"),
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
        expect(failure.status).to be_nil
        expect(failure.retry_after).to be_nil
        expect(failure.detail).to be_a(String).and(satisfy { |detail| !detail.empty? })
      end
    end

    {
      6 => :connection_failed, # CURLE_COULDNT_RESOLVE_HOST
      7 => :connection_failed, # CURLE_COULDNT_CONNECT
      35 => :connection_failed, # CURLE_SSL_CONNECT_ERROR
      28 => :timeout, # CURLE_OPERATION_TIMEDOUT
      18 => :connection_lost, # CURLE_PARTIAL_FILE
      52 => :connection_lost, # CURLE_GOT_NOTHING
      55 => :connection_lost, # CURLE_SEND_ERROR
      56 => :connection_lost, # CURLE_RECV_ERROR
      42 => :cancelled # CURLE_ABORTED_BY_CALLBACK
    }.each do |code, kind|
      it "maps libcurl code #{code} to #{kind}, with libcurl's words in the detail" do
        failure = classify(provider: :openai, status: 0, transport_error: code)

        expect(failure.kind).to eq(kind)
        expect(failure.detail).to include("libcurl error #{code}")
      end
    end

    it "does not retry a TLS certificate failure" do
      failure = classify(provider: :openai, status: 0, transport_error: 60) # CURLE_PEER_FAILED_VERIFICATION

      expect([failure.kind, failure.retryable?, failure.action]).to eq([:connection_failed, false, :fail])
    end

    it "lets an HTTP error status win over a lost connection while its body was read" do
      failure = classify(provider: :anthropic, status: 429, body: "", transport_error: :lost)

      expect(failure.kind).to eq(:rate_limited)
    end

    # The binding's one mapping (binding.h): a name the gem does not know is a
    # ConfigurationError, as an unknown provider is; another type is a TypeError.
    it "rejects an unknown transport error as it rejects an unknown provider, and a String as the wrong type" do
      expect { classify(provider: :openai, status: 0, transport_error: :exploded) }
        .to raise_error(AssistantChatNative::ConfigurationError,
          /unknown transport_error :exploded: use nil, a libcurl code or :connect, .* or :cancelled\z/)
      expect { classify(provider: :openai, status: 0, transport_error: "timeout") }
        .to raise_error(TypeError, /transport_error must be nil, a libcurl code \(Integer\) or a Symbol, not String/)
    end
  end

  describe "streamed output" do
    it "says so in the detail and keeps the kind and action" do
      quiet = classify(provider: :anthropic, status: 200, transport_error: :stalled)
      streamed = classify(provider: :anthropic, status: 200, transport_error: :stalled, streamed: true)

      expect([streamed.kind, streamed.action, streamed.retryable?]).to eq([quiet.kind, quiet.action, quiet.retryable?])
      expect(quiet.detail).not_to include("already been streamed")
      expect(streamed.detail).to include("part of the reply had already been streamed")
    end
  end

  describe "secrets" do
    let(:anthropic_key) { "sk-ant-api03-" + "Zx9" * 30 }
    let(:google_key) { "AIzaSy" + "Q7w" * 11 }

    it "never shows API keys from the body in message, detail or inspect" do
      bodies = [
        JSON.generate({error: {message: "Incorrect API key provided: #{anthropic_key}.", type: "invalid_request_error", code: "invalid_api_key"}}),
        JSON.generate({error: {code: 403, message: "Permission denied: Consumer 'api_key:#{google_key}' has been suspended.", status: "PERMISSION_DENIED"}}),
        "Forbidden: GET https://example.test/v1beta/models/gemini:streamGenerateContent?key=#{google_key}&alt=sse",
        JSON.generate({error: {message: "bad request with Authorization: Bearer #{anthropic_key}", type: "invalid_request_error"}})
      ]
      bodies.each do |body|
        failure = classify(provider: :openai, status: 400, body: body)
        [failure.message, failure.detail.to_s, failure.inspect, failure.to_h.inspect].each do |text|
          expect(text).not_to include(anthropic_key)
          expect(text).not_to include(google_key)
          expect(text).not_to include("Zx9Zx9")
        end
      end
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
    it "requires provider and status" do
      expect { AssistantChatNative.classify(status: 400) }.to raise_error(ArgumentError, /provider/)
      expect { AssistantChatNative.classify(provider: :openai) }.to raise_error(ArgumentError, /status/)
    end

    it "rejects an unknown provider with a ConfigurationError" do
      expect { classify(provider: :mistral, status: 400) }
        .to raise_error(AssistantChatNative::ConfigurationError, /unknown provider :mistral/)
    end

    it "accepts the provider as a String" do
      expect(classify(provider: "gemini", status: 503).kind).to eq(:overloaded)
    end

    it "rejects an unknown keyword" do
      expect { classify(provider: :openai, status: 400, bogus: 1) }.to raise_error(ArgumentError, /bogus/)
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
    end
  end
end
