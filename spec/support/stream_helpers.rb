# frozen_string_literal: true

require "json"

# Builds Streams (or RubyStreams) pointed at LocalProvider and records what their
# handler was told. The Stream specs `include StreamHelpers`.
module StreamHelpers
  SECRET = "sk-test-4f9c2a-never-printed"

  # A handler that records every callback; cancel_when decides cancelled?.
  class RecordingHandler
    attr_reader :texts, :thinking, :tool_calls, :heartbeats, :polls, :threads

    def initialize(cancel_when: nil, on_text: nil)
      @texts = []
      @thinking = []
      @tool_calls = []
      @heartbeats = []
      @polls = 0
      @threads = []
      @cancel_when = cancel_when
      @on_text_hook = on_text
    end

    def on_text(accumulated, delta)
      @threads << Thread.current
      @texts << [accumulated, delta]
      @on_text_hook&.call(accumulated, delta)
    end

    def on_thinking(accumulated, delta)
      @thinking << [accumulated, delta]
    end

    def on_tool_call(name, id)
      @tool_calls << [name, id]
    end

    def on_heartbeat(elapsed)
      @heartbeats << elapsed
    end

    def cancelled?
      @polls += 1
      @cancel_when ? @cancel_when.call(self) : false
    end
  end

  def request_body(provider, text = "Say hello")
    case provider
    when :anthropic
      JSON.generate(model: "claude-local", max_tokens: 256, stream: true,
        messages: [{role: "user", content: text}])
    when :openai
      JSON.generate(model: "gpt-local", stream: true, stream_options: {include_usage: true},
        messages: [{role: "user", content: text}])
    when :gemini
      JSON.generate(contents: [{role: "user", parts: [{text: text}]}])
    when :openai_responses
      JSON.generate(model: "gpt-local", stream: true, store: false, input: [{role: "user", content: text}])
    end
  end

  def build_stream(klass: AssistantChatNative::Stream, provider: :anthropic, server: local_provider, **options)
    klass.new(provider: provider, url: server.endpoint_for(provider),
      headers: {"x-api-key" => SECRET, "authorization" => "Bearer #{SECRET}"},
      body: request_body(provider), **options)
  end

  # How much to stretch time bounds: rake memcheck runs the specs under Valgrind.
  def time_scale
    Float(ENV.fetch("ACN_TIME_SCALE", "1"))
  end

  # Polls until the block is true or timeout seconds pass; returns the block's last value.
  def wait_until(timeout: 2)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout * time_scale
    loop do
      value = yield
      return value if value || Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      sleep 0.01
    end
  end

  def seconds_taken
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    yield
    Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
  end
end
