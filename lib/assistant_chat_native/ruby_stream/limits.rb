# frozen_string_literal: true

module AssistantChatNative
  class RubyStream
    # The bounds one reply is held to. They are data shared with the C core, not
    # logic: each names the header constant it equals, and limits_spec reads the
    # headers to keep the two the same. The byte budgets themselves (max_event_bytes,
    # max_reply_bytes, max_error_body) come from Configuration.
    module Limits
      MAX_INDEX = 4096         # core/decode.h ACN_DECODER_MAX_BLOCKS: block and call indexes 0...4096
      MAX_TOOL_CALLS = 128     # core/accum.h ACN_ACCUM_MAX_TOOL_CALLS: tool calls in one reply
      ENTRY_COST = 256         # core/accum.h ACN_ACCUM_ENTRY_COST: budget bytes each call or block costs
      MAX_JSON_DEPTH = 100     # core/acn.h ACN_JSON_MAX_DEPTH: nesting, the outermost level is 1
      MAX_NUMBER_CHARS = 100   # core/accum.h ACN_ACCUM_MAX_NUMBER_CHARS: one number in tool arguments
      MAX_FIELD_BYTES = 256    # core/sse.h ACN_SSE_MAX_FIELD_BYTES: an SSE event type or id
      # A token count, as an int64 (and PostgreSQL's bigint) holds it; sums saturate here.
      MAX_COUNT = 2**63 - 1
    end
  end
end
