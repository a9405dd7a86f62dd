# frozen_string_literal: true

# What a chat turn does whatever queue runs it: the seed's worker's behaviours, stated
# once and run against AssistantChatWorker on Sidekiq (spec/integration/worker_queue_spec.rb)
# and AssistantChatJob on Solid Queue (spec/integration/active_job_spec.rb).
#
# The including group defines:
#   job_class           the app's job class
#   enqueue_on(klass, *args)  enqueues a turn of klass on its queue; returns the job's id (jid, job_id)
#   wait_for_job(id)    waits until the queue saw that job's perform return, ensure included
#   busy_rerun_enqueued?  whether a continuation that found the conversation busy is
#                       waiting on the queue to run again
RSpec.shared_examples "a queue that runs chat turns" do
  include_context "a user's conversation the page watches"

  after do
    AssistantChatNative.config.max_rounds = 10
    job_class.settings.continuation_retry_delay = 1.0
  end

  def enqueue(*arguments)
    enqueue_on(job_class, *arguments)
  end

  def rows
    Message.where(conversation_id: conversation.id).order(:id)
  end

  def lock_columns
    Conversation.where(id: conversation.id).pick(:processing_by_id, :processing_since, :processing_job_id)
  end

  it "streams a reply, saves both messages under the job's id and releases the lock" do
    provider.enqueue(text: "Hello Dana, sales are up.")
    id = enqueue(conversation.id, "How are sales?", "claude-sonnet", [], {"user_id" => user.id, "name" => "Dana"})
    broadcasts.wait_for_end
    wait_for_job(id)

    expect(broadcasts.of(:lock).map { |event| event["locked"] }).to eq([true, false])
    expect(broadcasts.of(:chunk).map { |event| event["delta"] }.join).to eq("Hello Dana, sales are up.")
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["Hello Dana, sales are up."])
    expect(rows.map { |row| [row.role, row.content, row.status, row.job_id] })
      .to eq([["user", "How are sales?", nil, id], ["assistant", "Hello Dana, sales are up.", "completed", id]])
    expect(lock_columns).to eq([nil, nil, nil])
    expect(provider.requests.last.json["system"].to_s).to include("name: Dana")
  end

  it "takes the seed's single Hash of arguments" do
    provider.enqueue(text: "From the Hash.")
    enqueue("conversation_id" => conversation.id, "user_message" => "Hi", "model" => "claude-sonnet",
      "tool_services" => [], "user_context" => {"user_id" => user.id}, "upload_ids" => [])
    broadcasts.wait_for_end
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["From the Hash."])
  end

  it "takes the seed's usage comment verbatim (symbol keys)" do
    provider.enqueue(text: "From the keywords.")
    enqueue(conversation_id: conversation.id, user_message: "Show me sales by state", model: "claude-sonnet")
    broadcasts.wait_for_end
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["From the keywords."])
    expect(rows.first.content).to eq("Show me sales by state")
  end

  it "runs a tool round: the status line, the tool's result sent back, the transcript saved" do
    provider.enqueue(tool_calls: [{name: "query_database", id: "toolu_1", arguments: {"sql" => "SELECT state FROM sales"}}])
    provider.enqueue(text: "California leads.")
    enqueue(conversation.id, "Sales by state", "claude-sonnet", ["app_db"], {"user_id" => user.id, "name" => "Dana"})
    broadcasts.wait_for_end

    expect(broadcasts.of(:status).map { |event| event["text"] }).to eq(["Querying the database: SELECT state FROM sales"])
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["California leads."])
    tool_result = provider.requests.last.json["messages"].last["content"].first
    expect(tool_result).to include("type" => "tool_result", "tool_use_id" => "toolu_1")
    expect(tool_result["content"].to_s).to include("asked_by", "Dana")
    expect(JSON.parse(rows.last.transcript).flat_map { |message| Array(message["content"]) })
      .to include(a_hash_including("type" => "tool_result", "tool_call_id" => "toolu_1"))
  end

  it "gives a second job on a conversation another job holds the busy copy, and it changes nothing" do
    holder = AdvisoryLockHolder.new(Conversation, conversation.processing_lock_key)
    conversation.update_columns(processing_by_id: user.id, processing_since: Time.current, processing_job_id: "live-job")
    id = enqueue(conversation.id, "Second question", "claude-sonnet", [], {"user_id" => user.id})
    wait_for_job(id)

    expect(broadcasts.events).to eq([{"type" => "error", "text" => AssistantChatNative::Worker::ErrorCopy::BUSY}])
    expect(Conversation.find(conversation.id).processing_job_id).to eq("live-job")
    expect(rows).to be_empty
    expect(provider.requests).to be_empty
  ensure
    holder&.release
  end

  it "releases the lock, counts and reports a provider error and shows the friendly copy" do
    provider.enqueue(status: 401, body: JSON.generate({"type" => "error",
                                                       "error" => {"type" => "authentication_error", "message" => "invalid x-api-key"}}))
    id = enqueue(conversation.id, "Hello", "claude-sonnet", [], {"user_id" => user.id})
    wait_for_job(id)

    expect(broadcasts.of(:error).size).to eq(1)
    expect(broadcasts.of(:error).first["text"]).to match(/api key|credential|authenticat|sign in/i)
    expect(broadcasts.of(:error).first["text"]).not_to include(WorkerHarness::API_KEY)
    expect(broadcasts.of(:lock).map { |event| event["locked"] }).to eq([true, false])
    expect(lock_columns).to eq([nil, nil, nil])
    expect(Conversation.find(conversation.id).error_count).to eq(1)
    reports = WorkerHarness.reports
    expect(reports.size).to eq(1)
    expect(reports.first[:user_id]).to eq(user.id)
    expect(reports.first[:custom_data]).to include(worker: job_class.name, conversation_id: conversation.id, model: "claude-sonnet")
    expect(provider.requests.size).to eq(1)
  end

  it "stops a turn the user cancels, keeping what was shown" do
    provider.enqueue(text: (1..300).map { |index| "w#{index}" }.join(" "), token_rate: 30)
    enqueue(conversation.id, "Long one", "claude-sonnet")
    WorkerHarness.wait_until(message: "streaming") { broadcasts.of(:chunk).any? }
    conversation.update_columns(cancel_requested_at: Time.current)
    broadcasts.wait_for_end

    complete = broadcasts.of(:complete)
    expect(complete.map { |event| event["cancelled"] }).to eq([true])
    expect(complete.first["text"]).to start_with("w1 w2")
    expect(complete.first["text"]).not_to include("w300")
    expect(rows.where(role: "assistant").pluck(:status)).to eq(["cancelled"])
    expect(lock_columns).to eq([nil, nil, nil])
  end

  it "hands a turn that needs more rounds to a continuation on the same queue, which finishes it" do
    AssistantChatNative.config.max_rounds = 2
    3.times do |index|
      provider.enqueue(tool_calls: [{name: "query_database", id: "toolu_#{index}", arguments: {"sql" => "SELECT #{index}"}}])
    end
    provider.enqueue(text: "All three queries agree.")
    first = enqueue(conversation.id, "Run three queries", "claude-haiku", ["app_db"], {"user_id" => user.id, "name" => "Dana"})
    broadcasts.wait_for_end(count: 2)

    expect(broadcasts.of(:error)).to be_empty
    expect(broadcasts.of(:lock).map { |event| event["locked"] }).to eq([true, false, true, false])
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["All three queries agree."])
    # One turn, one row: the continuation wrote the row the first job began.
    expect(rows.map { |row| [row.role, row.status, row.job_id] }).to eq([["user", nil, first], ["assistant", "completed", first]])
    expect(provider.requests.size).to eq(4)
    resumed = provider.requests[2].json
    expect(resumed["system"].to_s).to include("name: Dana")
    expect(resumed["tools"].map { |tool| tool["name"] }).to eq(["query_database"])
  end

  it "reruns a continuation that finds the conversation busy later, through the queue, until the lock is free" do
    AssistantChatNative.config.max_rounds = 1
    job_class.settings.continuation_retry_delay = 0.3
    provider.enqueue(tool_calls: [{name: "query_database", id: "toolu_0", arguments: {"sql" => "SELECT 1"}}])
    provider.enqueue(text: "One query was enough.")
    # The first job hands its turn over without enqueueing the continuation: the spec
    # enqueues it once the conversation is busy.
    stub_const("HandOver#{job_class.name}", Class.new(job_class) { private def schedule_continuation(**) = nil })
    first = enqueue_on(Object.const_get("HandOver#{job_class.name}"), conversation.id, "Run a query", "claude-haiku",
      ["app_db"], {"user_id" => user.id})
    wait_for_job(first)
    expect(rows.last.status).to eq("partial")
    chain_started_at = JSON.parse(rows.last.continuation_state).dig("job", "chain_started_at")

    holder = AdvisoryLockHolder.new(Conversation, conversation.processing_lock_key)
    enqueue("conversation_id" => conversation.id, "user_message" => nil, "model" => "claude-haiku",
      "tool_services" => ["app_db"], "user_context" => {"user_id" => user.id},
      "continuation" => {"chain_started_at" => chain_started_at})
    WorkerHarness.wait_until(message: "the busy continuation's rerun on the queue") { busy_rerun_enqueued? }
    expect(broadcasts.of(:error)).to be_empty
    holder.release
    WorkerHarness.wait_until(message: "the reply") { broadcasts.of(:complete).any? }

    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["One query was enough."])
    expect(broadcasts.of(:error)).to be_empty
    expect(rows.map { |row| [row.role, row.status] }).to eq([["user", nil], ["assistant", "completed"]])
  ensure
    holder&.release
  end

  it "takes over a column lock a crashed job left, since the advisory lock proves no holder is alive" do
    conversation.update_columns(processing_by_id: 999, processing_since: 2.hours.ago, processing_job_id: "crashed-job")
    provider.enqueue(text: "Taking over works.")
    id = enqueue(conversation.id, "Are you there?", "claude-sonnet", [], {"user_id" => user.id})
    broadcasts.wait_for_end
    wait_for_job(id)

    expect(broadcasts.of(:error)).to be_empty
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["Taking over works."])
    expect(lock_columns).to eq([nil, nil, nil])
    log = File.read(File.join(SpecRailsApp.root, "log", "test.log"))
    expect(log).to include("[#{job_class.name}] Stale processing lock on conversation #{conversation.id} (by_id=999",
      "job=crashed-job). Force-acquiring")
  end

  it "removes the attachments' tempfiles, on success and on failure" do
    upload = Upload.create!(filename: "notes.txt", content_type: "text/plain", data: "quarterly notes")
    before = Dir.glob(File.join(Dir.tmpdir, "acn-upload-*"))
    provider.enqueue(text: "I read your notes.")
    read = enqueue(conversation.id, "Summarize my notes", "claude-sonnet", [], {}, [upload.id])
    wait_for_job(read)
    document = provider.requests.last.json["messages"].last["content"].find { |part| part["type"] == "document" }
    expect(Base64.decode64(document.dig("source", "data"))).to eq("quarterly notes")
    expect(Dir.glob(File.join(Dir.tmpdir, "acn-upload-*")) - before).to be_empty

    provider.enqueue(status: 500, body: "", times: 3)
    failed = enqueue(conversation.id, "Again", "claude-sonnet", [], {}, [upload.id])
    wait_for_job(failed)
    expect(broadcasts.of(:error).size).to eq(1)
    expect(Dir.glob(File.join(Dir.tmpdir, "acn-upload-*")) - before).to be_empty
  end
end
