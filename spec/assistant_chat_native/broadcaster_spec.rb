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
      ["assistant_conversation_1", {type: :chunk, delta: "Hel", offset: 0}],
      ["assistant_conversation_1", {type: :complete, text: "Hello", model: "claude-sonnet"}]
    ])
    expect(broadcaster.counts).to eq(lock: 1, chunk: 1, complete: 1)
  end

  it "sends the reply as deltas whose offsets count UTF-16 code units, as a browser's String#length does" do
    broadcaster.chunk("Hé")
    broadcaster.chunk("😀 ")
    broadcaster.chunk("ok")
    expect(sent.map(&:last)).to eq([
      {type: :chunk, delta: "Hé", offset: 0},
      {type: :chunk, delta: "😀 ", offset: 2},
      {type: :chunk, delta: "ok", offset: 5}
    ])
    expect(broadcaster.offset).to eq("Hé😀 ok".encode("UTF-16LE").bytesize / 2)
  end

  it "starts the reply over at offset 0 on a reset, then appends after it" do
    broadcaster.chunk("Partial answer")
    broadcaster.reset_reply("Kept")
    broadcaster.chunk(" more")
    expect(sent.map(&:last).last(2)).to eq([
      {type: :chunk, delta: "Kept", offset: 0},
      {type: :chunk, delta: " more", offset: 4}
    ])
  end

  it "sends a complete payload's message row as its id, not its attributes" do
    row = Struct.new(:id, :transcript).new(7, "[secret transcript]")
    broadcaster.complete("Done", model: "gpt", message: row)
    expect(sent.last).to eq(["assistant_conversation_1", {type: :complete, text: "Done", model: "gpt", message_id: 7}])
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

  context "with turbo-rails loaded" do
    # The constant alone chooses the Turbo Stream rendering; delivery stays the spec's.
    before { stub_const("Turbo::StreamsChannel", Class.new) }

    let(:broadcaster) do
      described_class.new(stream: "assistant_conversation_1", target: "conversation_1",
        delivery: ->(stream, payload) { sent << [stream, payload] }, status_interval: 1.0, clock: -> { now.first })
    end

    def element(action, part, html)
      %(<turbo-stream action="#{action}" target="conversation_1_#{part}"><template>#{html}</template></turbo-stream>)
    end

    it "empties the tool status line with the final reply, so no tool seems to run after the turn" do
      broadcaster.status("Looking up the weather")
      broadcaster.chunk("Sunny")
      broadcaster.complete("Sunny")
      expect(sent.map(&:last)).to eq([
        element("update", "status", "Looking up the weather"),
        element("update", "reply", "Sunny"),
        element("update", "reply", "Sunny") + element("update", "status", "")
      ])
    end

    it "empties the tool status line with an error, and leaves the final reply alone when no line was shown" do
      broadcaster.status("Counting your conversations")
      broadcaster.error("The assistant's AI service is very busy right now.")
      broadcaster.complete("Done")
      expect(sent.map(&:last).last(2)).to eq([
        element("update", "error", "The assistant&#39;s AI service is very busy right now.") + element("update", "status", ""),
        element("update", "reply", "Done")
      ])
    end

    it "empties thinking text, which shows where the status line does, with the final reply" do
      broadcaster.thinking("Weighing the options")
      broadcaster.complete("Done")
      expect(sent.last.last).to eq(element("update", "reply", "Done") + element("update", "status", ""))
    end

    it "gives a renderer that draws its own final reply the element that empties the status line, once" do
      broadcaster.status("Counting your conversations")
      expect(broadcaster.clear_status_html).to eq(element("update", "status", ""))
      expect(broadcaster.clear_status_html).to eq("")
    end
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

RSpec.describe AssistantChatNative::Broadcaster::StreamName do
  let(:record_class) do
    Class.new do
      attr_reader :id

      def initialize(id) = (@id = id)
      def to_key = [id]
      def to_gid_param = "gid-param-#{id}"
      def model_name = Struct.new(:param_key).new("assistant_conversation")
    end
  end

  it "names a record's stream by its GlobalID param and a list's by its parts joined with colons, as turbo-rails does" do
    record = record_class.new(42)
    expect(described_class.for(record)).to eq("gid-param-42")
    expect(described_class.for([record, "replies"])).to eq("gid-param-42:replies")
    expect(described_class.for("assistant_conversation_42")).to eq("assistant_conversation_42")
  end

  it "targets DOM ids after the record (dom_id), or after a String stream's name" do
    expect(described_class.target([record_class.new(42), "replies"])).to eq("assistant_conversation_42")
    expect(described_class.target("chat:42")).to eq("chat_42")
  end
end
