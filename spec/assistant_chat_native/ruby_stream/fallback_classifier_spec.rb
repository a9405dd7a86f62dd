# frozen_string_literal: true

require "spec_helper"
require "json"
require "time"
require "assistant_chat_native/ruby_stream"

# What RubyStream classifies with when the C extension is not loaded. It is held
# to the same examples as the C classifier (spec/support/failure_classifier_examples.rb:
# every case of spec/fixtures/errors/cases.json, the providers' documented error bodies,
# and the headers, transport errors and secrets both read), and with the extension
# loaded to the very same Failure; below is what is its own.
RSpec.describe AssistantChatNative::RubyStream::FallbackClassifier do
  errors_dir = File.expand_path("../../fixtures/errors", __dir__)
  manifest = JSON.parse(File.read(File.join(errors_dir, "cases.json")))

  # Each code the providers document, in an error event after HTTP 200 (where no
  # status can decide instead), with words that name nothing, and the kind it names.
  documented_codes = {
    "Anthropic overloaded_error" => [{type: "error", error: {type: "overloaded_error", message: "x"}}, :overloaded],
    "Anthropic rate_limit_error" => [{type: "error", error: {type: "rate_limit_error", message: "x"}}, :rate_limited],
    "Anthropic authentication_error" => [{type: "error", error: {type: "authentication_error", message: "x"}}, :authentication],
    "Anthropic permission_error" => [{type: "error", error: {type: "permission_error", message: "x"}}, :permission],
    "Anthropic request_too_large" => [{type: "error", error: {type: "request_too_large", message: "x"}}, :request_too_large],
    "Anthropic invalid_request_error" => [{type: "error", error: {type: "invalid_request_error", message: "x"}}, :bad_request],
    "Anthropic billing_error" => [{type: "error", error: {type: "billing_error", message: "x"}}, :quota_exhausted],
    "Anthropic timeout_error" => [{type: "error", error: {type: "timeout_error", message: "x"}}, :timeout],
    "OpenAI insufficient_quota" => [{error: {message: "x", code: "insufficient_quota"}}, :quota_exhausted],
    "OpenAI billing_hard_limit_reached" => [{error: {message: "x", code: "billing_hard_limit_reached"}}, :quota_exhausted],
    "OpenAI billing_not_active" => [{error: {message: "x", code: "billing_not_active"}}, :quota_exhausted],
    "OpenAI context_length_exceeded" => [{error: {message: "x", code: "context_length_exceeded"}}, :context_overflow],
    "OpenAI model_not_found" => [{error: {message: "x", code: "model_not_found"}}, :invalid_model],
    "OpenAI invalid_api_key" => [{error: {message: "x", code: "invalid_api_key"}}, :authentication],
    "OpenAI rate_limit_exceeded" => [{error: {message: "x", code: "rate_limit_exceeded"}}, :rate_limited],
    "OpenAI content_filter" => [{error: {message: "x", code: "content_filter"}}, :refusal],
    "OpenAI content_policy_violation" => [{error: {message: "x", code: "content_policy_violation"}}, :refusal],
    "Gemini UNAVAILABLE" => [{error: {message: "x", status: "UNAVAILABLE"}}, :overloaded],
    "Gemini DEADLINE_EXCEEDED" => [{error: {message: "x", status: "DEADLINE_EXCEEDED"}}, :timeout],
    "Gemini PERMISSION_DENIED" => [{error: {message: "x", status: "PERMISSION_DENIED"}}, :permission],
    "Gemini UNAUTHENTICATED" => [{error: {message: "x", status: "UNAUTHENTICATED"}}, :authentication],
    "Gemini RESOURCE_EXHAUSTED" => [{error: {message: "x", status: "RESOURCE_EXHAUSTED"}}, :rate_limited],
    "Gemini INVALID_ARGUMENT" => [{error: {message: "x", status: "INVALID_ARGUMENT"}}, :bad_request],
    "Gemini FAILED_PRECONDITION" => [{error: {message: "x", status: "FAILED_PRECONDITION"}}, :bad_request]
  }

  def classify(provider: :openai, status: 0, **input)
    described_class.classify(provider: provider, status: status, **input)
  end

  def openai_body(message, type: "invalid_request_error", code: nil)
    JSON.generate({error: {message: message, type: type, code: code}})
  end

  it_behaves_like "a failure classifier"

  describe "user-facing copy" do
    it "uses core/failure.c's copy for each kind, word for word" do
      expect(classify(status: 529, body: "").message)
        .to eq("The assistant's AI service is very busy right now. Please try again in a moment.")
      expect(classify(status: 400, body: openai_body("prompt is too long: 201000 tokens > 200000 maximum")).message)
        .to eq("This conversation has grown too long for the assistant to read. Please start a new conversation.")
      expect(classify(status: 400, body: "").message)
        .to eq("The AI service turned this request down without saying why. Please try again.")
      expect(classify(transport_error: :cancelled).message).to eq("The reply was stopped.")
    end

    it "names the model that is not available" do
      body = JSON.generate({type: "error", error: {type: "not_found_error", message: "model: claude-x-9"}})
      failure = classify(provider: :anthropic, status: 404, body: body)

      expect(failure.kind).to eq(:invalid_model)
      expect(failure.message).to eq("The selected AI model (claude-x-9) isn't available. Please choose a different model.")
      expect(failure.detail).to eq("model: claude-x-9")
    end

    it "passes an unrecognised provider message as-is" do
      message = "messages.3: tool_result block(s) provided when previous message does not have tool_use"
      failure = classify(provider: :anthropic, status: 400, body: openai_body(message))

      expect([failure.kind, failure.message, failure.detail]).to eq([:bad_request, message, message])
    end
  end

  describe "the providers' documented codes" do
    documented_codes.each do |what, (body, kind)|
      it "reads #{what} as #{kind}" do
        expect(classify(status: 200, body: JSON.generate(body), mid_stream: true).kind).to eq(kind)
      end
    end
  end

  describe "words" do
    it "recognises context overflow by its words as well as its code" do
      ["prompt is too long: 201000 tokens > 200000 maximum",
        "This model's maximum context length is 16385 tokens.",
        "Your input exceeds the context window of this model.",
        "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."].each do |message|
        failure = classify(status: 400, body: openai_body(message))
        expect([failure.kind, failure.action, failure.retryable?]).to eq([:context_overflow, :compact, false]), message
      end
    end

    it "tells a used-up quota from a rate limit" do
      quota = classify(status: 429, body: openai_body("You exceeded your current quota, please check your plan.", type: "x"))
      limit = classify(status: 429, body: openai_body("Slow down.", type: "x"))

      expect([quota.kind, quota.action]).to eq([:quota_exhausted, :fail])
      expect([limit.kind, limit.action]).to eq([:rate_limited, :retry])
    end

    it "compacts a 413 about tokens and fails one about bytes" do
      expect(classify(status: 413, body: openai_body("too many tokens in the prompt")).action).to eq(:compact)
      expect(classify(status: 413, body: openai_body("Request exceeds the maximum allowed number of bytes.")).action).to eq(:fail)
    end

    it "reads a mid-stream error event's words, plain text included" do
      expect(classify(status: 200, body: "overloaded, try later", mid_stream: true).kind).to eq(:overloaded)
      gemini = JSON.generate({error: {code: 429, message: "Resource exhausted", status: "RESOURCE_EXHAUSTED"}})
      expect(classify(provider: :gemini, status: 200, body: gemini, mid_stream: true).kind).to eq(:rate_limited)
    end
  end

  describe "bodies" do
    it "treats a body of spaces and line ends as empty" do
      failure = classify(status: 400, body: "  \r\n")

      expect([failure.kind, failure.action, failure.detail]).to eq([:empty_bad_request, :escalate, "HTTP 400 with an empty body"])
    end

    it "shows the start of a body that is not JSON, with the generic copy" do
      failure = classify(status: 502, body: "<html><title>502 Bad Gateway</title></html>" + "x" * 1000)

      expect(failure.kind).to eq(:server_error)
      expect(failure.message).to eq("The assistant's AI service ran into a problem. Please try again in a moment.")
      expect(failure.detail).to eq("HTTP 502: <html><title>502 Bad Gateway</title></html>" + "x" * 257)
    end

    it "bounds a huge body: not parsed, classified by status, detail cut" do
      body = JSON.generate({error: {message: "x" * (3 * 1024 * 1024), type: "server_error"}})
      failure = classify(status: 500, body: body)

      expect(failure.kind).to eq(:server_error)
      expect(failure.detail.bytesize).to be <= 2047
    end

    it "reads JSON nested 100 deep and reads 101 deep as text, as the C classifier does" do
      nested = ->(depth) { %({"error": {"message": "deep"}, "x": #{"[" * (depth - 1)}#{"]" * (depth - 1)}}) }

      expect(classify(status: 400, body: nested.call(100)).detail).to eq("deep")
      expect(classify(status: 400, body: nested.call(101)).detail).to start_with(%({"error": {"message": "deep"}))
      expect(classify(status: 400, body: "[" * 101 + "]" * 101).detail).to eq("[" * 101 + "]" * 101)
    end

    it "reads JSON with a comment as text, and never raises on a comment hiding deep nesting" do
      bomb = %({"error": /* " */ #{"[" * 40_000}#{"]" * 40_000}})
      failure = classify(status: 500, body: bomb)

      expect(failure.kind).to eq(:server_error)
      expect(failure.detail).to start_with(%({"error": /* " */ [[[))
      expect(classify(status: 400, body: %({"error": {"type": /**/ "invalid_request_error"}})).detail)
        .not_to eq("HTTP 400: invalid_request_error")
    end

    it "turns binary garbage into valid UTF-8 text, one replacement character per bad byte" do
      failure = classify(status: 400, body: "\xFF\xFE\x00\x01bad\xC3".b)

      expect(failure.kind).to eq(:bad_request)
      expect(failure.detail).to eq("\uFFFD\uFFFD bad\uFFFD")
    end

    it "folds control characters and runs of spaces into one space" do
      failure = classify(status: 400, body: openai_body("a\tb\n\nc   d\u0007e "))

      expect(failure.message).to eq("a b c d e")
    end

    it "cuts message and detail at a character boundary" do
      failure = classify(status: 400, body: openai_body("é" * 3000))

      expect(failure.message).to eq("é" * 255)
      expect(failure.detail).to eq("é" * 1023)
    end
  end

  describe "transport errors" do
    # As the extension reports them: a value the gem does not understand is a
    # ConfigurationError, a value of another type a TypeError.
    it "rejects an unknown transport error, and a libcurl code, which needs the C extension" do
      expect { classify(transport_error: :exploded) }
        .to raise_error(AssistantChatNative::ConfigurationError, /unknown transport_error :exploded/)
      expect { classify(transport_error: 28) }
        .to raise_error(AssistantChatNative::ConfigurationError, /libcurl codes need the C extension/)
      expect { classify(transport_error: "timeout") }.to raise_error(TypeError, /not String/)
    end

    it "rejects an unknown provider with a ConfigurationError, as every entry point does" do
      expect { classify(provider: :mistral, status: 400) }
        .to raise_error(AssistantChatNative::ConfigurationError, /unknown provider :mistral/)
      expect(classify(provider: "gemini", status: 503).kind).to eq(:overloaded)
    end
  end

  describe "streamed output" do
    it "cuts a long detail at a character boundary to make room for the note" do
      failure = classify(status: 400, body: "é" * 3000, streamed: true)

      expect(failure.detail).to eq("é" * 1000 + " (part of the reply had already been streamed)")
    end
  end

  # With the extension loaded, the C classifier is the reference: the fallback
  # must give the very same Failure for every manifest case and the inputs above.
  describe "against the C classifier", if: AssistantChatNative.native? do
    manifest["cases"].each do |c|
      it "gives the same Failure as AssistantChatNative.classify for #{c["name"]}" do
        body = c.key?("file") ? File.binread(File.join(errors_dir, c["file"])) : c.fetch("body")
        [false, true].each do |streamed|
          input = {provider: c["provider"].to_sym, status: c["status"], body: body, headers: c.fetch("headers", {}),
                   mid_stream: c.fetch("mid_stream", false), streamed: streamed}

          expect(described_class.classify(**input)).to eq(AssistantChatNative.classify(**input))
        end
      end
    end

    {
      "a key in the middle of a cut message" => {status: 400, body: "x " * 1010 + "Bearer sk-" + "Zx9" * 30},
      "a JSON string with an escaped NUL" => {status: 400, body: '{"error":{"message":"before\\u0000after"}}'},
      "plain-text words after HTTP 200" => {status: 200, body: "upstream overloaded", mid_stream: true},
      "a Gemini error code inside a 200 chunk" => {status: 200, mid_stream: true,
                                                   body: '{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}'},
      "a redirect" => {status: 302, body: ""},
      "a 200 with nothing to read" => {status: 200, body: ""},
      "an HTML page with a key in it" => {status: 502, body: "<html>key=abcdef</html>", streamed: true},
      "a stated wait in words" => {status: 429, body: '{"error":{"message":"Please retry in 56.68s.","status":"RESOURCE_EXHAUSTED"}}'},
      "a stall after output" => {status: 200, transport_error: :stalled, streamed: true}
    }.each do |what, input|
      it "gives the same Failure as AssistantChatNative.classify for #{what}" do
        input = {provider: :gemini}.merge(input)

        expect(described_class.classify(**input)).to eq(AssistantChatNative.classify(**input))
      end
    end

    documented_codes.each do |what, (body, _kind)|
      it "gives the same Failure as AssistantChatNative.classify for #{what} after HTTP 200 and at 400 and 500" do
        [200, 400, 500].each do |status|
          input = {provider: :openai, status: status, body: JSON.generate(body), mid_stream: status == 200}

          expect(described_class.classify(**input)).to eq(AssistantChatNative.classify(**input))
        end
      end
    end
  end
end
