# frozen_string_literal: true

require "spec_helper"

RSpec.describe "AssistantChatWorker running a turn in Sidekiq", :worker_integration do
  include_context "a user's conversation the page watches"

  def script_tool_then_reply(reply: "California leads with 120 sales, then New York with 80.", token_rate: nil)
    provider.enqueue(tool_calls: [{name: "query_database", id: "toolu_1",
                                   arguments: {"sql" => "SELECT state, count(*) FROM sales GROUP BY state"}}],
      usage: {input_tokens: 40, output_tokens: 12})
    provider.enqueue(text: reply, usage: {input_tokens: 90, output_tokens: 20}, token_rate: token_rate)
  end

  it "streams the reply, shows the tool's status line, persists both messages and releases the lock" do
    script_tool_then_reply
    AssistantChatWorker.perform_async(conversation.id, "Show me sales by state", "claude-sonnet", ["app_db"],
      {"user_id" => user.id, "name" => "Dana"})
    broadcasts.wait_for_end

    types = broadcasts.events.map { |event| event["type"] }
    expect(types.first).to eq("lock")
    expect(broadcasts.of(:lock).map { |event| event["locked"] }).to eq([true, false])
    expect(broadcasts.of(:status).map { |event| event["text"] })
      .to eq(["Querying the database: SELECT state, count(*) FROM sales GROUP BY state"])
    expect(broadcasts.of(:complete).map { |event| event["text"] })
      .to eq(["California leads with 120 sales, then New York with 80."])
    expect(types.index("complete")).to be < types.rindex("lock")

    rows = Message.where(conversation_id: conversation.id).order(:id)
    expect(rows.map(&:role)).to eq(%w[user assistant])
    expect(rows.first.content).to eq("Show me sales by state")
    expect(rows.last.content).to eq("California leads with 120 sales, then New York with 80.")
    transcript = JSON.parse(rows.last.transcript)
    tool_result = transcript.flat_map { |message| Array(message["content"]) }.find { |part| part.is_a?(Hash) && part["type"] == "tool_result" }
    content = tool_result["content"]
    content = JSON.parse(content) if content.is_a?(String)
    expect(content).to include("rows" => [["CA", 120], ["NY", 80]], "asked_by" => "Dana")

    conversation.reload
    expect([conversation.processing_by_id, conversation.processing_since, conversation.processing_job_id]).to eq([nil, nil, nil])
    expect(conversation.error_count).to eq(0)

    second_request = provider.requests.last.json
    expect(second_request["messages"].last["content"].first).to include("type" => "tool_result", "tool_use_id" => "toolu_1")
    expect(second_request["system"].to_s).to include("name: Dana")
  end

  it "accepts the seed's single Hash of arguments with string keys under Sidekiq's strict argument check" do
    provider.enqueue(text: "Hello Dana.")
    expect(Sidekiq::Config::DEFAULTS[:on_complex_arguments]).to eq(:raise)
    AssistantChatWorker.perform_async("conversation_id" => conversation.id, "user_message" => "Hi",
      "model" => "claude-sonnet", "tool_services" => [], "user_context" => {"user_id" => user.id}, "upload_ids" => [])
    broadcasts.wait_for_end
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["Hello Dana."])
  end

  it "accepts the seed's usage comment verbatim (symbol keys) by enqueueing them as strings" do
    provider.enqueue(text: "Sales by state follow.")
    AssistantChatWorker.perform_async(conversation_id: conversation.id, user_message: "Show me sales by state",
      model: "claude-sonnet")
    broadcasts.wait_for_end
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["Sales by state follow."])
  end

  it "broadcasts the growing reply at most once per interval plus the final one" do
    reply = (1..120).map { |index| "word#{index}" }.join(" ")
    provider.enqueue(text: reply, token_rate: 300)
    interval = AssistantChatNative.config.broadcast_interval
    AssistantChatWorker.perform_async(conversation.id, "Write a long answer", "claude-sonnet")
    broadcasts.wait_for_end

    chunks = broadcasts.timed.select { |_at, event| event["type"] == "chunk" }
    expect(chunks.size).to be >= 3
    span = chunks.last.first - chunks.first.first
    expect(chunks.size).to be <= (span / interval).floor + 2
    expect(chunks.map { |_at, event| event["delta"] }.join).to eq(reply)
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq([reply])
  end

  it "shows tool status lines at most once per STATUS_BROADCAST_INTERVAL" do
    5.times do |index|
      provider.enqueue(tool_calls: [{name: "query_database", id: "toolu_#{index}", arguments: {"sql" => "SELECT #{index}"}}])
    end
    provider.enqueue(text: "Done.")
    AssistantChatWorker.perform_async(conversation.id, "Five queries", "claude-sonnet", ["app_db"])
    broadcasts.wait_for_end

    statuses = broadcasts.timed.select { |_at, event| event["type"] == "status" }
    interval = AssistantChatWorker.settings.status_broadcast_interval
    expect(statuses).not_to be_empty
    expect(statuses.each_cons(2).map { |(first, _), (second, _)| second - first }).to all(be >= interval * 0.9)
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["Done."])
  end

  it "hands a turn that needs more rounds to a continuation that takes the lock at once" do
    AssistantChatNative.config.max_rounds = 2
    3.times do |index|
      provider.enqueue(tool_calls: [{name: "query_database", id: "toolu_#{index}", arguments: {"sql" => "SELECT #{index}"}}])
    end
    provider.enqueue(text: "All three queries agree.")
    AssistantChatWorker.perform_async(conversation.id, "Run three queries", "claude-haiku", ["app_db"],
      {"user_id" => user.id, "name" => "Dana"})
    broadcasts.wait_for_end(count: 2)

    expect(broadcasts.of(:error)).to be_empty
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["All three queries agree."])
    expect(broadcasts.of(:lock).map { |event| event["locked"] }).to eq([true, false, true, false])
    rows = Message.where(conversation_id: conversation.id).order(:id)
    expect(rows.map { |row| [row.role, row.status] }).to eq([["user", nil], ["assistant", "completed"]])
    expect(provider.requests.size).to eq(4)
    expect(conversation.reload.processing_by_id).to be_nil

    # The continuation carried the model, the tool services and the user context,
    # and resumed after the rounds already done.
    resumed = provider.requests[2].json
    expect(resumed["model"]).to eq("claude-haiku-5-5")
    expect(resumed["system"].to_s).to include("name: Dana")
    expect(resumed["tools"].map { |tool| tool["name"] }).to eq(["query_database"])
    tool_results = resumed["messages"].flat_map { |message| Array(message["content"]) }
      .select { |part| part.is_a?(Hash) && part["type"] == "tool_result" }
    expect(tool_results.map { |part| part["tool_use_id"] }).to eq(%w[toolu_0 toolu_1])
  ensure
    AssistantChatNative.config.max_rounds = 10
  end

  it "removes the attachment tempfiles when the turn fails too" do
    upload = Upload.create!(filename: "notes.txt", content_type: "text/plain", data: "quarterly notes")
    provider.enqueue(status: 401, body: JSON.generate({"type" => "error", "error" => {"type" => "authentication_error", "message" => "invalid x-api-key"}}))
    before = Dir.glob(File.join(Dir.tmpdir, "acn-upload-*"))
    jid = AssistantChatWorker.perform_async(conversation.id, "Summarize my notes", "claude-sonnet", [], {}, [upload.id])
    broadcasts.wait_for_end
    WorkerHarness.wait_until(message: "the error broadcast") { broadcasts.of(:error).any? }
    WorkerHarness.wait_for_job(jid)
    expect(Dir.glob(File.join(Dir.tmpdir, "acn-upload-*")) - before).to be_empty
  end

  it "keeps the column lock fresh with heartbeats while the turn runs" do
    AssistantChatNative.config.heartbeat_interval = 0.2
    provider.enqueue(text: (1..40).map { |index| "beat#{index}" }.join(" "), token_rate: 20)
    AssistantChatWorker.perform_async(conversation.id, "Slow", "claude-sonnet")
    WorkerHarness.wait_until(message: "the lock") { Conversation.find(conversation.id).processing_since }
    taken = Conversation.find(conversation.id).processing_since
    refreshed = WorkerHarness.wait_until(message: "a heartbeat") do
      since = Conversation.find(conversation.id).processing_since
      since if since && since > taken
    end
    expect(refreshed).to be > taken
    broadcasts.wait_for_end
    expect(Conversation.find(conversation.id).processing_since).to be_nil
  end

  it "removes the attachment tempfiles whatever happens" do
    upload = Upload.create!(filename: "notes.txt", content_type: "text/plain", data: "quarterly notes")
    provider.enqueue(text: "I read your notes.")
    before = Dir.glob(File.join(Dir.tmpdir, "acn-upload-*"))
    jid = AssistantChatWorker.perform_async(conversation.id, "Summarize my notes", "claude-sonnet", [], {}, [upload.id])
    broadcasts.wait_for_end
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["I read your notes."])
    # The file was read from its tempfile and sent.
    document = provider.requests.last.json["messages"].last["content"].find { |part| part["type"] == "document" }
    expect(Base64.decode64(document.dig("source", "data"))).to eq("quarterly notes")
    # The lock's release is broadcast from inside perform, before its ensure removes
    # the tempfiles: wait for Sidekiq to see perform return.
    WorkerHarness.wait_for_job(jid)
    expect(Dir.glob(File.join(Dir.tmpdir, "acn-upload-*")) - before).to be_empty
  end

  it "writes the reply's row once per write: one INSERT for the first flush, never read back by its job id" do
    provider.enqueue(text: (1..40).map { |index| "word#{index}" }.join(" "), token_rate: 200)
    statements = []
    subscriber = ActiveSupport::Notifications.subscribe("sql.active_record") do |*, payload|
      statements << [payload[:name].to_s, payload[:sql]] if payload[:sql].include?(%("messages"))
    end
    begin
      AssistantChatWorker.perform_async(conversation.id, "Count to forty", "claude-sonnet", [], {"user_id" => user.id})
      broadcasts.wait_for_end
    ensure
      ActiveSupport::Notifications.unsubscribe(subscriber)
    end

    row = Message.where(conversation_id: conversation.id, role: "assistant").sole
    expect(row.content).to eq((1..40).map { |index| "word#{index}" }.join(" "))
    inserts = statements.each_index.select { |index| statements[index][1].start_with?("INSERT") }
    expect(inserts.size).to eq(2), "expected the user's and the reply's INSERT, got #{statements.inspect}"
    after_insert = statements.drop(inserts.last + 1)
    expect(after_insert.select { |_name, sql| sql.start_with?("SELECT") && sql.include?(%("job_id")) })
      .to be_empty, "the reply's row was read again: #{after_insert.inspect}"
    # The first chunk's text went in with the INSERT; each later chunk is one UPDATE.
    shown = statements.count { |name, _sql| name == "AssistantChatNative shown text" }
    expect(broadcasts.of(:chunk).size).to be > 1
    expect(shown).to eq(broadcasts.of(:chunk).size - 1)
  end

  it "looks for the reply's row before inserting it where the messages table lacks the once-per-job index" do
    connection = ActiveRecord::Base.connection
    index = connection.indexes(:messages).find { |candidate| candidate.unique && candidate.columns.include?("job_id") }
    expect(index).not_to be_nil
    connection.remove_index(:messages, name: index.name)
    connection.schema_cache.clear_data_source_cache!("messages")
    provider.enqueue(text: "Hello without the index.")
    statements = []
    subscriber = ActiveSupport::Notifications.subscribe("sql.active_record") do |*, payload|
      statements << payload[:sql] if payload[:sql].include?(%("messages"))
    end
    begin
      AssistantChatWorker.perform_async(conversation.id, "Hi", "claude-sonnet", [], {"user_id" => user.id})
      broadcasts.wait_for_end
    ensure
      ActiveSupport::Notifications.unsubscribe(subscriber)
    end

    expect(Message.where(conversation_id: conversation.id, role: "assistant").pluck(:content, :status))
      .to eq([["Hello without the index.", "completed"]])
    insert = statements.rindex { |sql| sql.start_with?("INSERT") }
    lookup = statements[0...insert].rindex { |sql| sql.start_with?("SELECT") }
    expect(statements[lookup]).to include(%("job_id")).and(include(%("role")))
    expect(statements[(lookup + 1)...insert]).to all(match(/\A(BEGIN|SAVEPOINT)/))
  ensure
    if index
      connection.add_index(:messages, index.columns, unique: true, name: index.name)
      connection.schema_cache.clear_data_source_cache!("messages")
    end
  end
