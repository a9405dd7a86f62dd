# frozen_string_literal: true

module AssistantChatNative
  class RubyStream
    module FallbackClassifier
      # The words that name an error when its codes are generic, lowercase: the
      # taxonomy's phrases (core/failure_kinds.def), the ones core/error_phrases.c
      # searches the provider's message for, by the kind they identify.
      module Phrases
        CONTEXT = Taxonomy.phrases(:context_overflow)
        QUOTA = Taxonomy.phrases(:quota_exhausted)
        AUTH = Taxonomy.phrases(:authentication)
        # An unsupported location or a disabled account.
        PERMISSION = Taxonomy.phrases(:permission)
        FILTER = Taxonomy.phrases(:refusal)
        MODEL = Taxonomy.phrases(:invalid_model)
      end
    end
  end
end
