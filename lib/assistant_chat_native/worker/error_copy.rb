# frozen_string_literal: true

require_relative "../redaction"

module AssistantChatNative
  class Worker
    # Turns an error message into what the user reads, by pattern, the way the
    # seed's broadcast_error does: a recognised provider or transport message gets
    # its failure kind's copy (the taxonomy's, core/failure_kinds.def); an
    # invalid-model error says so and names the model; anything unrecognised passes
    # through as the seed passed it, but only after
    # Redaction.text took out keys, tokens and credentials and cut it to
    # Redaction::MESSAGE_BYTES, or, with `unknown: :generic` (the worker's
    # error_messages setting), as GENERIC. Classified failures (Failure) carry their
    # own copy already (.for_failure).
    module ErrorCopy
      # Copy of the worker's own, for what is no provider failure:
      BUSY = "This conversation is currently being processed. Please try again in a moment."
      GENERIC = "Something went wrong while answering. Please try again."
      # What the user reads when a turn's job died before it saved anything to go on from.
      INTERRUPTED = "The answer was interrupted before it could finish. Please try again."
      # Ends a turn that used every continuation job settings.max_continuations allows.
      TOO_MANY_CONTINUATIONS = "This answer was stopped because it was taking too many steps. " \
        "Ask a narrower question, or ask me to go on."

      # Messages that read as a failure kind, and the kind: its copy is the
      # taxonomy's (core/failure_kinds.def), the same the classifier gives.
      PATTERNS = [
        [/\Amodel:|model[_ ]not[_ ]found|unknown model|does not exist.*model|model.*(not found|does not exist|is not supported)/i,
          :invalid_model],
        [/rate.?limit|too many requests|HTTP 429\b/i, :rate_limited],
        [/overloaded|HTTP 529\b|over capacity/i, :overloaded],
        [/prompt is too long|context.?(length|window)|too many tokens|maximum context/i, :context_overflow],
        [/credit balance|quota|billing|insufficient_quota/i, :quota_exhausted],
        [/invalid api.?key|authentication|unauthorized|HTTP 401\b/i, :authentication],
        [/timed? ?out|timeout|execution expired/i, :timeout],
        [/connection (refused|reset|failed|lost)|end of file|ECONNREFUSED|ECONNRESET|EOFError/i, :connection_lost],
        [/internal server error|bad gateway|service unavailable|gateway timeout|HTTP 5\d\d\b/i, :server_error]
      ].freeze

      # Copy already chosen for the user: what for_message and for_failure return. A
      # plain String to whoever reads it (the host's broadcast_error matches it like
      # any message); for_message hands it back unchanged, so copy chosen once is
      # never mapped again.
      class Chosen < String
      end

      module_function

      # The copy for a raw error message. Blank messages get GENERIC; so does an
      # unrecognised one when unknown is :generic.
      def for_message(message, unknown: :redacted)
        return message if message.is_a?(Chosen)

        # Patterns read the redacted text, so a model name they quote is redacted too.
        text = Redaction.text(message).strip
        return chosen(GENERIC) if text.empty?

        PATTERNS.each do |pattern, kind|
          next unless text.match?(pattern)

          return chosen(kind_copy(kind, text))
        end
        chosen((unknown == :generic) ? GENERIC : Redaction.text(text, max_bytes: Redaction::MESSAGE_BYTES))
      end

      # The copy for a classified failure: its own message (the classifier's copy for
      # its kind, or for an unrecognised bad request the provider's words, cleaned),
      # or, when unknown is :generic, the kind's plain copy instead of those words.
      def for_failure(failure, unknown: :redacted)
        message = failure.message.to_s
        return for_message(failure.detail, unknown: unknown) if message.empty?

        if unknown == :generic && failure.kind == :bad_request
          return chosen(Taxonomy.copy(:bad_request))
        end

        chosen(Redaction.text(message, max_bytes: Redaction::MESSAGE_BYTES))
      end

      # The kind's copy; for an invalid model, naming the model when the message does.
      def kind_copy(kind, text)
        return Taxonomy.copy(kind) unless kind == :invalid_model

        name = text[/\Amodel:\s*(\S+)/i, 1] || text[/model\b[^"'`]*["'`]([^"'`]+)["'`]/i, 1]
        Redaction.text(Failure.invalid_model_message(name), max_bytes: Redaction::MESSAGE_BYTES)
      end

      def chosen(text)
        Chosen.new(text).freeze
      end
    end
  end
end
