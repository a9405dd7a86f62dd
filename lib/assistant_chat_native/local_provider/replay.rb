# frozen_string_literal: true

module AssistantChatNative
  class LocalProvider
    # A recorded stream (an .sse file holding the raw bytes a provider sent), cut
    # into events at blank lines so the token rate and the event-counting faults
    # apply to it; the bytes are sent exactly as recorded.
    #
    # `source` is a path to an .sse file, or a fixture name resolved as
    # <fixtures_dir>/<provider>/<name>.sse (".sse" may be left off).
    class Replay
      EVENT = /.*?(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)|.+\z/m

      def self.resolve(source, provider:, fixtures_dir:)
        candidates = [source, "#{source}.sse"]
        if fixtures_dir
          candidates += [File.join(fixtures_dir, provider.to_s, source),
            File.join(fixtures_dir, provider.to_s, "#{source}.sse")]
        end
        path = candidates.find { |candidate| File.file?(candidate) }
        return path if path
        raise ConfigurationError, "LocalProvider cannot find the recorded stream #{source.inspect} " \
          "(looked for #{candidates.uniq.join(", ")}); pass a path to an .sse file or a fixture name"
      end

      def self.events(source, provider:, fixtures_dir:)
        bytes = File.binread(resolve(source, provider: provider, fixtures_dir: fixtures_dir))
        split(bytes, provider: provider)
      end

      def self.split(bytes, provider:)
        pieces = bytes.b.scan(EVENT)
        terminal_event = Providers.fetch(provider).terminal_event
        terminal = pieces.rindex { |piece| piece.match?(terminal_event) }
        pieces.each_with_index.map do |piece, index|
          Event.new(data: piece.freeze, paced: true, terminal: index == terminal)
        end
      end
    end
  end
end
