# frozen_string_literal: true

module AssistantChatNative
  class LocalProvider
    # One server-sent event as it goes on the wire: its bytes (the "event:"/"data:"
    # lines and the blank line that ends it), whether it carries a token (so the
    # token rate paces it), and whether it belongs to the reply's end (Anthropic
    # message_stop, Gemini's chunk with finishReason; OpenAI's finish_reason chunk,
    # usage chunk and [DONE], since a clean close after a finish_reason is a whole
    # reply).
    Event = Struct.new(:data, :paced, :terminal, keyword_init: true) do
      def self.sse(data, event: nil, paced: false, terminal: false, newline: "\n")
        text = +""
        text << "event: #{event}#{newline}" if event
        text << "data: #{data}#{newline}#{newline}"
        new(data: text.b.freeze, paced: paced, terminal: terminal)
      end
    end
  end
end
