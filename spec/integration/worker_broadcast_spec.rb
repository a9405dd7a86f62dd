# frozen_string_literal: true

require "spec_helper"

# The reply reaches a page append-only: each chunk carries the text it adds and the
# offset it starts at (UTF-16 code units, as a browser counts), on the stream
# `turbo_stream_from @conversation` subscribes to.
RSpec.describe "AssistantChatWorker's reply broadcasts", :worker_integration do
  include_context "a conversation the page watches"

  def utf16_length(text)
    text.encode("UTF-16LE").bytesize / 2
  end

  # What a browser following the README's client code shows: a chunk at offset 0
  # starts the reply over, any other must start where the text ends.
  def replay(chunks)
    chunks.each_with_object(+"") do |chunk, text|
      if chunk["offset"].zero?
        text.replace(chunk["delta"])
      else
        expect(chunk["offset"]).to eq(utf16_length(text)), "a gap before #{chunk.inspect} after #{text.inspect}"
        text << chunk["delta"]
      end
    end
  end

  it "reaches a page subscribed to the conversation record's stream (its GlobalID param), as turbo_stream_from names it" do
    provider.enqueue(text: "Hello from the record's stream.")
    AssistantChatWorker.perform_async(conversation.id, "Hi", "claude-sonnet")
    broadcasts.wait_for_end

    expect(broadcasts.events.map { |event| event["type"] }.uniq).to eq(%w[lock chunk complete])
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["Hello from the record's stream."])
    expect(broadcasts.of(:complete).first["message_id"]).to eq(Message.where(role: "assistant").pick(:id))
  end

  it "sends deltas that join, with consecutive UTF-16 offsets, into the reply" do
    reply = (1..150).map { |index| "mot#{index} é😀" }.join(" ")
    provider.enqueue(text: reply, token_rate: 400)
    AssistantChatWorker.perform_async(conversation.id, "Write", "claude-sonnet")
    broadcasts.wait_for_end

    chunks = broadcasts.of(:chunk)
    expect(chunks.size).to be >= 3
    expect(chunks.map { |chunk| chunk["offset"] }.count(0)).to eq(1)
    expect(chunks.map { |chunk| chunk["delta"] }.join).to eq(reply)
    ends = chunks.map { |chunk| chunk["offset"] + utf16_length(chunk["delta"]) }
    expect(chunks.drop(1).map { |chunk| chunk["offset"] }).to eq(ends[0...-1])
    expect(replay(chunks)).to eq(reply)
  end

  it "broadcasts a long reply in bytes linear in its length (under twice the reply's bytes)" do
    reply = (1..2000).map { |index| "token#{index}" }.join(" ")
    provider.enqueue(text: reply, token_rate: 4000)
    AssistantChatWorker.perform_async(conversation.id, "Write at length", "claude-sonnet")
    broadcasts.wait_for_end

    chunks = broadcasts.of(:chunk)
    expect(chunks.size).to be >= 3
    chunk_bytes = chunks.sum { |chunk| JSON.generate(chunk).bytesize }
    expect(chunk_bytes).to be < 2 * reply.bytesize
    expect(replay(chunks)).to eq(reply)
  end

  it "shows the text written just before a tool call before the tool's status line" do
    # Quicker than the stream's broadcast_interval: the stream holds most of these words
    # until the tool call starts, and must flush them then.
    before_tool = "#{(1..40).map { |index| "step#{index}" }.join(" ")} Let me check the numbers."
    provider.enqueue(text: before_tool, token_rate: 4000,
      tool_calls: [{name: "query_database", id: "toolu_1", arguments: {"sql" => "SELECT 1"}}])
    provider.enqueue(text: "California leads.")
    AssistantChatWorker.perform_async(conversation.id, "Hi", "claude-sonnet", ["app_db"])
    broadcasts.wait_for_end

    events = broadcasts.events
    first_status = events.index { |event| event["type"] == "status" }
    expect(first_status).not_to be_nil, "no status line among #{events.map { |event| event["type"] }}"
    expect(PageReplay.texts(events.first(first_status)).last).to eq(before_tool)
    expect(broadcasts.of(:complete).first["text"]).to start_with(before_tool).and end_with("California leads.")
  end

  it "shows the words streamed before the provider pauses while it pauses, not with whatever comes next" do
    # Anthropic's stream opens with message_start, content_block_start and a ping; the
    # first 30 words follow quicker than broadcast_interval, then the connection goes
    # quiet and is dropped, and the retry goes on after them.
    tokens = (1..40).map { |index| "word#{index} " }
    provider.enqueue(tokens: tokens, token_rate: 4000, stall_after: 3 + 30, stall_for: 0.6)
    provider.enqueue(text: "The whole answer.")
    AssistantChatWorker.perform_async(conversation.id, "Hi", "claude-sonnet")
    broadcasts.wait_for_end

    shown = PageReplay.texts(broadcasts.events)
    expect(shown).to include(tokens.first(30).join)
    expect(shown.last).to eq("#{tokens.first(30).join}The whole answer.")
  end

  it "keeps the words a failed attempt showed and appends the retry's after them" do
    provider.enqueue(text: "Let me check the numbers.",
      tool_calls: [{name: "query_database", id: "toolu_1", arguments: {"sql" => "SELECT 1"}}])
    drafted = (1..60).map { |index| "draft#{index}" }.join(" ")
    provider.enqueue(text: drafted, token_rate: 400, error_event: {type: "overloaded_error", message: "Overloaded", after: 40})
    provider.enqueue(text: " California leads.")
    AssistantChatWorker.perform_async(conversation.id, "Hi", "claude-sonnet", ["app_db"])
    broadcasts.wait_for_end

    chunks = broadcasts.of(:chunk)
    reply = broadcasts.of(:complete).first["text"]
    expect(reply).to start_with("Let me check the numbers.\n\ndraft1 draft2").and end_with(" California leads.")
    expect(drafted).to start_with(reply.delete_prefix("Let me check the numbers.\n\n").delete_suffix(" California leads."))
    # Append-only: nothing the page showed is taken back.
    expect(chunks.drop(1).select { |chunk| chunk["offset"].zero? }).to eq([])
    expect(PageReplay.shrinks(broadcasts.events)).to eq([])
    expect(replay(chunks)).to eq(reply)
  end
end
