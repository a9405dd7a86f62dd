# frozen_string_literal: true

require "spec_helper"
require "logger"
require "stringio"

RSpec.describe AssistantChatNative::ModelRegistry::Lifecycle do
  let(:registry) { AssistantChatNative::ModelRegistry.default }

  it "has no default model past or within 7 days of its end of life" do
    close = registry.filter_map do |entry|
      date = entry.retires_on
      "#{entry.key} (#{entry.model_id}) ends #{date}" if date && described_class.days_left(date) <= 7
    end
    expect(close).to eq([])
  end

  it "knows the end of life and replacement of the ids the defaults used to name" do
    expect(described_class["claude-sonnet-4-5"].to_h).to eq(retires_on: Date.new(2026, 11, 30), replacement: "claude-sonnet-5-5")
    expect(described_class["gemini-2.5-pro"].retires_on).to eq(Date.new(2026, 12, 1))
    expect(described_class["gemini-2.5-flash"].retires_on).to eq(Date.new(2026, 12, 1))
    expect(described_class["gpt-5"].to_h).to eq(retires_on: Date.new(2026, 12, 11), replacement: "gpt-6.1-sol")
    expect(described_class["gpt-5-mini"].replacement).to eq("gpt-6.1-terra")
    expect(described_class["claude-sonnet-5-5"]).to be_nil
  end

  it "lets a registration override or extend the table with retires_on:" do
    registry.register("old", provider: :anthropic, model_id: "claude-sonnet-4-5", retires_on: "2027-01-31")
    registry.register("mine", provider: :openai, model_id: "my-fine-tune", retires_on: Date.new(2026, 12, 20))
    expect(registry.fetch("old").retires_on).to eq(Date.new(2027, 1, 31))
    expect(registry.fetch("mine").retires_on).to eq(Date.new(2026, 12, 20))
    expect(registry.fetch("claude-sonnet").retires_on).to be_nil
  end

  it "describes a date as retired or in N days" do
    today = Date.new(2026, 12, 3)
    expect(described_class.describe(Date.new(2026, 11, 30), today: today)).to eq("retired 2026-11-30")
    expect(described_class.describe(Date.new(2026, 12, 11), today: today)).to eq("in 8 days (2026-12-11)")
    expect(described_class.describe(Date.new(2026, 12, 4), today: today)).to eq("in 1 day (2026-12-04)")
  end
end

RSpec.describe AssistantChatNative::ModelRegistry::RetirementWarning do
  let(:output) { StringIO.new }
  let(:logger) { Logger.new(output) }
  let(:registry) { AssistantChatNative::ModelRegistry.new }

  before { described_class.reset! }
  after { described_class.reset! }

  def register(key, model_id, **options)
    registry.register(key, provider: :openai, model_id: model_id, base_url: "http://127.0.0.1:1", **options)
  end

  it "warns about a model within 30 days, naming key, id, date and replacement" do
    entry = register("gpt", "gpt-5", retires_on: Date.today + 20)
    expect(described_class.warn(entry, logger: logger)).to include("gpt-5")
    expect(output.string).to include("WARN", 'model "gpt" (gpt-5) reaches its end of life on ' \
      "#{(Date.today + 20).iso8601} (in 20 days", "replacement is gpt-6.1-sol")
  end

  it "warns about a model past its date" do
    entry = register("old", "gpt-5", retires_on: Date.today - 3)
    described_class.warn(entry, logger: logger)
    expect(output.string).to include('model "old" (gpt-5) reached its end of life on', "retired #{(Date.today - 3).iso8601}")
  end

  it "says nothing about a model whose date is far off or unannounced" do
    far = register("far", "gpt-5", retires_on: Date.today + 31)
    none = register("none", "gpt-6.1-sol")
    expect(described_class.check_all(registry, logger: logger)).to eq([])
    expect([far, none].map { |entry| described_class.message(entry) }).to eq([nil, nil])
    expect(output.string).to eq("")
  end

  it "warns when a Turn starts on a retiring model, once per model id per process" do
    config = AssistantChatNative::Configuration.new
    config.logger = logger
    config.models.register("soon", provider: :openai, model_id: "gpt-5-mini", base_url: "http://127.0.0.1:1",
      retires_on: Date.today + 5)
    config.models.register("soon-too", provider: :openai, model_id: "gpt-5-mini", base_url: "http://127.0.0.1:1",
      retires_on: Date.today + 5)
    3.times { AssistantChatNative::Turn.new(model: "soon", messages: [{role: "user", content: "hi"}], config: config) }
    AssistantChatNative::Turn.new(model: "soon-too", messages: [{role: "user", content: "hi"}], config: config)
    expect(output.string.scan("gpt-5-mini").size).to eq(1)
    expect(output.string).to include('model "soon" (gpt-5-mini)', "gpt-6.1-terra")
  end
end
