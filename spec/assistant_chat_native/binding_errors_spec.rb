# frozen_string_literal: true

require "spec_helper"
require "objspace"

# The extension's one error mapping and its one way of handling a raise from Ruby
# code it calls (ext/assistant_chat_native/binding.h), held to each entry point.
RSpec.describe "The C binding's errors", if: AssistantChatNative.native? do
  include StreamHelpers

  describe "an unknown provider" do
    let(:configuration_error) { AssistantChatNative::ConfigurationError }

    it "is a ConfigurationError from Stream.new" do
      expect { AssistantChatNative::Stream.new(provider: :cohere, url: "http://127.0.0.1:1/", body: "{}") }
        .to raise_error(configuration_error, /cohere/)
    end

    it "is a ConfigurationError from the Stream's native half, whatever the Ruby half let through" do
      stream = AssistantChatNative::Stream.allocate

      expect { stream.send(:configure_native, "cohere", "http://127.0.0.1:1/", [], "{}", 0.1, 30, 0.5, 60, 10, 600, 1024, 1024, 1024) }
        .to raise_error(configuration_error, /"cohere": use :anthropic, :openai, :gemini or :openai_responses/)
    end

    it "is a ConfigurationError from Decoder.new, for a Symbol, a String or neither" do
      expect { AssistantChatNative::Decoder.new(:cohere) }.to raise_error(configuration_error, /:cohere/)
      expect { AssistantChatNative::Decoder.new("cohere") }.to raise_error(configuration_error, /"cohere"/)
      expect { AssistantChatNative::Decoder.new(42) }.to raise_error(configuration_error, /42/)
    end

    it "is a ConfigurationError from AssistantChatNative.classify" do
      expect { AssistantChatNative.classify(provider: :cohere, status: 500) }.to raise_error(configuration_error, /:cohere/)
    end

    it "is a ConfigurationError from RubyStream.new" do
      expect { AssistantChatNative::RubyStream.new(provider: :cohere, url: "http://127.0.0.1:1/", body: "{}") }
        .to raise_error(configuration_error, /cohere/)
    end

    it "is a ConfigurationError from the model registry" do
      registry = AssistantChatNative::ModelRegistry.new

      expect { registry.register("command", provider: :cohere, model_id: "command-r") }
        .to raise_error(configuration_error, /cohere/)
    end
  end

  describe "a call out of order" do
    it "is an AssistantChatNative::Error, never a bare RuntimeError" do
      expect { AssistantChatNative::Stream.allocate.run(Object.new) }
        .to raise_error(AssistantChatNative::Error, /not configured/)
      decoder = AssistantChatNative::Decoder.new(:openai)
      decoder.finish

      expect { decoder.feed("data: {}\n\n") }.to raise_error(AssistantChatNative::Error, /after #finish/)
    end
  end

  describe "a handler that raises" do
    # Each callback Stream#run makes, and a script that makes LocalProvider call it.
    callbacks = {
      on_text: {tokens: Array.new(40) { "x" }, token_rate: 100},
      on_tool_call: {tool_calls: [{name: "search", arguments: {q: "ruby " * 40}, id: "toolu_1"}], args_fragment: 4, token_rate: 100},
      on_heartbeat: {text: "Late.", delay: 1},
      cancelled?: {text: "Late.", delay: 1}
    }

    callbacks.each do |callback, script|
      it "surfaces what #{callback} raised, once, with the transfer torn down and its memory given back" do
        local_provider.enqueue(**script)
        stream = build_stream(heartbeat_interval: 0.05, cancel_poll_interval: 0.05, broadcast_interval: 0)
        idle = ObjectSpace.memsize_of(stream)
        error = KeyError.new("#{callback} broke")
        calls = 0
        handler = Object.new
        handler.define_singleton_method(callback) do |*|
          calls += 1
          raise error
        end

        raised = []
        begin
          stream.run(handler)
        rescue KeyError => e
          raised << e
        end

        expect(raised).to eq([error])
        expect(raised.first).to equal(error)
        expect(calls).to eq(1)
        expect(stream).not_to be_running
        expect(ObjectSpace.memsize_of(stream)).to eq(idle)
        expect(local_provider.last_request.wait_until_finished(timeout: 1)).to be_truthy
        expect(local_provider.last_request).to be_disconnected
      end
    end

    it "leaves the Stream able to run its request again to the end" do
      local_provider.enqueue(tokens: Array.new(40) { "x" }, token_rate: 100)
      local_provider.enqueue(text: "Again.")
      stream = build_stream(broadcast_interval: 0)
      failing = StreamHelpers::RecordingHandler.new(on_text: ->(*) { raise ArgumentError, "once" })

      expect { stream.run(failing) }.to raise_error(ArgumentError, "once")
      expect(stream.run(StreamHelpers::RecordingHandler.new).text).to eq("Again.")
    end

    it "is re-raised as the same object by the SSE parser's feed, which stays usable" do
      parser = AssistantChatNative::SSE::Parser.new
      error = KeyError.new("block broke")
      seen = []

      expect { parser.feed("data: 1\n\ndata: 2\n\n") { |event| seen << event.data and raise error } }
        .to raise_error(error)
      expect(parser.feed("data: 3\n\n").map(&:data)).to eq(%w[2 3])
      expect(seen).to eq(%w[1])
    end
  end
end
