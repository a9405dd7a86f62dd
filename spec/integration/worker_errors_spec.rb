# frozen_string_literal: true

require "spec_helper"

# What both groups below start from: a user, her conversation, the broadcasts a page
# would see, and the Anthropic error body the scripted failures send.
RSpec.shared_context "a conversation and what its page sees" do
  include_context "a user's conversation the page watches"

  def anthropic_error(type, message)
    JSON.generate({"type" => "error", "error" => {"type" => type, "message" => message}})
  end
end

RSpec.describe "AssistantChatWorker when a turn fails", :worker_integration do
  include_context "a conversation and what its page sees"

  def run_job(model: "claude-sonnet", tool_services: [])
    AssistantChatWorker.perform_async(conversation.id, "Show me sales by state", model, tool_services, {"user_id" => user.id})
    broadcasts.wait_for_end(timeout: 30)
    WorkerHarness.wait_until(message: "the error report") { Conversation.find(conversation.id).error_count.positive? }
    WorkerHarness.wait_until(timeout: 5, message: "the error broadcast") { broadcasts.of(:error).any? }
  end

  # The lock released, the error counted, one report with the seed's tag and
  # custom data, one error broadcast; returns [copy, report].
  def expect_failure_handled(model: "claude-sonnet")
    conversation.reload
    expect([conversation.processing_by_id, conversation.processing_since, conversation.processing_job_id]).to eq([nil, nil, nil])
    expect(conversation.error_count).to eq(1)
    expect(conversation.last_error_at).not_to be_nil

    reports = WorkerHarness.wait_until(timeout: 5, message: "a report") { WorkerHarness.reports.presence }
    expect(reports.size).to eq(1)
    report = reports.first
    expect(report[:user_id]).to eq(user.id)
    expect(report[:custom_data]).to include(worker: "AssistantChatWorker", conversation_id: conversation.id, model: model)
    expect(report[:custom_data].to_s).not_to include(WorkerHarness::API_KEY)

    errors = broadcasts.of(:error).map { |event| event["text"] }
    expect(errors.size).to eq(1)
    expect(broadcasts.of(:complete)).to be_empty
    expect(Message.where(conversation_id: conversation.id, role: "assistant")).to be_empty
    [errors.first, report]
  end

  it "reports an invalid model with the provider's words and tells the user the model is not available" do
    provider.enqueue(status: 404, body: anthropic_error("not_found_error", "model: claude-sonnet-9-9"))
    run_job
    copy, report = expect_failure_handled
    # The same words as for a model key the registry does not know (one invalid-model copy).
    expect(copy).to eq("The selected AI model (claude-sonnet-9-9) isn't available. Please choose a different model.")
    expect(report[:error]).to be_a(AssistantChatNative::ProviderError::InvalidModel)
    expect(report[:custom_data][:response_body]).to include("model: claude-sonnet-9-9")
  end

  it "reads an unknown model key as an invalid model, naming it" do
    run_job(model: "no-such-model")
    copy, report = expect_failure_handled(model: "no-such-model")
    expect(copy).to eq("The selected AI model (no-such-model) isn't available. Please choose a different model.")
    expect(report[:error]).to be_a(AssistantChatNative::ConfigurationError)
    expect(provider.requests).to be_empty
  end

  it "tells the user the provider rejected the credentials on a 401, without the key" do
    provider.enqueue(status: 401, body: anthropic_error("authentication_error", "invalid x-api-key"))
    run_job
    copy, report = expect_failure_handled
    expect(copy).to match(/api key|credential|authenticat|sign in/i)
    expect(copy).not_to include(WorkerHarness::API_KEY)
    expect(report[:custom_data][:response_body]).to include("invalid x-api-key")
  end

  it "fails at once on a 429 whose retry-after is longer than the turn will wait, saying when to retry" do
    provider.enqueue(status: 429, headers: {"retry-after" => "120"}, body: anthropic_error("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"))
    run_job
    copy, report = expect_failure_handled
    expect(copy).to match(/busy|rate|too many|limit/i)
    expect(copy).to match(/120 seconds|try again after/i)
    expect(provider.requests.size).to eq(1)
    expect(report[:custom_data][:response_body]).to include("per-minute rate limit")
  end

  it "gives up after three overloaded answers with the overloaded copy" do
    provider.enqueue(status: 529, body: anthropic_error("overloaded_error", "Overloaded"), times: 3)
    run_job
    copy, report = expect_failure_handled
    expect(copy).to match(/overloaded|busy/i)
    expect(provider.requests.size).to eq(3)
    expect(report[:custom_data][:response_body]).to include("Overloaded")
  end

  it "gives up after three server errors" do
    provider.enqueue(status: 500, body: anthropic_error("api_error", "Internal server error"), times: 3)
    run_job
    copy, _report = expect_failure_handled
    expect(copy).to match(/error|try again/i)
    expect(copy).not_to include("api_error")
    expect(provider.requests.size).to eq(3)
  end

  it "fails a stream cut by a mid-stream error event after retrying it" do
    provider.enqueue(text: "Partial answer that breaks", error_event: {after: 1, type: "overloaded_error", message: "Overloaded"}, times: 3)
    run_job
    copy, _report = expect_failure_handled
    expect(copy).to match(/overloaded|busy|try again/i)
    expect(broadcasts.of(:error).size).to eq(1)
  end

  it "fails with copy about connecting when the provider cannot be reached" do
    closed_port = TestServices.free_port
    AssistantChatNative.config.models.register("claude-unreachable", provider: :anthropic, model_id: "claude-sonnet-5-5",
      tier: :high, base_url: "http://127.0.0.1:#{closed_port}", api_key: WorkerHarness::API_KEY)
    run_job(model: "claude-unreachable")
    copy, _report = expect_failure_handled(model: "claude-unreachable")
    expect(copy).to match(/connect|reach/i)
  ensure
    AssistantChatNative.config.models.remove("claude-unreachable")
  end

  it "passes an unrecognised error message through as it is" do
    run_job(tool_services: ["no_such_service"])
    copy, report = expect_failure_handled
    expect(copy).to start_with('unknown tool service "no_such_service"; registered: "app_db"')
    expect(report[:error]).to be_a(AssistantChatNative::ConfigurationError)
  end

  it "never leaves the API key in the log" do
    provider.enqueue(status: 401, body: anthropic_error("authentication_error", "invalid x-api-key"))
    run_job
    expect_failure_handled
    log = File.read(File.join(SpecRailsApp.root, "log", "test.log"))
    expect(log).to include("invalid x-api-key")
    expect(log).not_to include(WorkerHarness::API_KEY)
  end
