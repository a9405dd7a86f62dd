# frozen_string_literal: true

require "json"
require "net/http"
require "assistant_chat_native/ruby_stream"

# Every error LocalProvider answers (a scripted status, a path it does not serve, a
# script it cannot serve) is in the documented error body of the provider the client
# speaks, and the classifiers read it as they read that provider's own: the kind, and
# the words as the failure's detail.
RSpec.describe "LocalProvider's error replies" do
  endpoints = {anthropic: "/v1/messages", openai: "/v1/chat/completions",
               gemini: "/v1beta/models/gemini-local:streamGenerateContent?alt=sse", openai_responses: "/v1/responses"}

  # Each provider's documented error body: the keys it has, in its order.
  shapes = {
    anthropic: ->(json) { [json.keys.first(2), json["type"], json["error"].keys] == [%w[type error], "error", %w[type message]] },
    openai: ->(json) { [json.keys, json["error"].keys] == [%w[error], %w[message type param code]] },
    gemini: ->(json) { [json.keys, json["error"].keys, json["error"]["code"].class] == [%w[error], %w[code message status], Integer] },
    # Responses answers HTTP errors with OpenAI's usual error object.
    openai_responses: ->(json) { [json.keys, json["error"].keys] == [%w[error], %w[message type param code]] }
  }

  # What a scripted status reads as, provider by provider (Anthropic's not_found_error and
  # Gemini's NOT_FOUND name no model, OpenAI's model_not_found does).
  scripted = {
    401 => {anthropic: :authentication, openai: :authentication, gemini: :authentication, openai_responses: :authentication},
    403 => {anthropic: :permission, openai: :permission, gemini: :permission, openai_responses: :permission},
    404 => {anthropic: :bad_request, openai: :invalid_model, gemini: :bad_request, openai_responses: :invalid_model},
    429 => {anthropic: :rate_limited, openai: :rate_limited, gemini: :rate_limited, openai_responses: :rate_limited},
    500 => {anthropic: :server_error, openai: :server_error, gemini: :server_error, openai_responses: :server_error},
    503 => {anthropic: :overloaded, openai: :overloaded, gemini: :overloaded, openai_responses: :overloaded}
  }

  def request(path, method: :post)
    Net::HTTP.start("127.0.0.1", local_provider.port, read_timeout: 5) do |http|
      next http.get(path) if method == :get

      http.post(path, JSON.generate({model: "local-model", stream: true, messages: [{role: "user", content: "Hi"}]}),
        {"content-type" => "application/json"})
    end
  end

  # [kind, detail] from each classifier there is: the C one when the extension loaded, and
  # RubyStream's; both must agree.
  def classified(provider, response)
    options = {provider: provider, status: Integer(response.code), body: response.body, headers: {}}
    readings = [AssistantChatNative::RubyStream::FallbackClassifier.classify(**options)]
    readings << AssistantChatNative.classify(**options) if AssistantChatNative.native?
    pairs = readings.map { |failure| [failure.kind, failure.detail] }
    expect(pairs.uniq.size).to eq(1), "the classifiers disagree: #{pairs.inspect}"
    pairs.first
  end

  # Where each of the three shapes keeps its words.
  def message_of(body)
    JSON.parse(body).dig("error", "message")
  end

  endpoints.each do |provider, path|
    describe "to a #{provider} client" do
      scripted.each do |status, kinds|
        it "answers a scripted #{status} in #{provider}'s error body, read as #{kinds.fetch(provider)}" do
          local_provider.enqueue(status: status)
          response = request(path)

          expect(response.code).to eq(status.to_s)
          expect(shapes.fetch(provider).call(JSON.parse(response.body))).to be(true), response.body
          expect(classified(provider, response)).to eq([kinds.fetch(provider), message_of(response.body)])
        end
      end

      it "answers a method it does not serve with a 404 in #{provider}'s error body that names the endpoints" do
        response = request(path.split("?").first, method: :get)

        expect(response.code).to eq("404")
        expect(shapes.fetch(provider).call(JSON.parse(response.body))).to be(true), response.body
        kind, detail = classified(provider, response)
        expect(kind).to eq(:bad_request)
        expect(detail).to start_with("LocalProvider serves POST /v1/messages, ").and end_with("got GET #{path.split("?").first}")
      end

      it "answers a script it cannot serve with a 500 in #{provider}'s error body that says why" do
        local_provider.enqueue(replay: "no_such_stream")
        response = request(path)

        expect(response.code).to eq("500")
        expect(shapes.fetch(provider).call(JSON.parse(response.body))).to be(true), response.body
        kind, detail = classified(provider, response)
        expect(kind).to eq(:server_error)
        expect(detail).to include('the recorded stream "no_such_stream"')
      end
    end
  end

  {"/v1/messages/count_tokens" => :anthropic, "/v1/chat/completion" => :openai, "/v1/responses/compact" => :openai_responses,
   "/v1beta/models/gemini-local:countTokens" => :gemini, "/unknown" => :anthropic}.each do |path, provider|
    it "answers POST #{path} in the error body of the provider whose endpoint is nearest, #{provider}" do
      response = request(path)

      expect(response.code).to eq("404")
      expect(shapes.fetch(provider).call(JSON.parse(response.body))).to be(true), response.body
      expect(local_provider.last_request.provider).to be_nil
      expect(classified(provider, response)).to eq([:bad_request, message_of(response.body)])
    end
  end
end
