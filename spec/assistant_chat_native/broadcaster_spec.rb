# frozen_string_literal: true

require "spec_helper"
require "assistant_chat_native/broadcaster"

RSpec.describe AssistantChatNative::Broadcaster do
  let(:sent) { [] }
  let(:now) { [100.0] }
  let(:broadcaster) do
    described_class.new(stream: "assistant_conversation_1", delivery: ->(stream, payload) { sent << [stream, payload] },
      status_interval: 1.0, clock: -> { now.first })
  end

  it "sends each broadcast to its stream as a Hash with its type" do
    broadcaster.lock_state(locked: true)
    broadcaster.chunk("Hel")
    broadcaster.complete("Hello", model: "claude-sonnet")
    expect(sent).to eq([
      ["assistant_conversation_1", {type: :lock, locked: true}],
      ["assistant_conversation_1", {type: :chunk, text: "Hel"}],
      ["assistant_conversation_1", {type: :complete, text: "Hello", model: "claude-sonnet"}]
    ])
    expect(broadcaster.counts).to eq(lock: 1, chunk: 1, complete: 1)
  end

  it "sends at most one status line per interval and holds the newest back until it may go" do
    expect(broadcaster.status("Querying the database")).to be(true)
    now[0] = 100.4
    expect(broadcaster.status("Searching content")).to be(false)
    now[0] = 100.6
    expect(broadcaster.status("Running a report")).to be(false)
    expect(broadcaster.flush_status).to be(false)
    now[0] = 101.05
    expect(broadcaster.flush_status).to be(true)
    expect(sent.map { |_stream, payload| payload[:text] }).to eq(["Querying the database", "Running a report"])
  end

  it "drops a held status line when the reply completes" do
    broadcaster.status("first")
    now[0] = 100.1
    broadcaster.status("second")
    broadcaster.complete("Done")
    now[0] = 102.0
    expect(broadcaster.flush_status).to be(false)
    expect(sent.map { |_stream, payload| payload[:type] }).to eq(%i[status complete])
  end

  describe ".status_line" do
    it "names known tools and summarizes the arguments of tools with summaries, prefix stripped" do
      expect(described_class.status_line("app_db_query_database", {"sql" => "SELECT  state,\n count(*) FROM sales"}))
        .to eq("Querying the database: SELECT state, count(*) FROM sales")
      expect(described_class.status_line("list_tables", {"schema" => "public"})).to eq("Looking at the tables")
    end

    it "humanizes unknown tools and cuts long summaries" do
      expect(described_class.status_line("fetch_weather", {})).to eq("Running fetch weather")
      line = described_class.status_line("search_content", {"query" => "x" * 200})
      expect(line.length).to eq("Searching content: ".length + described_class::SUMMARY_LIMIT)
      expect(line).to end_with("…")
    end
  end
end

RSpec.describe AssistantChatNative::Broadcaster, ".status_line with an app's own tables" do
  it "reads display names, prefixes and summaries as the app's Broadcaster module spells them" do
    line = described_class.status_line("warehouse_lookup_orders", {"sku" => "A-1"},
      display_names: {lookup_orders: "Finding orders"}, prefixes: ["warehouse_"], with_summaries: [:lookup_orders])
    expect(line).to eq("Finding orders: A-1")
    expect(described_class.status_line("warehouse_lookup_orders", {"sku" => "A-1"},
      display_names: {}, prefixes: {"warehouse" => "warehouse_"}, with_summaries: [])).to eq("Running lookup orders")
  end
end
