# frozen_string_literal: true

require "json"
require "open3"

# The scripts LocalProvider streams to the official SDKs and to the gem, the dialects
# that stream them, and both readings. A request names its scenario by its model
# ("sdk-tool-calls"), so an SDK's request and the gem's get the same script.
module SdkAgreement
  DIR = __dir__
  API_KEY = "sk-sdk-agreement-not-a-real-key"
  MODEL_PREFIX = "sdk-"

  # Input tokens are scripted in every scenario: unscripted, LocalProvider counts the
  # request's bytes, and an SDK's request is not the gem's.
  SCENARIOS = {
    "text" => {
      text: "Hello! Streamed in pieces, with \"quotes\", a\\backslash, naïve UTF-8: 日本語 and 👋.\nA second line.",
      usage: {input_tokens: 21}
    },
    "tool_calls" => {
      text: "Let me look both of those up.",
      tool_calls: [
        {id: "call_sdk_orders", name: "search_orders",
         arguments: {query: "late deliveries", limit: 5, filters: {status: ["shipped", "held"], since: "2026-11-01"},
                     include_archived: false, note: nil}},
        {id: "call_sdk_customer", name: "lookup_customer",
         arguments: {id: 4217, fields: ["name", "email"], score: 0.75, label: "Zoë — “VIP”"}}
      ],
      usage: {input_tokens: 240, output_tokens: 38}
    },
    # A call alone, without text or arguments: no text block, message item or content.
    "bare_tool_call" => {
      tool_calls: [{id: "call_sdk_refresh", name: "refresh_inbox", arguments: {}}],
      usage: {input_tokens: 90}
    },
    "thinking" => {
      thinking: "The user greets me. A short, friendly answer will do; no tool is needed.",
      signature: "sig-sdk-agreement",
      text: "Hi! How can I help today?",
      usage: {input_tokens: 64, output_tokens: 57}
    },
    "cached_usage" => {
      text: "Most of this prompt was read from the cache.",
      usage: {input_tokens: 1800, output_tokens: 12, cache_read_tokens: 1536, cache_write_tokens: 256}
    }
  }.freeze

  EVERY_SCENARIO = SCENARIOS.keys.freeze

  # One entry per streaming dialect, each of Providers.names: the key is the dialect's name
  # (the Stream's provider:, LocalProvider's endpoint, whose base URL the SDK is given) and
  # names the SDK's reader (readers/<key>.mjs); entry: what ModelRegistry::Entry needs to
  # build the gem's request in that dialect; scenarios: those the dialect can carry;
  # cache_writes: whether its usage reports tokens written to the cache.
  DIALECTS = {
    anthropic: {entry: {provider: :anthropic}, scenarios: EVERY_SCENARIO, cache_writes: true},
    # Chat Completions streams no reasoning.
    openai: {entry: {provider: :openai}, scenarios: EVERY_SCENARIO - ["thinking"], cache_writes: false},
    gemini: {entry: {provider: :gemini}, scenarios: EVERY_SCENARIO, cache_writes: false},
    # OpenAI's Responses API; its reasoning summaries are the thinking.
    openai_responses: {entry: {provider: :openai, api: :responses, effort: "low"}, scenarios: EVERY_SCENARIO,
                       cache_writes: false}
  }.freeze

  module_function

  # [[dialect, scenario], ...]
  def cases
    DIALECTS.flat_map { |dialect, options| options[:scenarios].map { |scenario| [dialect, scenario] } }
  end

  def model_for(scenario)
    "#{MODEL_PREFIX}#{scenario.tr("_", "-")}"
  end

  # The script for a request's model; a model no scenario names is a mistake in the check.
  def script_for(model)
    scenario = model.to_s.delete_prefix(MODEL_PREFIX).tr("-", "_")
    SCENARIOS.fetch(scenario) { raise ArgumentError, "no SDK agreement scenario is named by model #{model.inspect}" }
  end

  def entry_for(dialect, scenario, local_provider)
    AssistantChatNative::ModelRegistry::Entry.new(key: model_for(scenario), model_id: model_for(scenario),
      base_url: local_provider.base_url_for(dialect), api_key: API_KEY, **DIALECTS.fetch(dialect)[:entry])
  end

  # The gem's reading of one case, streamed as Turn streams a round: the entry's URL and
  # headers, the request its provider's builder makes. {"reading" =>} or {"error" =>}, as
  # read.mjs answers for an SDK.
  def gem_reading(stream_class, dialect, scenario, local_provider)
    entry = entry_for(dialect, scenario, local_provider)
    body = AssistantChatNative::Request.build(entry, system: "Answer briefly.",
      messages: [{role: "user", content: "Hello"}])
    result = stream_class.new(provider: dialect, url: entry.url, headers: entry.headers,
      body: JSON.generate(body)).run(Object.new)
    return {"error" => "#{result.failure.inspect}: #{result.failure.detail}"} unless result.success?

    {"reading" => reading(result)}
  end

  # What any reading of the scenario must hold, whoever reads it: the scripted text and
  # thinking, and the scripted usage counts the dialect reports.
  def scripted(dialect, scenario)
    script = SCENARIOS.fetch(scenario)
    usage = script[:usage].slice(:input_tokens, :output_tokens, :cache_read_tokens)
    usage[:cache_write_tokens] = script[:usage][:cache_write_tokens] if DIALECTS.fetch(dialect)[:cache_writes]
    JSON.parse(JSON.generate({text: script[:text].to_s, thinking: script[:thinking].to_s, usage: usage.compact}))
  end

  # The scripted tool calls' names and arguments (ids are each dialect's to send or not).
  def scripted_calls(scenario)
    calls = SCENARIOS.fetch(scenario).fetch(:tool_calls, [])
    JSON.parse(JSON.generate(calls.map { |call| call.slice(:name, :arguments) }))
  end

  # A Result in the terms readers/reading.mjs gives every SDK's reading.
  def reading(result)
    JSON.parse(JSON.generate({
      text: result.text, thinking: result.thinking, thinking_blocks: result.thinking_blocks,
      tool_calls: result.tool_calls.map { |call| {id: call.id, name: call.name, arguments: call.arguments} },
      usage: result.usage, stop_reason: result.provider_stop_reason
    }))
  end

  # A reading as two requests of one script can agree on it. LocalProvider names a thinking
  # block that carries an id (a reasoning item) after the request it answers, so the SDK's
  # request and the gem's get different ids: what must agree is that there is one.
  def comparable(reading)
    blocks = reading.fetch("thinking_blocks").map do |block|
      (block["id"].is_a?(String) && !block["id"].empty?) ? block.merge("id" => "(an id)") : block
    end
    reading.merge("thinking_blocks" => blocks)
  end

  # Every case read by the SDKs, in one node process: {[dialect, scenario] => {"reading" =>} or {"error" =>}}.
  def sdk_readings(local_provider)
    input = cases.map do |dialect, scenario|
      {dialect: dialect, scenario: scenario, model: model_for(scenario), api_key: API_KEY,
       base_url: local_provider.base_url_for(dialect)}
    end
    output, errors, status = Open3.capture3("node", "read.mjs", stdin_data: JSON.generate(input), chdir: DIR)
    raise "node read.mjs exited with #{status.exitstatus}:\n#{errors}" unless status.success?

    JSON.parse(output).to_h { |row| [[row.fetch("dialect").to_sym, row.fetch("scenario")], row] }
  end

  # Why the SDKs cannot run, or nil.
  def missing_sdks
    return "node is not on PATH" unless system("node", "--version", out: File::NULL, err: File::NULL)
    return nil if File.directory?(File.join(DIR, "node_modules", "@google", "genai"))

    "the SDKs are not installed in #{DIR}/node_modules (rake spec:sdk runs npm ci)"
  end
end
