# frozen_string_literal: true

require "json"
require "net/http"
require "rbconfig"
require "tempfile"

module AssistantChatNative
  class LocalProvider
    # A LocalProvider running in a child process (as the benchmarks need, so the
    # server's CPU is not the client's). Started by LocalProvider.spawn, which
    # returns once the child listens. Scripts and recorded requests cross the
    # process boundary through the server's control endpoints.
    #
    #   provider = AssistantChatNative::LocalProvider.spawn(token_rate: 100, words: 200)
    #   provider.enqueue(text: "Hi")          # the same options as LocalProvider#enqueue
    #   provider.requests                     # => Array of Hashes (string keys)
    #   provider.stop
    class Spawned
      START_TIMEOUT = 15

      attr_reader :pid, :url

      # port:, token_rate:, chunk_size:, text:, words:, thinking:, replay:,
      # fixtures_dir:, script: (a Hash: the default script), timeout: seconds to
      # wait for the child to listen.
      def self.start(port: 0, token_rate: nil, chunk_size: nil, text: nil, words: nil, thinking: nil,
        replay: nil, fixtures_dir: nil, script: nil, timeout: START_TIMEOUT)
        args = ["--port", port.to_s]
        args += ["--token-rate", token_rate.to_s] if token_rate
        args += ["--chunk-size", chunk_size.to_s] if chunk_size
        args += ["--text", text] if text
        args += ["--words", words.to_s] if words
        args += ["--thinking", thinking] if thinking
        args += ["--replay", replay] if replay
        args += ["--fixtures", fixtures_dir] if fixtures_dir
        args += ["--script", JSON.generate(script)] if script
        new(args, timeout: timeout)
      end

      def initialize(args, timeout:)
        lib = File.expand_path("../..", __dir__)
        reader, writer = IO.pipe
        # The child's stdin is a pipe only this process writes to: when this
        # process exits, however it exits, the child sees EOF and stops.
        lifeline, @lifeline = IO.pipe
        @log = Tempfile.new(["local_provider", ".log"])
        @pid = Process.spawn(RbConfig.ruby, "-I", lib, "-rassistant_chat_native", "-e",
          "exit AssistantChatNative::LocalProvider::CLI.run(ARGV)", "--", "--exit-with-stdin", *args,
          out: writer, err: @log.path, in: lifeline)
        writer.close
        lifeline.close
        @url = read_url(reader, timeout)
      ensure
        reader&.close
      end

      # What the child printed on stderr so far.
      def log
        File.read(@log.path)
      end

      def port
        URI(@url).port
      end

      def base_url_for(provider)
        "#{@url}#{Providers.fetch(provider).local_prefix}"
      end

      def endpoint_for(provider, model: nil)
        provider = Providers.fetch(provider)
        "#{base_url_for(provider.name)}#{provider.path(model || "#{provider.name}-local")}"
      end

      # Queues a script in the child. Filters: model: (a String), provider:, times:.
      def enqueue(model: nil, provider: nil, times: 1, **options)
        control(:post, "enqueue", options.merge(model_filter: model, provider: provider, times: times).compact)
        self
      end

      def default=(options)
        control(:post, "default", options)
      end

      def reset
        control(:post, "reset", {})
        self
      end

      # The requests the child received, as Hashes with string keys (see ReceivedRequest#to_h).
      def requests
        control(:get, "requests")
      end

      # {"connections_accepted", "open_connections", "requests" (received since
      # start), "pending" (queued scripts)} from the child. Each control call
      # (enqueue, requests, stats...) opens one connection of its own.
      def stats
        control(:get, "stats")
      end

      def connections_accepted
        stats.fetch("connections_accepted")
      end

      def running?
        return false unless @pid
        Process.wait(@pid, Process::WNOHANG).nil?
      rescue Errno::ECHILD
        false
      end

      # Sends SIGTERM, waits up to timeout seconds, then SIGKILL.
      def stop(timeout: 5)
        return self unless @pid
        signal("TERM")
        deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
        until reaped?
          if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
            signal("KILL")
            Process.wait(@pid)
            break
          end
          sleep 0.02
        end
        @pid = nil
        @lifeline.close unless @lifeline.closed?
        @log.close!
        self
      rescue Errno::ECHILD
        @pid = nil
        self
      end

      private

      def read_url(reader, timeout)
        deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
        line = +""
        until line.end_with?("\n")
          remaining = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
          if remaining <= 0 || !reader.wait_readable(remaining)
            stop(timeout: 1)
            raise Error, "LocalProvider child process did not start listening within #{timeout} s: #{log.strip}"
          end
          chunk = reader.read_nonblock(256, exception: false)
          next if chunk == :wait_readable
          if chunk.nil?
            stop(timeout: 1)
            raise Error, "LocalProvider child process exited before listening: #{log.strip}"
          end
          line << chunk
        end
        line.strip
      end

      def control(verb, name, body = nil)
        uri = URI("#{@url}/__local_provider/#{name}")
        response = Net::HTTP.start(uri.host, uri.port, open_timeout: 5, read_timeout: 5) do |http|
          if verb == :get
            http.get(uri.path)
          else
            http.post(uri.path, JSON.generate(body), "content-type" => "application/json")
          end
        end
        parsed = JSON.parse(response.body)
        unless response.code == "200"
          raise Error, "LocalProvider child refused #{name}: #{parsed.dig("error", "message")}"
        end
        parsed
      end

      def signal(name)
        Process.kill(name, @pid)
      rescue Errno::ESRCH
        nil
      end

      def reaped?
        !Process.wait(@pid, Process::WNOHANG).nil?
      end
    end
  end
end