end

RSpec.describe "AssistantChatWorker's instrumentation", :worker_integration do
  include_context "a conversation the page watches"

  # Runs the block and returns every event of both names, in the order subscribers
  # received them, once the turn's event came.
  def record_events
    events = []
    lock = Mutex.new
    subscriptions = %w[stream turn].map do |kind|
      ActiveSupport::Notifications.subscribe("#{kind}.assistant_chat_native") do |event|
        lock.synchronize { events << [kind.to_sym, event.payload] }
      end
    end
    yield
    WorkerHarness.wait_until(message: "the turn event") { lock.synchronize { events.any? { |kind, _| kind == :turn } } }
    lock.synchronize { events.dup }
  ensure
    subscriptions&.each { |subscription| ActiveSupport::Notifications.unsubscribe(subscription) }
  end

  it "publishes one event per stream as it ends and then one per turn, and logs one line per turn without the API key" do
    events = record_events do
      provider.enqueue(tool_calls: [{name: "query_database", id: "toolu_9", arguments: {"sql" => "SELECT 1"}}],
        usage: {input_tokens: 40, output_tokens: 12})
      provider.enqueue(text: "One.", usage: {input_tokens: 60, output_tokens: 3, cache_read_tokens: 30, cache_write_tokens: 10})
      AssistantChatWorker.perform_async(conversation.id, "Count", "claude-sonnet", ["app_db"])
      broadcasts.wait_for_end
    end

    expect(events.map(&:first)).to eq(%i[stream stream turn])
    turn = events.last.last
    expect(turn).to include(worker: "AssistantChatWorker", conversation_id: conversation.id, model: "claude-sonnet",
      final_model: "claude-sonnet", provider: :anthropic, status: :completed, rounds: 2, retries: 0, compactions: 0,
      input_tokens: 100, output_tokens: 15, cache_read_tokens: 30, cache_write_tokens: 10, failure_kind: nil)
    # claude-sonnet-5-5 at $2 input, $10 output, $0.20 cache read, $2.50 cache write per million:
    # round 1 40 in + 12 out; round 2 60 in + 3 out + 30 read + 10 written.
    expect(turn[:cost]).to be_within(1e-12).of((40 * 2 + 12 * 10 + 60 * 2 + 3 * 10 + 30 * 0.20 + 10 * 2.50) / 1_000_000.0)
    expect(turn[:duration]).to be > 0
    expect(turn[:time_to_first_token]).to be_between(0, turn[:duration])
    expect(turn[:flushes]).to be >= 1

    streams = events.first(2).map(&:last)
    expect(streams.map { |stream| stream.values_at(:round, :attempt, :attempts, :model, :provider, :model_id, :stop_reason, :input_tokens, :output_tokens, :tool_calls, :failure_kind) })
      .to eq([[1, 1, 1, "claude-sonnet", :anthropic, "claude-sonnet-5-5", :tool_use, 40, 12, 1, nil],
        [2, 1, 1, "claude-sonnet", :anthropic, "claude-sonnet-5-5", :end_turn, 60, 3, 0, nil]])
    streams.each do |stream|
      expect(stream).to include(worker: "AssistantChatWorker", conversation_id: conversation.id, status: 200, retried_after: [])
      expect(stream[:duration]).to be_between(stream[:time_to_first_byte], turn[:duration])
      expect(stream[:time_to_first_token]).to be_between(stream[:time_to_first_byte], stream[:duration])
      expect([stream[:bytes], stream[:events]]).to all(be > 0)
    end
    expect(streams.map { |stream| stream[:cost] }).to eq([0.0002, 0.000181])
    expect(streams.last).to include(cache_read_tokens: 30, cache_write_tokens: 10)
    expect(streams.first[:flushes]).to eq(0)
    expect(streams.last[:flushes]).to be >= 1
    # The second round goes out on the same job thread: the native Stream reuses the
    # connection the first round left open; RubyStream opens one per request.
    expect(streams.last[:new_connections]).to eq((AssistantChatNative.stream_class == AssistantChatNative::Stream) ? 0 : 1)
    expect(streams.sum { |stream| stream[:duration] }).to be <= turn[:duration]

    log = File.read(File.join(SpecRailsApp.root, "log", "test.log"))
    line = log.lines.grep(/\[AssistantChatNative\] turn conversation=#{conversation.id} /)
    expect(line.size).to eq(1)
    expect(line.first).to include("model=claude-sonnet provider=anthropic status=completed rounds=2", "tokens=100/15",
      "cache=30/10", "cost=$0.000381")
    expect(log).not_to include(WorkerHarness::API_KEY)
    expect(events.inspect).not_to include(WorkerHarness::API_KEY)
  end

  it "publishes each stream while the turn still runs, before the next request starts" do
    requests_when_published = []
    subscription = ActiveSupport::Notifications.subscribe("stream.assistant_chat_native") do |event|
      requests_when_published << [event.payload[:round], provider.requests.size]
    end
    provider.enqueue(tool_calls: [{name: "query_database", id: "toolu_1", arguments: {"sql" => "SELECT 1"}}])
    provider.enqueue(tool_calls: [{name: "query_database", id: "toolu_2", arguments: {"sql" => "SELECT 2"}}])
    provider.enqueue(text: "Both ran.")
    AssistantChatWorker.perform_async(conversation.id, "Twice", "claude-sonnet", ["app_db"])
    broadcasts.wait_for_end

    expect(requests_when_published).to eq([[1, 1], [2, 2], [3, 3]])
  ensure
    ActiveSupport::Notifications.unsubscribe(subscription) if subscription
  end

  it "publishes a failed attempt with its failure kind before the retry that succeeded, once each" do
    events = record_events do
      provider.enqueue(status: 529, body: JSON.generate({"type" => "error", "error" => {"type" => "overloaded_error", "message" => "Overloaded"}}))
      provider.enqueue(text: "Answered on the second try.", usage: {input_tokens: 30, output_tokens: 6})
      AssistantChatWorker.perform_async(conversation.id, "Hello", "claude-sonnet")
      broadcasts.wait_for_end
    end

    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["Answered on the second try."])
    expect(events.map(&:first)).to eq(%i[stream stream turn])
    failed, succeeded = events.first(2).map(&:last)
    expect(failed).to include(round: 1, attempt: 1, attempts: 1, status: 529, retried_after: [], failure_kind: :overloaded,
      stop_reason: nil, input_tokens: 0, output_tokens: 0, time_to_first_token: nil)
    expect(succeeded).to include(round: 1, attempt: 2, attempts: 2, status: 200, retried_after: [:overloaded],
      failure_kind: nil, stop_reason: :end_turn, input_tokens: 30, output_tokens: 6)
    expect(events.last.last).to include(status: :completed, rounds: 1, retries: 1, failure_kind: nil)
  end

  it "publishes every attempt of a turn that fails, the last with the kind it failed on" do
    events = record_events do
      provider.enqueue(status: 529, body: JSON.generate({"type" => "error", "error" => {"type" => "overloaded_error", "message" => "Overloaded"}}), times: 3)
      AssistantChatWorker.perform_async(conversation.id, "Hello", "claude-sonnet")
      broadcasts.wait_for_end
    end

    expect(events.map(&:first)).to eq(%i[stream stream stream turn])
    expect(events.first(3).map { |_, stream| stream.values_at(:attempt, :status, :retried_after, :failure_kind) })
      .to eq([[1, 529, [], :overloaded], [2, 529, [:overloaded], :overloaded], [3, 529, %i[overloaded overloaded], :overloaded]])
    expect(events.last.last).to include(status: :failed, failure_kind: :overloaded)
  end
