# frozen_string_literal: true

module AssistantChatNative
  class RubyStream
    module FallbackClassifier
      # Each kind's default action, retryability and copy: the taxonomy's rows
      # (core/failure_kinds.def), the ones the C classifier starts from.
      KINDS = Taxonomy::KINDS

      # What each transport error means, and the words its detail gets: the
      # taxonomy's transport rows, the ones core/classify.c is built with.
      Transport = Struct.new(:kind, :what)

      TRANSPORTS = Taxonomy::TRANSPORTS.transform_values { |kind, what| Transport.new(kind, what).freeze }.freeze
    end
  end
end
