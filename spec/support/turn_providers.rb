# frozen_string_literal: true

require "logger"

# Records every handler call, in order; cancels on demand.
class RecordingTurnHandler
  attr_reader :calls
  attr_accessor :cancel_when

  def initialize
    @calls = []
    @lock = Mutex.new
    @cancel_when = nil
  end

  %i[on_round on_text on_text_reset on_thinking on_tool_call on_status on_tool_result on_retry
    on_compaction on_escalation on_heartbeat].each do |name|
    define_method(name) { |*arguments| @lock.synchronize { @calls << [name, *arguments] } }
  end

  def cancelled?
    @cancel_when ? @cancel_when.call(self) : false
  end

  def of(name)
    @lock.synchronize { @calls.select { |call| call.first == name }.map { |call| call.drop(1) } }
  end
end

# Per provider: its low/high-tier registry keys and model ids, the status it answers when
# overloaded, its auth header; and its documented context-overflow error body.
module TurnProviders
  # The documented request shape of each provider, and its low/high-tier registry keys.
  MODELS = {
    anthropic: {high: "claude-sonnet", low: "claude-haiku", high_id: "claude-sonnet-5-5", low_id: "claude-haiku-5-5",
                overloaded: 529, auth: ["x-api-key", "test-key"]},
    openai: {high: "gpt", low: "gpt-mini", high_id: "gpt-6.1-sol", low_id: "gpt-6.1-terra", overloaded: 503,
             auth: ["authorization", "Bearer test-key"]},
    gemini: {high: "gemini-pro", low: "gemini-flash", high_id: "gemini-3.1-pro-preview", low_id: "gemini-3.8-flash",
             overloaded: 503, auth: ["x-goog-api-key", "test-key"]}
  }.freeze

  CONTEXT_OVERFLOW = {
    anthropic: {"type" => "error", "error" => {"type" => "invalid_request_error",
                                               "message" => "prompt is too long: 208317 tokens > 200000 maximum"}},
    openai: {"error" => {"message" => "This model's maximum context length is 128000 tokens. However, your messages " \
      "resulted in 130512 tokens. Please reduce the length of the messages.", "type" => "invalid_request_error",
                         "param" => "messages", "code" => "context_length_exceeded"}},
    gemini: {"error" => {"code" => 400, "message" => "The input token count (1200000) exceeds the maximum number " \
      "of tokens allowed (1048576).", "status" => "INVALID_ARGUMENT"}}
  }.freeze
end

# The Configuration the Turn specs run on: retries, stalls, cancel polls and flushes short
# enough that a fault costs a fraction of a second, no heartbeat in the way, no log. The
# block registers the spec's models.
module QuickTurnConfig
  TIMES = {retry_base_delay: 0.01, retry_max_delay: 0.05, stall_timeout: 0.5, cancel_poll_interval: 0.05,
           broadcast_interval: 0.01, heartbeat_interval: 30}.freeze

  def self.build
    AssistantChatNative::Configuration.new.tap do |config|
      TIMES.each { |name, value| config.public_send(:"#{name}=", value) }
      config.logger = Logger.new(nil)
      yield config
    end
  end
end

# What the Turn specs ask: "Weather in Paris and Rome?" with a get_weather tool that records
# its calls, a RecordingTurnHandler, #turn(model) on the spec's `config`, and #bodies, the
# request bodies LocalProvider recorded.
RSpec.shared_context "a weather turn" do
  let(:handler) { RecordingTurnHandler.new }
  let(:weather_calls) { [] }
  let(:weather) do
    calls = weather_calls
    AssistantChatNative::Tool.new(name: "get_weather", description: "Current weather for a city",
      input_schema: {type: "object", properties: {city: {type: "string"}}, required: ["city"]}) do |arguments|
      calls << arguments
      "sunny in #{arguments["city"]}"
    end
  end
  let(:question) { [{role: "user", content: "Weather in Paris and Rome?"}] }
  let(:two_cities) { [{name: "get_weather", arguments: {city: "Paris"}}, {name: "get_weather", arguments: {city: "Rome"}}] }

  def turn(model, messages: question, tools: [weather], **options)
    described_class.new(model: model, system: "Answer briefly.", messages: messages, tools: tools,
      handler: handler, config: config, **options)
  end

  def bodies
    local_provider.requests.map(&:json)
  end
end
