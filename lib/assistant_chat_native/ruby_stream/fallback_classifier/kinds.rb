# frozen_string_literal: true

module AssistantChatNative
  class RubyStream
    module FallbackClassifier
      # Each kind's default action, retryability and copy: the taxonomy's rows
      # (core/failure_kinds.def), the ones the C classifier starts from.
      KINDS = Taxonomy::KINDS

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
