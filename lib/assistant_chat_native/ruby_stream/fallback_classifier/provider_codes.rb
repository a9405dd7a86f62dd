# frozen_string_literal: true

module AssistantChatNative
  class RubyStream
    module FallbackClassifier
      # The error codes the providers document, by the failure each names, read
      # from the fields that carry them:
      #   type   Anthropic's error.type (docs.anthropic.com/en/api/errors) and
      #          OpenAI's error.type
      #   code   OpenAI's error.code (platform.openai.com/docs/guides/error-codes)
      #   status Gemini's error.status, a google.rpc.Code name
      #          (ai.google.dev/gemini-api/docs/troubleshooting)
      # Codes that say only "bad request" or "not found" are not in NAMES: the
      # message's words and the HTTP status say more. When a body carries codes for two
      # failures, the first in this table speaks: a used-up quota is reported as
      # such even when the code also says "rate limit".
      module ProviderCodes
        NAMES = {
          quota_exhausted: {code: %w[insufficient_quota billing_hard_limit_reached billing_not_active],
                            type: %w[insufficient_quota billing_error]},
          context_overflow: {code: %w[context_length_exceeded], type: %w[context_length_exceeded]},
          invalid_model: {code: %w[model_not_found], type: %w[model_not_found]},
          authentication: {type: %w[authentication_error], code: %w[invalid_api_key], status: %w[UNAUTHENTICATED]},
          rate_limited: {code: %w[rate_limit_exceeded], type: %w[rate_limit_error rate_limit_exceeded]},
          # Gemini's one status for a per-minute limit and a used-up quota alike.
          resource_exhausted: {status: %w[RESOURCE_EXHAUSTED]},
          overloaded: {type: %w[overloaded_error], status: %w[UNAVAILABLE]},
          permission: {type: %w[permission_error], status: %w[PERMISSION_DENIED]},
          request_too_large: {type: %w[request_too_large]},
          timeout: {type: %w[timeout_error], status: %w[DEADLINE_EXCEEDED]},
          refusal: {code: %w[content_filter content_policy_violation]},
          server_error: {type: %w[api_error server_error], code: %w[server_error], status: %w[INTERNAL]}
        }.freeze

        # The request as it stands was refused. Said in an error event after the
        # stream was accepted, this is still the request's fault, not the server's.
        BAD_REQUEST = {type: %w[invalid_request_error], status: %w[INVALID_ARGUMENT FAILED_PRECONDITION]}.freeze

        module_function

        # The first failure error's codes name, or nil.
        def named(error)
          NAMES.each_key.find { |name| names?(error, name) }
        end

        # error's codes name failure `name`. Gemini names a rejected API key in an
        # ErrorInfo detail (reason API_KEY_INVALID) under a generic status.
        def names?(error, name)
          return true if name == :authentication && error.api_key_invalid?

          carries?(error, NAMES.fetch(name))
        end

        # error's codes say the request was refused as it stands.
        def bad_request?(error)
          carries?(error, BAD_REQUEST)
        end

        # One of error's fields holds one of the codes listed for it.
        def carries?(error, codes_by_field)
          codes_by_field.any? { |field, codes| codes.include?(error.public_send(field)) }
        end
      end
    end
  end
end