end

RSpec.describe "AssistantChatWorker when the conversation outgrows the model", :worker_integration do
  include_context "a conversation the page watches"
  let(:overflow) do
    JSON.generate({"type" => "error", "error" => {"type" => "invalid_request_error",
                                                  "message" => "prompt is too long: 215000 tokens > 200000 maximum"}})
  end

  def seed_history(exchanges)
    exchanges.times do |index|
      Message.create!(conversation_id: conversation.id, role: "user", content: "Question #{index} " + ("x" * 200), job_id: "old-#{index}")
      Message.create!(conversation_id: conversation.id, role: "assistant", content: "Answer #{index}", job_id: "old-#{index}", status: "completed")
    end
  end

  it "compacts the history and answers when a shorter history fits" do
    seed_history(6)
    provider.enqueue(status: 400, body: overflow)
    provider.enqueue(text: "Answered after compaction.")
    AssistantChatWorker.perform_async(conversation.id, "And now?", "claude-sonnet")
    broadcasts.wait_for_end
    expect(broadcasts.of(:error)).to be_empty
    expect(broadcasts.of(:status).map { |event| event["text"] }).to eq(["Shortening the conversation to fit the model…"])
    expect(broadcasts.of(:complete).map { |event| event["text"] }).to eq(["Answered after compaction."])
    first, second = provider.requests.map { |request| request.json["messages"] }
    expect(second.size).to be < first.size
    expect(second.last["content"].to_s).to include("And now?")
  end

  it "gives up after MAX_COMPACTION_RETRIES compactions with copy that suggests a new conversation" do
    seed_history(6)
    provider.enqueue(status: 400, body: overflow, times: AssistantChatWorker::MAX_COMPACTION_RETRIES + 1)
    AssistantChatWorker.perform_async(conversation.id, "And now?", "claude-sonnet")
    broadcasts.wait_for_end
    WorkerHarness.wait_until(message: "the error broadcast") { broadcasts.of(:error).any? }
    expect(broadcasts.of(:error).map { |event| event["text"] }.first).to match(/new conversation/i)
    expect(provider.requests.size).to eq(AssistantChatWorker::MAX_COMPACTION_RETRIES + 1)
    conversation.reload
    expect([conversation.processing_by_id, conversation.error_count]).to eq([nil, 1])
    expect(WorkerHarness.reports.first[:custom_data][:response_body]).to include("prompt is too long")
  end
