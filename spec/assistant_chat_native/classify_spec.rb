# frozen_string_literal: true

require "json"
require "time"

# The C classifier. What RubyStream's FallbackClassifier must do as well is in the shared
# examples (spec/support/failure_classifier_examples.rb); below is what only this one does
# or how only it is reached (libcurl codes, the Decoder's error events, its argument checks).
RSpec.describe "AssistantChatNative.classify" do
  errors_dir = File.expand_path("../fixtures/errors", __dir__)
  manifest = JSON.parse(File.read(File.join(errors_dir, "cases.json")))

  def classify(**options)
    AssistantChatNative.classify(**options)
  end

  it_behaves_like "a failure classifier"

  def anthropic_body(type, message)
    JSON.generate({type: "error", error: {type: type, message: message}})
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

  describe "transport errors" do
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
  end
end
