# frozen_string_literal: true

require "spec_helper"
require "logger"
require "securerandom"
require "socket"
require "stringio"
require "active_support"
require "active_support/json"

# A key planted wherever an attacker or an accident could put one (the API key, a base
# URL's userinfo and query, a provider's error body, a mid-stream error event, a tool's
# and a host hook's exception message) must never come back out: not in a log, an error
# report, a notification payload, a broadcast, nor in the inspect, to_h or JSON of any
# public object (ActiveSupport loaded, as in a Rails app).
module PlantedKey
  # What must never show: the whole key and its random core (a kept prefix would show it).
  CORE = SecureRandom.hex(12)
  KEY = "sk-ant-api03-#{CORE}-planted"

  # Every text a thing can be turned into by a logger, a reporter or a serializer.
  def self.renderings(thing)
    texts = [thing.inspect, thing.to_s]
    texts << thing.to_json
    texts << thing.as_json.to_s
    texts << thing.to_h.to_s if thing.respond_to?(:to_h) && !thing.is_a?(Enumerable)
    if thing.is_a?(Exception)
      texts << thing.message << thing.full_message(highlight: false)
      cause = thing.cause
      while cause
        texts << cause.message << cause.inspect
        cause = cause.cause
      end
      texts.concat(renderings(thing.failure)) if thing.respond_to?(:failure) && thing.failure
    end
    texts
  end
end

RSpec.shared_context "planted key scan" do
  # labelled => text; each must be free of the key (a failure names where it showed).
  def expect_no_planted_key(found)
    leaks = found.flat_map do |label, texts|
      Array(texts).filter_map do |text|
        text = text.to_s
        at = text.index(PlantedKey::CORE)
        "#{label}: ...#{text[[at - 80, 0].max, 160]}..." if at
      end
    end
    expect(leaks).to be_empty, "the planted key showed in:\n#{leaks.join("\n")}"
  end

  def renderings_of(things)
    things.to_h { |label, thing| [label, PlantedKey.renderings(thing)] }
  end
end