end

RSpec.describe "AssistantChatWorker when the user cancels", :worker_integration do
  include_context "a conversation the page watches"

  it "stops streaming soon after cancel_requested_at is set, keeps what was shown and releases the lock" do
    provider.enqueue(text: (1..300).map { |index| "w#{index}" }.join(" "), token_rate: 30)
    AssistantChatWorker.perform_async(conversation.id, "Long one", "claude-sonnet")
    WorkerHarness.wait_until(message: "streaming") { broadcasts.of(:chunk).any? }
    conversation.update_columns(cancel_requested_at: Time.current)
    cancelled_at = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    broadcasts.wait_for_end
    expect(Process.clock_gettime(Process::CLOCK_MONOTONIC) - cancelled_at).to be < 3
    complete = broadcasts.of(:complete)
    expect(complete.size).to eq(1)
    expect(complete.first["cancelled"]).to be(true)
    expect(complete.first["text"]).to start_with("w1 w2")
    expect(complete.first["text"]).not_to include("w300")
    expect(broadcasts.of(:error)).to be_empty
    expect(conversation.reload.processing_by_id).to be_nil
    expect(Message.where(conversation_id: conversation.id, role: "assistant").pluck(:status)).to eq(["cancelled"])
  end
end

RSpec.describe "AssistantChatWorker on more failure kinds", :worker_integration do
  include_context "a conversation and what its page sees"

  # Runs one job on the scripts given and returns [copy, report] after checking
  # the lock is released, the error counted and reported once.
  def fail_with(model: "claude-sonnet")
    yield
    AssistantChatWorker.perform_async(conversation.id, "Show me sales", model, [], {"user_id" => user.id})
    broadcasts.wait_for_end(timeout: 30)
    WorkerHarness.wait_until(message: "the error broadcast") { broadcasts.of(:error).any? }
    conversation.reload
    expect([conversation.processing_by_id, conversation.processing_job_id, conversation.error_count]).to eq([nil, nil, 1])
    reports = WorkerHarness.wait_until(timeout: 5, message: "a report") { WorkerHarness.reports.presence }
    expect(reports.size).to eq(1)
    expect(reports.first[:user_id]).to eq(user.id)
    copies = broadcasts.of(:error).map { |event| event["text"] }
    expect(copies.size).to eq(1)
    [copies.first, reports.first]
  end

  it "explains a stream that stalls on every attempt" do
    AssistantChatNative.config.stall_timeout = 0.5
    copy, report = fail_with { provider.enqueue(text: "one two three four five", stall_after: 2, stall_for: 5, times: 3) }
    expect(copy).to match(/stopped|stall|took too long|try again/i)
    expect(report[:error].failure.kind).to eq(:stalled)
  end

  it "explains a key that may not use the model (403)" do
    copy, report = fail_with { provider.enqueue(status: 403, body: anthropic_error("permission_error", "Your API key does not have permission to use the specified resource.")) }
    expect(report[:error].failure.kind).to eq(:permission)
    expect(report[:custom_data][:response_body]).to include("does not have permission")
    expect(copy).to match(/permission|not allowed|access|administrator/i)
  end

  it "explains an exhausted quota" do
    copy, report = fail_with(model: "gpt") do
      provider.enqueue(status: 429, body: JSON.generate({"error" => {"message" => "You exceeded your current quota, please check your plan and billing details.",
                                                                     "type" => "insufficient_quota", "code" => "insufficient_quota"}}))
    end
    expect(report[:error].failure.kind).to eq(:quota_exhausted)
    expect(copy).to match(/quota|credit|billing|usage|limit|administrator/i)
  end

  it "explains a refusal without any text" do
    copy, report = fail_with { provider.enqueue(text: "", stop_reason: "refusal") }
    expect(report[:error].failure.kind).to eq(:refusal)
    expect(copy).to match(/declin|refus|can't help|cannot help|won't/i)
  end
end