end

RSpec.describe "AssistantChatWorker with sidekiq-status loaded", :worker_integration do
  include_context "a conversation the page watches"

  it "reports the rounds done as the job's progress" do
    expect(AssistantChatWorker.ancestors).to include(Sidekiq::Status::Worker)
    provider.enqueue(tool_calls: [{name: "query_database", id: "toolu_1", arguments: {"sql" => "SELECT 1"}}])
    provider.enqueue(text: "Two rounds.")
    jid = AssistantChatWorker.perform_async(conversation.id, "Go", "claude-sonnet", ["app_db"])
    broadcasts.wait_for_end
    status = WorkerHarness.wait_for_job(jid)
    expect(status).to include("at" => "2", "total" => AssistantChatNative.config.max_rounds.to_s)
  end
end

RSpec.describe "AssistantChatWorker on each provider", :worker_integration do
  include_context "a conversation the page watches"

  {"claude-sonnet" => "/v1/messages", "gpt" => "/v1/chat/completions",
   "gemini-pro" => "/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent"}.each do |model, path|
    it "runs a tool-calling turn on #{model} and saves the reply" do
      provider.enqueue(tool_calls: [{name: "query_database", id: "call_1", arguments: {"sql" => "SELECT 1"}}])
      provider.enqueue(text: "Answer from #{model}.")
      AssistantChatWorker.perform_async(conversation.id, "Hello", model, ["app_db"])
      broadcasts.wait_for_end
      expect(broadcasts.of(:error)).to be_empty
      expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["Answer from #{model}."])
      expect(provider.requests.map(&:path)).to eq([path, path])
      expect(Message.where(conversation_id: conversation.id, role: "assistant").pluck(:content, :model))
        .to eq([["Answer from #{model}.", model]])
    end
  end

  it "escalates a Gemini body-less 400 to ESCALATION_MODEL and saves which model answered" do
    provider.enqueue(status: 400, body: "", provider: :gemini)
    provider.enqueue(text: "Answered by the escalation model.", provider: :anthropic)
    AssistantChatWorker.perform_async(conversation.id, "Hello", "gemini-flash")
    broadcasts.wait_for_end
    expect(broadcasts.of(:error)).to be_empty
    expect(broadcasts.of(:complete).map { |event| [event["text"], event["model"]] })
      .to eq([["Answered by the escalation model.", AssistantChatWorker::ESCALATION_MODEL]])
    expect(Message.where(conversation_id: conversation.id, role: "assistant").pluck(:model)).to eq(["claude-sonnet"])
    log = File.read(File.join(SpecRailsApp.root, "log", "test.log"))
    expect(log).to match(/turn conversation=#{conversation.id} model=claude-sonnet \(escalated from gemini-flash\)/)
  end
end