RSpec.describe "A planted API key, through Turn, Stream and RubyStream" do
  include_context "planted key scan"

  # Records every handler call, its arguments rendered as the host might log them.
  let(:handler_class) do
    Class.new do
      attr_reader :calls

      def initialize
        @calls = []
      end

      %i[on_round on_text on_text_reset on_thinking on_tool_call on_status on_tool_result on_retry on_compaction
        on_escalation on_heartbeat on_stream_end].each do |name|
        define_method(name) { |*arguments| @calls << [name, *arguments] }
      end
    end
  end
  let(:log) { StringIO.new }
  let(:userinfo_base) { local_provider.base_url_for(:anthropic).sub("http://", "http://relay:#{PlantedKey::KEY}@") }
  let(:config) do
    AssistantChatNative::Configuration.new.tap do |config|
      config.retry_base_delay = 0.01
      config.retry_max_delay = 0.02
      config.stall_timeout = 1
      config.broadcast_interval = 0.01
      config.logger = Logger.new(log)
      config.models.register("claude-sonnet", provider: :anthropic, model_id: "claude-sonnet-5-5",
        base_url: userinfo_base, api_key: PlantedKey::KEY)
      config.models.register("gpt", provider: :openai, model_id: "gpt-6.1-sol",
        base_url: local_provider.base_url_for(:openai), api_key: PlantedKey::KEY)
      # Never streamed: a query on a base URL is shown, not sent.
      config.models.register("gateway", provider: :gemini, model_id: "gemini-3.1-pro-preview",
        base_url: "https://gw.example/gemini?key=#{PlantedKey::KEY}", api_key: PlantedKey::KEY)
    end
  end
  let(:leaky_tool) do
    AssistantChatNative::Tool.new(name: "query_database", description: "Runs SQL",
      input_schema: {type: "object", properties: {sql: {type: "string"}}}) do |_arguments|
      raise IOError, "could not read /srv/app/.env: ANTHROPIC_API_KEY=#{PlantedKey::KEY}"
    end
  end
  let(:error_body) do
    JSON.generate({"type" => "error", "error" => {"type" => "authentication_error",
                                                  "message" => "invalid x-api-key: #{PlantedKey::KEY}"}})
  end

  def run_turn(model, stream_class:)
    config.stream_class = stream_class
    handler = handler_class.new
    turn = AssistantChatNative::Turn.new(model: model, system: "Answer briefly.",
      messages: [{role: "user", content: "Sales by state?"}], tools: [leaky_tool], handler: handler, config: config)
    outcome = HostileInput.in_worker_thread { turn.run }
    [turn, outcome, handler]
  end

  def everything_from(turn, outcome, handler)
    renderings_of(
      "config" => config, "registry" => config.models, "turn" => turn, "outcome" => outcome,
      "outcome.failure" => outcome.failure, "outcome.state" => outcome.state.to_h,
      "outcome.transcript" => outcome.transcript, "outcome.round_stats" => outcome.round_stats,
      **config.models.to_h { |entry| ["entry #{entry.key}", entry] }
    ).merge("handler calls" => handler.calls.map(&:inspect) + [handler.calls.to_json], "log" => log.string)
  end

  [AssistantChatNative::RubyStream, (AssistantChatNative::Stream if AssistantChatNative.native?)].compact.each do |stream_class|
    context "streamed by #{stream_class.name}" do
      it "keeps a key echoed in a provider's error body out of the failure, the outcome and the log" do
        local_provider.enqueue(status: 401, body: error_body)

        turn, outcome, handler = run_turn("claude-sonnet", stream_class: stream_class)

        expect(outcome.failure.kind).to eq(:authentication)
        expect(outcome.failure.detail).to include("invalid x-api-key: [redacted]")
        expect(local_provider.requests.map { |request| request.header("x-api-key") }).to eq([PlantedKey::KEY])
        expect_no_planted_key(everything_from(turn, outcome, handler))
      end

      it "keeps a key in a mid-stream error event out of the failure and the outcome" do
        local_provider.enqueue(text: "Partial answer", error_event: {after: 1, type: "invalid_request_error",
                                                                     message: "Bad key #{PlantedKey::KEY} for this request"})

        turn, outcome, handler = run_turn("claude-sonnet", stream_class: stream_class)

        expect(outcome).to be_failed
        expect(outcome.failure.detail).to include("Bad key [redacted]")
        expect_no_planted_key(everything_from(turn, outcome, handler))
      end

      it "keeps a key in a tool's exception out of the log, the transcript sent back and the outcome" do
        local_provider.enqueue(tool_calls: [{name: "query_database", arguments: {sql: "SELECT 1"}}])
        local_provider.enqueue(text: "The tool failed.")

        turn, outcome, handler = run_turn("gpt", stream_class: stream_class)

        expect(outcome).to be_completed
        result = outcome.transcript.flat_map { |message| Array(message["content"]) }.find { |part| part["type"] == "tool_result" }
        expect(result["content"]).to eq("IOError: could not read /srv/app/.env: ANTHROPIC_API_KEY=[redacted]")
        expect(log.string).to include("ANTHROPIC_API_KEY=[redacted]")
        sent_back = local_provider.requests.last.body
        expect_no_planted_key(everything_from(turn, outcome, handler).merge("second request body" => sent_back))
      end
    end
  end

  [AssistantChatNative::RubyStream, (AssistantChatNative::Stream if AssistantChatNative.native?)].compact.each do |stream_class|
    it "keeps a key in the URL's userinfo and query and in the headers out of #{stream_class.name} and its result" do
      local_provider.enqueue(status: 400, body: JSON.generate({"error" => {"code" => 400, "status" => "INVALID_ARGUMENT",
                                                                           "message" => "API key not valid: key=#{PlantedKey::KEY}"}}))
      url = local_provider.endpoint_for(:gemini, model: "gemini-3.1-pro-preview").sub("http://", "http://relay:#{PlantedKey::KEY}@") +
        "&key=#{PlantedKey::KEY}"
      stream = stream_class.new(provider: :gemini, url: url, headers: {"x-goog-api-key" => PlantedKey::KEY},
        body: JSON.generate(contents: [{role: "user", parts: [{text: "Hi"}]}]))

      result = HostileInput.in_worker_thread { stream.run(handler_class.new) }

      expect(result.failure).not_to be_nil
      expect(local_provider.last_request.query["key"]).to eq(PlantedKey::KEY)
      expect(stream.inspect).to include("http://[FILTERED]@127.0.0.1:")
      expect_no_planted_key(renderings_of("stream" => stream, "result" => result, "failure" => result.failure,
        "stats" => result.stats))
    end

    it "keeps a key in the URL out of #{stream_class.name}'s failure when nothing listens there" do
      port = TCPServer.open("127.0.0.1", 0).then { |server| server.addr[1].tap { server.close } }
      stream = stream_class.new(provider: :gemini, headers: {"x-goog-api-key" => PlantedKey::KEY}, body: "{}",
        url: "http://relay:#{PlantedKey::KEY}@127.0.0.1:#{port}/v1beta/models/m:streamGenerateContent?alt=sse&key=#{PlantedKey::KEY}")

      result = HostileInput.in_worker_thread { stream.run(handler_class.new) }

      expect(result.failure.kind).to eq(:connection_failed)
      expect_no_planted_key(renderings_of("stream" => stream, "result" => result, "failure" => result.failure))
    end
  end
