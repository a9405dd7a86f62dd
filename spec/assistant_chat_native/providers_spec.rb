# frozen_string_literal: true

require "spec_helper"
require "net/http"

# The registry is the Ruby side's one list of providers; the C core's is ACN_PROVIDERS
# (core/acn.h). The two must name the same providers in the same order, or one side
# accepts a provider the other refuses.
RSpec.describe AssistantChatNative::Providers do
  acn_h = File.expand_path("../../ext/assistant_chat_native/core/acn.h", __dir__)

  it "names the providers of the C core's ACN_PROVIDERS, in its order" do
    list = File.read(acn_h)[/#define ACN_PROVIDERS\(X\)(.*?)\n\n/m, 1].to_s
    core_names = list.scan(/X\(\w+,\s*(\w+)\)/).flatten.map(&:to_sym)

    expect(described_class.names).to eq(core_names)
  end

  it "lists the providers as the loaded extension does when it refuses one", if: AssistantChatNative.native? do
    expect { AssistantChatNative::Decoder.new(:cohere) }
      .to raise_error(AssistantChatNative::ConfigurationError, /use #{Regexp.escape(described_class.choices)}\z/)
    described_class.names.each { |name| expect(AssistantChatNative::Decoder.new(name)).to be_a(AssistantChatNative::Decoder) }
  end

  it "finds a provider by Symbol or String and refuses any other name with a ConfigurationError" do
    expect(described_class.fetch("openai").name).to eq(:openai)
    expect { described_class.fetch(:cohere) }
      .to raise_error(AssistantChatNative::ConfigurationError, "unknown provider :cohere; use :anthropic, :openai, :gemini or :openai_responses")
    expect { described_class.fetch(nil) }.to raise_error(AssistantChatNative::ConfigurationError, /unknown provider nil/)
  end

  it "keeps the names the parts had before they moved into the providers' folders" do
    parts = {Anthropic: %w[Request::Anthropic RubyStream::AnthropicNormalizer LocalProvider::AnthropicWriter],
             OpenAI: %w[Request::OpenAI RubyStream::OpenAINormalizer LocalProvider::OpenAIWriter],
             Gemini: %w[Request::Gemini RubyStream::GeminiNormalizer LocalProvider::GeminiWriter]}
    found = parts.to_h do |provider, names|
      [provider, names.map { |old_name| AssistantChatNative.const_get(old_name).name.delete_prefix("AssistantChatNative::Providers::") }]
    end

    expect(found).to eq(parts.to_h { |provider, _| [provider, %W[#{provider}::RequestBuilder #{provider}::Normalizer #{provider}::Writer]] })
  end

  described_class.names.each do |name|
    describe name.inspect do
      let(:provider) { described_class.fetch(name) }

      it "keeps its parts in one folder, and has recorded streams" do
        parts = %w[provider request_builder normalizer writer].map { |part| "#{provider.part(part)}.rb" }

        expect(parts.reject { |path| File.file?(path) }).to eq([])
        expect(Dir[File.expand_path("../fixtures/#{name}/*.sse", __dir__)]).not_to be_empty
      end

      it "hands out its request builder, a normalizer and a LocalProvider writer" do
        expect(provider.request_builder.instance_method(:build).owner).to eq(provider.class::RequestBuilder)
        expect(provider.normalizer).to be_a(provider.class::Normalizer).and respond_to(:call)
        expect(provider.writer).to be_a(provider.class::Writer)
      end

      it "is answered by LocalProvider at the endpoint LocalProvider gives for it" do
        local = AssistantChatNative::LocalProvider.start(log: nil)
        uri = URI(local.endpoint_for(name, model: "m-1"))
        Net::HTTP.post(uri, JSON.generate({model: "m-1", stream: true}), "content-type" => "application/json")
        request = local.requests.last

        expect([request.provider, request.model || request["model"], request.streaming?]).to eq([name, "m-1", true])
      ensure
        local&.stop
      end
    end
  end
end
