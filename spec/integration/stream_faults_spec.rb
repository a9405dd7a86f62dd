# frozen_string_literal: true

require "spec_helper"
require "socket"
require "tmpdir"

# The fault matrix: each fault LocalProvider can inject gives its failure kind,
# within a bounded time, with the connection closed and no thread left behind.
RSpec.describe "Stream under faults", if: AssistantChatNative.native? do
  include StreamHelpers

  let(:handler) { StreamHelpers::RecordingHandler.new }

  # Threads other than LocalProvider's own (which keeps persistent connections open).
  def client_threads
    Thread.list.reject { |thread| thread.name.to_s.start_with?("local_provider") }
  end

  around do |example|
    threads = client_threads
    example.run
    expect(wait_until { (client_threads - threads).empty? }).to be(true), "a thread outlived its stream"
  end

  def run_bounded(stream, within:)
    result = nil
    took = seconds_taken { result = stream.run(handler) }
    expect(took).to be < within * time_scale
    result
  end

  # LocalProvider saw this response's client go away (other streams' idle, reusable
  # connections may stay open).
  def expect_connection_closed
    request = local_provider.last_request
    expect(request.wait_until_finished(timeout: 1)).to be_truthy
    expect(request).to be_disconnected
  end

  it "classifies a non-2xx status with the provider's own words and Retry-After" do
    body = JSON.generate(type: "error", error: {type: "rate_limit_error",
                                                message: "Number of request tokens has exceeded your per-minute rate limit"})
    local_provider.enqueue(status: 429, headers: {"retry-after" => "7"}, body: body)

    result = run_bounded(build_stream, within: 2)

    expect(result.failure.kind).to eq(:rate_limited)
    expect(result.failure.retry_after).to eq(7)
    expect(result.failure.detail).to include("per-minute rate limit")
    expect(result.failure.status).to eq(429)
    expect(handler.texts).to be_empty
  end

  it "classifies Anthropic's 404 for an unknown model as invalid_model" do
    local_provider.enqueue(status: 404, body: JSON.generate(type: "error",
      error: {type: "not_found_error", message: "model: claude-nonexistent"}))

    result = run_bounded(build_stream, within: 2)

    expect(result.failure.kind).to eq(:invalid_model)
    expect(result.failure.detail).to include("claude-nonexistent")
  end

  {400 => :bad_request, 401 => :authentication, 403 => :permission, 500 => :server_error,
   529 => :overloaded}.each do |status, kind|
    it "classifies HTTP #{status} with the provider's default error body as #{kind}" do
      local_provider.enqueue(status: status)
      expect(run_bounded(build_stream, within: 2).failure.kind).to eq(kind)
    end
  end

  it "keeps no more of an error body than max_error_body" do
    local_provider.enqueue(status: 400, body: JSON.generate(error: {message: "x" * 50_000}))

    result = run_bounded(build_stream(max_error_body: 1000), within: 2)

    expect(result.failure.kind).to eq(:bad_request)
    expect(result.failure.detail.bytesize).to be <= 2048
  end

  it "waits out a delay before the headers shorter than the stall timeout" do
    local_provider.enqueue(text: "Late but fine.", delay: 0.4)

    result = run_bounded(build_stream(stall_timeout: 2), within: 3)

    expect(result.failure).to be_nil
    expect(result.text).to eq("Late but fine.")
    expect(result.stats[:time_to_first_byte]).to be >= 0.35
  end

  it "fails as stalled when the headers take longer than the stall timeout" do
    local_provider.enqueue(text: "Too late.", delay: 3)

    result = run_bounded(build_stream(stall_timeout: 0.3), within: 1.5)

    expect(result.failure.kind).to eq(:stalled)
    expect_connection_closed
  end

  it "fails as stalled when no byte comes for stall_timeout after some events" do
    local_provider.enqueue(tokens: %w[a b c d], stall_after: 3, stall_for: 10)

    result = run_bounded(build_stream(stall_timeout: 0.4), within: 2)

    expect(result.failure.kind).to eq(:stalled)
    expect(result.stop_reason).to be_nil
    expect_connection_closed
  end

  it "fails as a timeout when the whole request outlasts timeout" do
    local_provider.enqueue(tokens: Array.new(100) { "z" }, token_rate: 20)

    result = run_bounded(build_stream(timeout: 0.5), within: 2)

    expect(result.failure.kind).to eq(:timeout)
    expect(result.text).to start_with("z")
    expect_connection_closed
  end

  it "fails as connection lost when the connection is reset mid-body" do
    local_provider.enqueue(tokens: %w[a b c d e], reset_after: 300)

    result = run_bounded(build_stream, within: 2)

    expect(result.failure.kind).to eq(:connection_lost)
    expect(result.stop_reason).to be_nil
  end

  it "fails as connection lost when the server closes mid-body" do
    local_provider.enqueue(tokens: %w[a b c d e], close_after: 3)

    expect(run_bounded(build_stream, within: 2).failure.kind).to eq(:connection_lost)
  end

  it "fails as connection lost, keeping the text, when the stream ends without its terminal event" do
    local_provider.enqueue(tokens: %w[a b c], close_without_terminal: true)

    result = run_bounded(build_stream, within: 2)

    expect(result.text).to eq("abc")
    expect(result.failure.kind).to eq(:connection_lost)
    expect(result.stop_reason).to be_nil
  end

  # The kind, and how many events in the error comes after some text (Responses opens with four
  # events before its first text delta: created, in_progress, the item, its content part).
  {anthropic: [:overloaded, 4], openai: [:server_error, 4], gemini: [:overloaded, 4],
   openai_responses: [:server_error, 6]}.each do |provider, (kind, after)|
    it "classifies #{provider}'s mid-stream error event as #{kind}, keeping the text before it" do
      local_provider.enqueue(tokens: %w[Half way there], error_event: {after: after})

      result = run_bounded(build_stream(provider: provider), within: 2)

      expect(result.failure.kind).to eq(kind)
      expect(result.stop_reason).to be_nil
      expect(result.text).not_to be_empty
    end
  end

  it "fails as connection failed when nothing listens on the port" do
    port = TCPServer.open("127.0.0.1", 0) { |server| server.addr[1] }
    stream = AssistantChatNative::Stream.new(provider: :anthropic, url: "http://127.0.0.1:#{port}/v1/messages",
      headers: {"x-api-key" => StreamHelpers::SECRET}, body: "{}")

    result = run_bounded(stream, within: 2)

    expect(result.failure.kind).to eq(:connection_failed)
    expect(result.stats[:status]).to be_nil
    expect(result.failure.detail.to_s).not_to include(StreamHelpers::SECRET)
  end

  it "gives up connecting after connect_timeout, as a timeout" do
    # A listener whose accept backlog is full: the kernel leaves further connects hanging.
    server = TCPServer.new("127.0.0.1", 0)
    server.listen(0)
    port = server.addr[1]
    fillers = Array.new(4) do
      Socket.new(:INET, :STREAM).tap do |socket|
        socket.connect_nonblock(Socket.sockaddr_in(port, "127.0.0.1"), exception: false)
      end
    end
    sleep 0.1
    stream = AssistantChatNative::Stream.new(provider: :anthropic, url: "http://127.0.0.1:#{port}/v1/messages",
      body: "{}", connect_timeout: 0.3)

    result = nil
    took = seconds_taken { result = stream.run(handler) }

    expect(result.failure.kind).to eq(:timeout)
    expect(took).to be_between(0.25, 2 * time_scale)
  ensure
    fillers&.each(&:close)
    server&.close
  end

  it "fails as a malformed stream on data that is not the provider's JSON" do
    Dir.mktmpdir do |dir|
      path = File.join(dir, "bad.sse")
      File.write(path, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\"}}\n\n" \
        "event: content_block_delta\ndata: {not json\n\n")
      local_provider.enqueue(replay: path)

      expect(run_bounded(build_stream, within: 2).failure.kind).to eq(:malformed_stream)
    end
  end

  it "fails, with bounded memory, on an event over max_event_bytes, and closes the connection" do
    local_provider.enqueue(tokens: ["a" * 20_000] + Array.new(50) { "b" }, token_rate: 100)

    result = run_bounded(build_stream(max_event_bytes: 4096), within: 2)

    expect(result.failure.kind).to eq(:malformed_stream)
    expect(result.text).to eq("")
    expect_connection_closed
  end

  it "fails once the reply is over max_reply_bytes" do
    local_provider.enqueue(tokens: Array.new(20) { "b" * 100 })

    result = run_bounded(build_stream(max_reply_bytes: 1000), within: 2)

    expect(result.failure.kind).to eq(:malformed_stream)
    expect(result.text.bytesize).to be <= 1000
  end
end
