# frozen_string_literal: true

require "spec_helper"
require_relative "scenarios"

# The providers' official SDKs (npm: @anthropic-ai/sdk, openai, @google/genai) stream each
# scenario from LocalProvider, and what their stream helpers make of it (text, thinking and
# thinking blocks, tool calls with their ids and parsed arguments, usage, the stop reason) must be what
# Stream and RubyStream make of the same script. That holds LocalProvider to each protocol
# as the real clients read it, and the gem's readings to theirs. `rake spec:sdk` runs it
# after npm ci; the file's name keeps it out of `rake spec`, which needs no node.
RSpec.describe "The official SDKs and the gem read LocalProvider's streams alike" do
  stream_classes = [AssistantChatNative::RubyStream]
  stream_classes.unshift(AssistantChatNative::Stream) if AssistantChatNative.native?
  readers = stream_classes.map { |klass| klass.name.split("::").last }.join(" and ")

  before(:all) do
    missing = SdkAgreement.missing_sdks
    raise "cannot run the official SDKs: #{missing}" if missing

    @local_provider = AssistantChatNative::LocalProvider.start(log: $stderr)
    @local_provider.respond_with { |request| SdkAgreement.script_for(request.model) }
    @sdk = SdkAgreement.sdk_readings(@local_provider)
    @gem = SdkAgreement.cases.to_h do |dialect, scenario|
      [[dialect, scenario], stream_classes.to_h do |klass|
        [klass.name.split("::").last, SdkAgreement.gem_reading(klass, dialect, scenario, @local_provider)]
      end]
    end
  end

  after(:all) { @local_provider&.stop }

  it "reads every dialect the gem streams" do
    expect(SdkAgreement::DIALECTS.keys).to match_array(AssistantChatNative::Providers.names)
  end

  it "builds the gem's request for each dialect's own endpoint" do
    SdkAgreement::DIALECTS.each_key do |dialect|
      entry = SdkAgreement.entry_for(dialect, "text", @local_provider)
      expect(entry.url).to eq(@local_provider.endpoint_for(dialect, model: entry.model_id))
    end
  end

  SdkAgreement.cases.each do |dialect, scenario|
    it "#{dialect}, #{scenario}: the SDK reads the script as #{readers} read it", :aggregate_failures do
      row = @sdk.fetch([dialect, scenario])
      expect(row["error"]).to be_nil, "the #{dialect} SDK failed on #{scenario}:\n#{row["error"]}"
      sdk = row.fetch("reading")

      scripted = SdkAgreement.scripted(dialect, scenario)
      expect(sdk).to include(scripted.except("usage"))
      expect(sdk["usage"]).to include(scripted["usage"])
      expect(sdk["tool_calls"].map { |call| call.slice("name", "arguments") })
        .to eq(SdkAgreement.scripted_calls(scenario))
      @gem.fetch([dialect, scenario]).each do |reader, gem_row|
        expect(gem_row["error"]).to be_nil, "#{reader} failed on #{dialect}/#{scenario}: #{gem_row["error"]}"
        next unless gem_row["reading"]

        expect(SdkAgreement.comparable(gem_row["reading"])).to eq(SdkAgreement.comparable(sdk)),
          "#{reader} read #{dialect}/#{scenario} as\n#{gem_row["reading"].inspect}\nthe SDK as\n#{sdk.inspect}"
      end
    end
  end
end
