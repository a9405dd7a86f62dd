# frozen_string_literal: true

require "json"
require "optparse"

module AssistantChatNative
  class LocalProvider
    # bin/local_provider: starts a LocalProvider, prints its URL as the first line
    # on stdout, and serves until SIGINT or SIGTERM.
    class CLI
      WORDS = %w[the quick brown fox jumps over a lazy dog while streaming tokens arrive].freeze

      def self.run(argv, out: $stdout, err: $stderr)
        new(argv, out: out, err: err).run
      end

      def initialize(argv, out:, err:)
        @argv = argv
        @out = out
        @err = err
      end

      def run
        options, script = parse
        provider = LocalProvider.start(**options, default: script)
        @out.puts provider.url
        @out.flush
        describe(provider)
        wait_for_signal
        provider.stop
        0
      rescue OptionParser::ParseError, Error, JSON::ParserError => e
        @err.puts "local_provider: #{e.message}"
        2
      end

      private

      def parse
        options = {}
        script = {}
        parser = OptionParser.new do |opts|
          opts.banner = "Usage: local_provider [options]\n" \
            "Serves the Anthropic, OpenAI and Gemini streaming endpoints on loopback until Ctrl-C."
          opts.on("--host HOST", "Address to bind (default 127.0.0.1)") { |v| options[:host] = v }
          opts.on("--port PORT", Integer, "Port (default 0: a free one)") { |v| options[:port] = v }
          opts.on("--text TEXT", "Default reply text") { |v| script[:text] = v }
          opts.on("--words N", Integer, "Default reply of N words") do |v|
            script[:text] = Array.new(v) { |i| WORDS[i % WORDS.size] }.join(" ")
          end
          opts.on("--thinking TEXT", "Thinking sent before the reply") { |v| script[:thinking] = v }
          opts.on("--token-rate RATE", Float, "Tokens per second (default: full speed)") do |v|
            options[:token_rate] = v
          end
          opts.on("--chunk-size SIZE", "Bytes per write, or 'whole' (default: one write per event)") do |v|
            options[:chunk_size] = (v == "whole") ? :whole : Integer(v)
          end
          opts.on("--replay PATH", "Replay this .sse file (or fixture name) for every request") do |v|
            script[:replay] = v
          end
          opts.on("--fixtures DIR", "Where replay fixture names are looked up") { |v| options[:fixtures_dir] = v }
          opts.on("--exit-with-stdin", "Also stop when stdin closes (the parent process went away)") do
            @watch_stdin = true
          end
          opts.on("--script JSON", "Default script as JSON (or @file.json)") do |v|
            json = v.start_with?("@") ? File.read(v[1..]) : v
            script.merge!(JSON.parse(json).transform_keys(&:to_sym))
          end
        end
        parser.parse!(@argv)
        [options, script.empty? ? nil : script]
      end

      def describe(provider)
        @err.puts "LocalProvider listening on #{provider.url} (Ctrl-C stops it)"
        Providers.names.each do |name|
          @err.puts "  #{name}: #{provider.endpoint_for(name, model: "gemini-3.8-flash")}"
        end
        @err.flush
      end

      def wait_for_signal
        reader, writer = IO.pipe
        previous = %w[INT TERM].to_h do |signal|
          [signal, Signal.trap(signal) { writer.write_nonblock(".", exception: false) }]
        end
        watched = @watch_stdin ? [reader, $stdin] : [reader]
        loop do
          ready, = IO.select(watched)
          break if ready.include?(reader)
          break if $stdin.read_nonblock(4096, exception: false).nil?
        end
      ensure
        previous&.each { |signal, handler| Signal.trap(signal, handler || "DEFAULT") }
        reader&.close
        writer&.close
      end
    end
  end
end
