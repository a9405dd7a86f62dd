# frozen_string_literal: true

require "spec_helper"

# A turn's cost from what each provider's recorded stream reports, read by both readings:
# cache reads are billed at the cache-read price, cache writes at the write price, and
# each token once, whichever way the provider counts cached input.
RSpec.describe AssistantChatNative::ModelRegistry::Prices do
  def entry(provider, model_id, **options)
    AssistantChatNative::ModelRegistry::Entry.new(key: "priced", provider: provider, model_id: model_id, **options)
  end

  def readings(provider, name)
    bytes = File.binread(File.join(FixtureStreams::ROOT, provider.to_s, "#{name}.sse"))
    results = {"RubyStream" => RubyStreamReading.decode(provider, [bytes])}
    if AssistantChatNative.native?
      decoder = AssistantChatNative::Decoder.new(provider)
      decoder.feed(bytes)
      results["C Decoder"] = decoder.finish
    end
    results
  end

  # USD per million tokens, as the table has them (sources in prices.rb).
  cases = {
    # input_tokens leaves the cache out: 12 fresh + 2,048 read + 1,054 written, 9 out.
    [:anthropic, "text_crlf_cached", "claude-sonnet-5-5"] =>
      [{input_tokens: 12, output_tokens: 9, cache_read_tokens: 2048, cache_write_tokens: 1054},
        12 * 2.0 + 9 * 10.0 + 2048 * 0.20 + 1054 * 2.50],
    # prompt_tokens include the 1,920 cached: 86 fresh, 12 out.
    [:openai, "text_cached", "gpt-6.1-sol"] =>
      [{input_tokens: 2006, output_tokens: 12, cache_read_tokens: 1920}, 86 * 2.0 + 1920 * 0.10 + 12 * 10.0],
    # promptTokenCount includes the 4 cached: 10 fresh; thoughts are output.
    [:gemini, "thinking", "gemini-3.1-pro-preview"] =>
      [{input_tokens: 14, output_tokens: 248, cache_read_tokens: 4}, 10 * 2.0 + 4 * 0.20 + 248 * 12.0]
  }

  cases.each do |(provider, name, model_id), (usage, micro_dollars)|
    it "prices #{provider}/#{name} on #{model_id} with its cache tokens at the cache prices" do
      readings(provider, name).each do |reader, result|
        expect(result.usage).to eq(usage), "#{reader} read #{result.usage.inspect}"
        expect(entry(provider, model_id).cost(result.usage)).to be_within(1e-12).of(micro_dollars / 1_000_000.0), reader
      end
    end
  end

  it "costs less with cache reads than the same tokens at the input price" do
    cached = entry(:openai, "gpt-6.1-sol").cost(input_tokens: 2006, output_tokens: 12, cache_read_tokens: 1920)
    uncached = entry(:openai, "gpt-6.1-sol").cost(input_tokens: 2006, output_tokens: 12)

    expect(cached).to be < uncached
    expect(uncached).to be_within(1e-12).of((2006 * 2.0 + 12 * 10.0) / 1_000_000.0)
  end

  it "prices a request whose prompt is over the long-prompt threshold at the long rates, on every token" do
    haiku = entry(:anthropic, "claude-haiku-5-5")

    expect(haiku.cost(input_tokens: 100_000, output_tokens: 1000)).to be_within(1e-12).of((100_000 * 0.10 + 1000 * 0.50) / 1e6)
    expect(haiku.cost(input_tokens: 90_000, cache_read_tokens: 20_000, output_tokens: 1000))
      .to be_within(1e-12).of((90_000 * 0.50 + 20_000 * 0.05 + 1000 * 2.50) / 1e6)
  end

  it "has no cost when a price the usage needs is unknown, and costs nothing for no tokens" do
    expect(entry(:gemini, "gemini-3.8-flash").cost(input_tokens: 10, output_tokens: 2)).to be_nil
    expect(entry(:openai, "gpt-6.1-sol").cost(input_tokens: 10, output_tokens: 2, cache_write_tokens: 5)).to be_nil
    expect(entry(:openai, "some-compatible-model").cost(input_tokens: 10, output_tokens: 2)).to be_nil
    expect(entry(:openai, "some-compatible-model").cost(input_tokens: 0, output_tokens: 0)).to eq(0.0)
  end

  it "takes prices registered for a model the table lacks, and refuses unknown ones" do
    local = entry(:openai, "some-compatible-model", prices: {input: 0.5, output: 1.5, cache_read: 0.05})

    expect(local.cost(input_tokens: 1000, output_tokens: 100, cache_read_tokens: 400)).to be_within(1e-12).of((600 * 0.5 + 100 * 1.5 + 400 * 0.05) / 1e6)
    expect { entry(:openai, "x", prices: {inptu: 1.0}) }.to raise_error(AssistantChatNative::ConfigurationError, /inptu/)
  end

  it "sums costs, and an unknown one makes the sum unknown" do
    expect(described_class.sum([0.1, 0.2])).to eq(0.3)
    expect(described_class.sum([0.1, nil])).to be_nil
    expect(described_class.sum([])).to eq(0.0)
  end
end
