# frozen_string_literal: true

module AssistantChatNative
  class RubyStream
    module FallbackClassifier
      # Each kind's default action, retryability and user-facing copy, word for word
      # those of core/failure.c, so a person sees the same message whether or not
      # the extension is loaded.
      Kind = Struct.new(:action, :retryable, :copy)

      KINDS = {
        rate_limited: Kind.new(:retry, true,
          "The assistant is handling a lot of requests right now. Please wait a moment and try again."),
        quota_exhausted: Kind.new(:fail, false,
          "The assistant has reached its usage limit for now. Please let your administrator know, or try again later."),
        overloaded: Kind.new(:retry, true,
          "The assistant's AI service is very busy right now. Please try again in a moment."),
        server_error: Kind.new(:retry, true,
          "The assistant's AI service ran into a problem. Please try again in a moment."),
        context_overflow: Kind.new(:compact, false,
          "This conversation has grown too long for the assistant to read. Please start a new conversation."),
        request_too_large: Kind.new(:fail, false,
          "Your message or its attachments are too large. Please shorten the message or remove an attachment " \
          "and try again."),
        invalid_model: Kind.new(:fail, false,
          "The selected AI model isn't available. Please choose a different model."),
        authentication: Kind.new(:fail, false,
          "The assistant couldn't sign in to its AI service. Please let your administrator know."),
        permission: Kind.new(:fail, false,
          "The assistant isn't allowed to use this AI service or model. Please let your administrator know."),
        bad_request: Kind.new(:fail, false,
          "The assistant couldn't process this request. Please rephrase your message and try again."),
        empty_bad_request: Kind.new(:escalate, false,
          "The AI service turned this request down without saying why. Please try again."),
        timeout: Kind.new(:retry, true, "The assistant took too long to respond. Please try again."),
        stalled: Kind.new(:retry, true, "The assistant stopped responding partway through. Please try again."),
        connection_failed: Kind.new(:retry, true,
          "The assistant couldn't reach its AI service. Please try again in a moment."),
        connection_lost: Kind.new(:retry, true,
          "The connection to the assistant's AI service was interrupted. Please try again."),
        malformed_stream: Kind.new(:retry, true, "The assistant received a garbled reply. Please try again."),
        refusal: Kind.new(:fail, false, "The assistant declined to answer this request. Please try rephrasing it."),
        cancelled: Kind.new(:fail, false, "The reply was stopped.")
      }.freeze

      # What each transport error means, and the words its detail gets (core/classify.c).
      Transport = Struct.new(:kind, :what)

      TRANSPORTS = {
        connect: Transport.new(:connection_failed, "could not connect to the provider"),
        timeout: Transport.new(:timeout, "the request timed out"),
        stalled: Transport.new(:stalled, "no data arrived from the provider within the stall timeout"),
        lost: Transport.new(:connection_lost, "the connection was lost mid-response"),
        incomplete: Transport.new(:connection_lost, "the stream ended before its final event"),
        malformed: Transport.new(:malformed_stream, "the provider sent bytes that are not its stream format"),
        too_large: Transport.new(:malformed_stream, "an event or reply from the provider exceeded its size bound"),
        cancelled: Transport.new(:cancelled, "cancelled by the caller")
      }.freeze
    end
  end
end