end

RSpec.describe "A planted API key, through the worker", :worker_integration do
  include_context "planted key scan"

  before(:all) do
    WorkerHarness.setup!
    # Hosts whose hook raises a database error quoting the key (PostgreSQL quotes the
    # value: invalid input syntax for type integer: "sk-..."): before the turn starts
    # (system_prompt), and inside it (the cancellation check runs before each round).
    leak = -> { ActiveRecord::Base.connection.select_value("SELECT CAST('#{PlantedKey::KEY}' AS integer)") }
    unless defined?(::PlantedKeyPromptWorker)
      Object.const_set(:PlantedKeyPromptWorker, Class.new(::AssistantChatWorker) { define_method(:system_prompt) { |_context| leak.call } })
      Object.const_set(:PlantedKeyCancelWorker, Class.new(::AssistantChatWorker) { define_method(:cancelled?) { leak.call } })
    end
  end

  include_context "a user's conversation the page watches"
  let(:events) { [] }
  let!(:subscription) do
    ActiveSupport::Notifications.subscribe(/\.assistant_chat_native\z/) do |name, _start, _finish, _id, payload|
      events << [name, payload.dup]
    end
  end

  around do |example|
    saved = AssistantChatNative::Worker.settings.error_messages
    example.run
  ensure
    AssistantChatNative::Worker.settings.error_messages = saved
  end

  after do
    ActiveSupport::Notifications.unsubscribe(subscription)
  end

  def plant_key_in_models!
    AssistantChatNative.config.models.to_a.each do |entry|
      AssistantChatNative.config.models.register(entry.key, provider: entry.provider, model_id: entry.model_id,
        tier: entry.tier, api_key: PlantedKey::KEY,
        base_url: provider.base_url_for(entry.provider).sub("http://", "http://relay:#{PlantedKey::KEY}@"))
    end
  end

  def run_job(worker_class, ending:)
    worker_class.perform_async(conversation.id, "Show me sales by state", "claude-sonnet", ["app_db"], {"user_id" => user.id})
    broadcasts.wait_for_end(timeout: 30)
    WorkerHarness.wait_until(timeout: 5, message: "the #{ending} broadcast") { broadcasts.of(ending).any? }
    if ending == :error
      WorkerHarness.wait_until(message: "the error count") { Conversation.find(conversation.id).error_count.positive? }
    end
  end

  def logs
    %w[test.log sidekiq.log].map { |name| File.read(File.join(SpecRailsApp.root, "log", name)) }
  end

  # Logs, reports, notification payloads, broadcasts, and the public objects the gem
  # keeps (configuration, settings, registry entries).
  def everything(reports)
    {"logs" => logs, "broadcasts" => [broadcasts.events.to_json],
     "notification payloads" => events.map(&:inspect) + events.map { |_, payload| payload.except(:exception_object).to_json },
     "report custom data" => reports.map { |report| report[:custom_data].inspect } + reports.map { |report| report[:custom_data].to_json }}
      .merge(renderings_of(reports.each_with_index.to_h { |report, index| ["reported error #{index}", report[:error]] }))
      .merge(renderings_of("config" => AssistantChatNative.config, "registry" => AssistantChatNative.config.models,
        **AssistantChatNative.config.models.to_h { |entry| ["entry #{entry.key}", entry] }))
      .merge("worker settings" => [AssistantChatNative::Worker.settings.inspect])
  end

  it "keeps a key echoed in a provider's error body out of logs, the report, payloads and broadcasts" do
    plant_key_in_models!
    provider.enqueue(status: 401, body: JSON.generate({"type" => "error", "error" => {"type" => "authentication_error",
                                                                                      "message" => "invalid x-api-key: #{PlantedKey::KEY}"}}))

    run_job(AssistantChatWorker, ending: :error)

    expect(provider.requests.map { |request| request.header("x-api-key") }).to eq([PlantedKey::KEY])
    reports = WorkerHarness.wait_until(timeout: 5, message: "a report") { WorkerHarness.reports.presence }
    expect(reports.first[:custom_data][:response_body]).to include("invalid x-api-key: [redacted]")
    expect(events.map(&:first)).to include("stream.assistant_chat_native", "turn.assistant_chat_native")
    expect_no_planted_key(everything(reports))
  end

  it "keeps a key in a mid-stream error event and a tool's exception out of everything" do
    plant_key_in_models!
    AssistantChatNative::Worker.settings.tool_services.register("app_db") do |_context, _conversation|
      [AssistantChatNative::Tool.new(name: "query_database", description: "Runs SQL") { |_| raise "connect failed: password=#{PlantedKey::KEY}" }]
    end
    provider.enqueue(tool_calls: [{name: "query_database", arguments: {sql: "SELECT 1"}}])
    provider.enqueue(text: "Partial", error_event: {after: 1, type: "invalid_request_error", message: "key #{PlantedKey::KEY} revoked"})

    run_job(AssistantChatWorker, ending: :error)

    expect(broadcasts.of(:error).map { |event| event["text"] }).to eq(["key [redacted] revoked"])
    reports = WorkerHarness.wait_until(timeout: 5, message: "a report") { WorkerHarness.reports.presence }
    expect_no_planted_key(everything(reports).merge("requests" => provider.requests.map(&:body)))
  ensure
    WorkerHarness.configure_gem!
  end

  it "shows a host hook's exception redacted, and reports it with its class and redacted causes" do
    plant_key_in_models!

    run_job(PlantedKeyPromptWorker, ending: :error)

    copy = broadcasts.of(:error).map { |event| event["text"] }.first
    expect(copy).to include("invalid input syntax for type integer", "[redacted]")
    expect(copy.bytesize).to be <= AssistantChatNative::Redaction::MESSAGE_BYTES
    reports = WorkerHarness.wait_until(timeout: 5, message: "a report") { WorkerHarness.reports.presence }
    error = reports.first[:error]
    expect(error).to be_a(ActiveRecord::StatementInvalid)
    expect(error.backtrace).to include(a_string_matching(/secrets_spec\.rb/))
    expect(error.cause).to be_a(PG::InvalidTextRepresentation)
    expect(error.cause.message).to include("[redacted]")
    expect(logs.first).to include("invalid input syntax for type integer")
    expect_no_planted_key(everything(reports))
  end

  it "puts the redacted exception in the turn event's payload when a hook raises inside the turn" do
    plant_key_in_models!

    run_job(PlantedKeyCancelWorker, ending: :error)

    reports = WorkerHarness.wait_until(timeout: 5, message: "a report") { WorkerHarness.reports.presence }
    turn_event = events.find { |name, _| name == "turn.assistant_chat_native" }
    expect(turn_event.last[:exception]).to eq(["ActiveRecord::StatementInvalid", reports.first[:error].message])
    expect(turn_event.last[:exception_object]).to be_a(ActiveRecord::StatementInvalid)
    expect(turn_event.last[:exception].last).to include("invalid input syntax for type integer", "[redacted]")
    expect_no_planted_key(everything(reports))
  end

  it "shows generic copy for the same exception when error_messages is :generic, and still redacts the report" do
    AssistantChatNative::Worker.settings.error_messages = :generic
    plant_key_in_models!

    run_job(PlantedKeyPromptWorker, ending: :error)

    expect(broadcasts.of(:error).map { |event| event["text"] }).to eq([AssistantChatNative::Worker::ErrorCopy::GENERIC])
    reports = WorkerHarness.wait_until(timeout: 5, message: "a report") { WorkerHarness.reports.presence }
    expect(reports.first[:error].message).to include("invalid input syntax for type integer", "[redacted]")
    expect_no_planted_key(everything(reports))
  end
end
