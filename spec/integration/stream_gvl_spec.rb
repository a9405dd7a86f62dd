# frozen_string_literal: true

require "spec_helper"
require "fileutils"
require "tmpdir"
require "rbconfig"

# What running off the GVL buys, and what it must not break: sibling threads keep
# running, the stream stops promptly on #cancel, cancelled?, Thread#raise and
# Thread#kill, handler exceptions propagate after teardown, heartbeats arrive while
# the provider is silent, and a second request reuses the connection.
RSpec.describe "Stream off the GVL", if: AssistantChatNative.native? do
  include StreamHelpers

  def monotonic
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # A sibling thread doing pure-Ruby work; returns [thread, counter].
  def start_counter
    counter = [0]
    thread = Thread.new do
      loop { counter[0] += 1 }
    end
    [thread, counter]
  end

  def long_anthropic_stream(deltas)
    event = ->(type, data) { "event: #{type}\ndata: #{JSON.generate(data)}\n\n" }
    [event.call("message_start", type: "message_start", message: {id: "msg_long", type: "message",
                                                                  role: "assistant", model: "claude-local", content: [], usage: {input_tokens: 10, output_tokens: 1}}),
      event.call("content_block_start", type: "content_block_start", index: 0, content_block: {type: "text", text: ""}),
      *Array.new(deltas) do |i|
        event.call("content_block_delta", type: "content_block_delta", index: 0,
          delta: {type: "text_delta", text: "word#{i} "})
      end,
      event.call("content_block_stop", type: "content_block_stop", index: 0),
      event.call("message_delta", type: "message_delta", delta: {stop_reason: "end_turn"},
        usage: {output_tokens: deltas}),
      event.call("message_stop", type: "message_stop")].join
  end

  describe "the GVL" do
    it "lets a sibling Ruby thread keep counting while a Stream waits on a slow provider" do
      local_provider.enqueue(tokens: Array.new(10) { |i| "t#{i} " }, token_rate: 10)
      thread, counter = start_counter
      samples = []
      handler = StreamHelpers::RecordingHandler.new(on_text: ->(*) { samples << counter[0] })

      result = build_stream(broadcast_interval: 0).run(handler)
      thread.kill.join

      expect(result.failure).to be_nil
      expect(samples.size).to be >= 5
      # The sibling advanced across the stream, and between most flushes (two
      # deltas can arrive in one read and flush back to back).
      expect(samples.last).to be > samples.first
      expect(samples.each_cons(2).count { |a, b| b > a }).to be >= (samples.size - 1) / 2
    end

    context "with LocalProvider in its own process" do
      # A long recorded Anthropic stream, sent in one write, so the client's decoding
      # (not the server) is what takes the time.
      before(:all) do
        @dir = Dir.mktmpdir
        @long_sse = File.join(@dir, "long.sse")
        File.write(@long_sse, long_anthropic_stream(15_000))
        @spawned = AssistantChatNative::LocalProvider.spawn(chunk_size: "whole")
      end

      after(:all) do
        @spawned&.stop
        FileUtils.remove_entry(@dir) if @dir
      end

      before { @spawned.default = {replay: @long_sse} }

      it "keeps a sibling thread counting through a full-speed decode, with either client" do
        [AssistantChatNative::Stream, AssistantChatNative::RubyStream].each do |klass|
          thread, counter = start_counter
          sleep 0.05
          before = counter[0]
          expect(build_stream(klass: klass, server: @spawned).run(Object.new).failure).to be_nil
          thread.kill.join

          expect(counter[0]).to be > before, "the sibling made no progress while #{klass} ran"
        end
      end

      # The contrast: Stream's thread runs Ruby only to start, flush and finish, while
      # RubyStream's runs Ruby (and holds the GVL) for every event.
      it "runs Ruby on its thread only to flush, where RubyStream runs it for every event" do
        calls = [AssistantChatNative::Stream, AssistantChatNative::RubyStream].to_h do |klass|
          stream = build_stream(klass: klass, server: @spawned, broadcast_interval: 10)
          count = 0
          trace = TracePoint.new(:call, :c_call) { count += 1 }
          result = nil
          trace.enable(target_thread: Thread.current) { result = stream.run(Object.new) }
          [klass, count.fdiv(result.stats[:events])]
        end

        expect(calls[AssistantChatNative::Stream]).to be < 0.05
        expect(calls[AssistantChatNative::RubyStream]).to be > 1
      end

      it "allocates Ruby objects only to flush: far fewer per event than RubyStream" do
        per_event = [AssistantChatNative::Stream, AssistantChatNative::RubyStream].to_h do |klass|
          stream = build_stream(klass: klass, server: @spawned, broadcast_interval: 10)
          GC.start
          before = GC.stat(:total_allocated_objects)
          result = stream.run(Object.new)
          [klass, (GC.stat(:total_allocated_objects) - before).fdiv(result.stats[:events])]
        end

        expect(per_event[AssistantChatNative::Stream]).to be < 0.05
        expect(per_event[AssistantChatNative::Stream] * 10).to be < per_event[AssistantChatNative::RubyStream]
      end
    end
  end

  describe "cancellation" do
    it "stops on #cancel from another thread within a second, keeping the text so far" do
      local_provider.enqueue(tokens: Array.new(200) { "x" }, token_rate: 50)
      stream = build_stream
      handler = StreamHelpers::RecordingHandler.new(on_text: ->(*) { Thread.new { stream.cancel } })
      result = nil

      took = seconds_taken { result = stream.run(handler) }

      expect(result.failure.kind).to eq(:cancelled)
      expect(result.stop_reason).to be_nil
      expect(result.text).to start_with("x")
      expect(result.text.size).to be < 200
      expect(took).to be < 1
      expect(local_provider.last_request.wait_until_finished(timeout: 1)).to be_truthy
      expect(local_provider.last_request).to be_disconnected
    end

    it "polls cancelled? while the provider is silent and stops when it answers true" do
      local_provider.enqueue(text: "Never.", delay: 5)
      handler = StreamHelpers::RecordingHandler.new(cancel_when: ->(h) { h.polls >= 3 })
      result = nil

      took = seconds_taken { result = build_stream(cancel_poll_interval: 0.05).run(handler) }

      expect(result.failure.kind).to eq(:cancelled)
      expect(handler.polls).to eq(3)
      expect(took).to be < 1
      expect(local_provider.last_request.wait_until_finished(timeout: 1)).to be_truthy
    end

    it "stops within a second when its thread gets Thread#raise, and closes the connection" do
      local_provider.enqueue(tokens: Array.new(100) { "x" }, token_rate: 20)
      started = Queue.new
      runner = Thread.new do
        build_stream.run(StreamHelpers::RecordingHandler.new(on_text: ->(*) { started << true }))
      rescue Interrupt => e
        e
      end
      expect(wait_until { !started.empty? }).to be(true)
      raised_at = monotonic
      runner.raise(Interrupt, "stop now")

      expect(runner.join(1)&.value).to be_a(Interrupt)
      expect(monotonic - raised_at).to be < 1
      expect(local_provider.last_request.wait_until_finished(timeout: 1)).to be_truthy
      expect(local_provider.last_request).to be_disconnected
    end

    it "stops within a second when its thread gets Thread#raise while the provider is silent" do
      # message_start, content_block_start, ping, then the delta "a".
      local_provider.enqueue(tokens: %w[a b], stall_after: 4, stall_for: 10)
      started = Queue.new
      runner = Thread.new do
        build_stream.run(StreamHelpers::RecordingHandler.new(on_text: ->(*) { started << true }))
      rescue RuntimeError => e
        e
      end
      expect(wait_until { !started.empty? }).to be(true)
      sleep 0.1
      runner.raise("stop now")

      expect(runner.join(1)&.value&.message).to eq("stop now")
      expect(local_provider.last_request.wait_until_finished(timeout: 1)).to be_truthy
    end

    it "stops within a second when its thread is killed, and closes the connection" do
      local_provider.enqueue(tokens: Array.new(100) { "x" }, token_rate: 20)
      started = Queue.new
      runner = Thread.new { build_stream.run(StreamHelpers::RecordingHandler.new(on_text: ->(*) { started << true })) }
      expect(wait_until { !started.empty? }).to be(true)
      runner.kill

      expect(runner.join(1)).not_to be_nil
      expect(runner).not_to be_alive
      expect(local_provider.last_request.wait_until_finished(timeout: 1)).to be_truthy
      expect(local_provider.last_request).to be_disconnected
    end
  end

  describe "Ctrl-C" do
    it "stops a stream on the main thread within a second and closes the connection" do
      local_provider.enqueue(tokens: Array.new(200) { "x" }, token_rate: 20)
      lib = File.expand_path("../../lib", __dir__)
      script = <<~RUBY
        require "assistant_chat_native"
        handler = Object.new
        def handler.on_text(*) = ($started ||= ($stdout.puts("started") || $stdout.flush || true))
        AssistantChatNative::Stream.new(provider: :anthropic, url: ARGV[0], body: ARGV[1]).run(handler)
        puts "finished"
      RUBY
      reader = IO.popen([RbConfig.ruby, "-I", lib, "-e", script, local_provider.endpoint_for(:anthropic),
        request_body(:anthropic)], err: File::NULL)
      expect(reader.gets).to eq("started\n")
      interrupted_at = monotonic
      Process.kill("INT", reader.pid)
      _, status = Process.wait2(reader.pid)
      rest = reader.read
      reader.close

      expect(monotonic - interrupted_at).to be < 1
      expect(rest).not_to include("finished")
      expect(status.termsig).to eq(Signal.list["INT"])
      expect(local_provider.last_request.wait_until_finished(timeout: 1)).to be_truthy
      expect(local_provider.last_request).to be_disconnected
    end
  end

  describe "exceptions in the handler" do
    it "re-raises what on_text raises, after closing the connection" do
      local_provider.enqueue(tokens: Array.new(100) { "x" }, token_rate: 50)
      handler = StreamHelpers::RecordingHandler.new(on_text: ->(*) { raise ArgumentError, "handler broke" })
      stream = build_stream

      expect { stream.run(handler) }.to raise_error(ArgumentError, "handler broke")
      expect(stream).not_to be_running
      expect(local_provider.last_request.wait_until_finished(timeout: 1)).to be_truthy
      expect(local_provider.last_request).to be_disconnected
    end

    it "re-raises what cancelled? raises" do
      local_provider.enqueue(text: "Never.", delay: 2)
      handler = Object.new
      handler.define_singleton_method(:cancelled?) { raise KeyError, "poll broke" }

      expect { build_stream(cancel_poll_interval: 0.05).run(handler) }.to raise_error(KeyError, "poll broke")
    end
  end

  describe "heartbeats" do
    it "arrive on time while the provider is silent" do
      local_provider.enqueue(text: "Late.", delay: 0.8)
      handler = StreamHelpers::RecordingHandler.new

      result = build_stream(heartbeat_interval: 0.1).run(handler)

      expect(result.text).to eq("Late.")
      expect(handler.heartbeats.size).to be >= 5
      expect(handler.heartbeats).to eq(handler.heartbeats.sort)
      expect(handler.heartbeats.first).to be_within(0.08).of(0.1)
    end
  end

  describe "connections" do
    it "reuses the connection for a second request from the same thread" do
      with_local_provider do |provider|
        2.times do
          provider.enqueue(text: "again")
          expect(build_stream(server: provider).run(Object.new).text).to eq("again")
        end

        expect(provider.requests.size).to eq(2)
        expect(provider.connections_accepted).to eq(1)
      end
    end

    it "starts a forked child with fresh connections and leaves the parent's reusable" do
      with_local_provider do |provider|
        provider.default = {text: "forked"}
        expect(build_stream(server: provider).run(Object.new).text).to eq("forked")

        reader, writer = IO.pipe
        pid = fork do
          reader.close
          writer.write(build_stream(server: provider).run(Object.new).text)
          writer.close
          exit!(0)
        end
        writer.close
        child_text = reader.read
        _, status = Process.wait2(pid)
        reader.close
        parent_text = build_stream(server: provider).run(Object.new).text

        expect([child_text, parent_text]).to eq(%w[forked forked])
        expect(status.exitstatus).to eq(0)
        # The parent's connection served its two requests; the child opened its own.
        expect(provider.requests.size).to eq(3)
        expect(provider.connections_accepted).to eq(2)
      end
    end

    it "runs streams on many threads at once, each to its own end" do
      local_provider.default = {tokens: Array.new(20) { "w " }, token_rate: 200}
      results = Array.new(8) { Thread.new { build_stream.run(Object.new) } }.map(&:value)

      expect(results.map(&:text)).to all(eq("w " * 20))
      expect(results.map(&:failure)).to all(be_nil)
    end
  end
end
