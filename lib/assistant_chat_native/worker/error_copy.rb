# frozen_string_literal: true

module AssistantChatNative
  class Worker
    # Turns an error message into what the user reads, by pattern, the way the
    # seed's broadcast_error does: a recognised provider or transport message gets
    # friendly copy; an invalid-model error says so and names the model; anything
    # unrecognised passes through as it is. Classified failures (Failure) carry
    # their own copy already and do not come through here.
    module ErrorCopy
      BUSY = "This conversation is currently being processed. Please try again in a moment."

      PATTERNS = [
        [/\Amodel:|model[_ ]not[_ ]found|unknown model|does not exist.*model|model.*(not found|does not exist|is not supported)/i,
          ->(message) {
            name = message[/\Amodel:\s*(\S+)/i, 1] || message[/model\b[^"'`]*["'`]([^"'`]+)["'`]/i, 1]
            named = name ? " (#{name})" : ""
            "The selected model#{named} is not available. Please choose another model and try again."
          }],
        [/rate.?limit|too many requests|HTTP 429\b/i,
          "The assistant is receiving too many requests right now. Please wait a moment and try again."],
        [/overloaded|HTTP 529\b|over capacity/i,
          "The assistant is overloaded right now. Please try again in a minute."],
        [/prompt is too long|context.?(length|window)|too many tokens|maximum context/i,
          "This conversation has grown too long for the model. Please start a new conversation."],
        [/credit balance|quota|billing|insufficient_quota/i,
          "The assistant's usage quota is exhausted. Please contact your administrator."],
        [/invalid api.?key|authentication|unauthorized|HTTP 401\b/i,
          "The assistant is not configured correctly (authentication failed). Please contact your administrator."],
        [/timed? ?out|timeout|execution expired/i,
          "The assistant took too long to respond. Please try again."],
        [/connection (refused|reset|failed|lost)|end of file|ECONNREFUSED|ECONNRESET|EOFError/i,
          "The connection to the assistant was interrupted. Please try again."],
        [/internal server error|bad gateway|service unavailable|gateway timeout|HTTP 5\d\d\b/i,
          "The assistant's provider had an error. Please try again in a moment."]
      ].freeze

      module_function

      # The copy for a raw error message. Blank messages get a generic line.
      def for_message(message)
        text = message.to_s.strip
        return "Something went wrong while answering. Please try again." if text.empty?

        PATTERNS.each do |pattern, copy|
          next unless text.match?(pattern)

          return copy.respond_to?(:call) ? copy.call(text) : copy
        end
        text
      end
    end
  end
end
