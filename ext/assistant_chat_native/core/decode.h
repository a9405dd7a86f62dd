/*
 * decode.h: a provider decoder. It ties an SSE parser to one provider's streaming
 * dialect (Anthropic Messages, OpenAI Chat Completions, OpenAI Responses, Gemini
 * streamGenerateContent with alt=sse) and turns each event's JSON payload into normalized acn_events
 * (event.h), delivered through an acn_event_fn.
 *
 * Owns: its SSE parser, one JSON walker (one yajl parser and generator reused for
 * every payload), and scratch buffers for the payload being decoded, all bounded
 * by `max_event_bytes`. Nothing is allocated per event once the buffers have grown.
 * Borrows: the bytes and SSE events passed in (not kept after the call returns) and
 * the callback context. Strings in an emitted acn_event are valid during the callback.
 *
 * A payload is parsed completely before any of its events is emitted: malformed
 * JSON emits nothing from that payload. Every failure is sticky: after a call fails,
 * every later call returns the same status and acn_decoder_error says why.
 * The struct is public so callers can embed it; do not copy a decoder in use.
 *
 * What the events carry, for every dialect:
 * - MESSAGE_START once, before the first other event of the payload that carried the
 *   ids: id = message id (Gemini responseId), name = model (Gemini modelVersion).
 * - TEXT_DELTA / THINKING_DELTA: UTF-8 text, JSON escapes decoded; empty deltas are
 *   not emitted. index = Anthropic content block, 0 for OpenAI and Gemini. OpenAI
 *   `delta.refusal` text is a TEXT_DELTA (and the stop reason becomes REFUSAL);
 *   compatible servers' `delta.reasoning_content` / `delta.reasoning` is thinking.
 *   OpenAI: only the choice with index 0 is read, wherever it stands; Gemini:
 *   only the first candidate. Responses: output_text and refusal deltas are text 0;
 *   a reasoning item's summary is thinking at its output_index, with id = the item's
 *   id, its summary parts joined by a blank line.
 * - TOOL_CALL_START (index, id, name, server_tool), TOOL_ARGS_DELTA (index, text = a
 *   fragment of the arguments JSON), TOOL_CALL_END (index). index = Anthropic content
 *   block, OpenAI `tool_calls[].index`, Gemini the stream's function-call count.
 *   Responses: index = the function_call item's output_index, id = its call_id; the
 *   call ends with its output_item.done (or response.completed).
 *   OpenAI calls end when finish_reason (or [DONE]) arrives, in index order; Gemini
 *   calls arrive whole (start, the args as compact JSON, end) with id "call_<n>"
 *   unless the part carries its own `id`; the start's text is the part's
 *   `thoughtSignature` (empty when none), which Gemini wants back with the call.
 * - USAGE: every count is -1 when this payload did not carry it; a consumer keeps
 *   its previous value for those. Anthropic counts are as sent (output cumulative);
 *   OpenAI prompt/completion/cached tokens; Gemini promptTokenCount, candidates +
 *   thoughts tokens, cachedContentTokenCount; Responses input_tokens, output_tokens,
 *   input_tokens_details.cached_tokens from the terminal response.
 * - STOP: stop_reason normalized, text = the provider's own string. Emitted before
 *   DONE. A normalized reason of NONE never appears. A finish of "stop" (OpenAI) or
 *   STOP (Gemini) after tool calls is TOOL_USE. OpenAI's legacy `delta.function_call`
 *   is tool call 0.
 * - DONE: the terminal event (message_stop, [DONE], a Gemini chunk with finishReason
 *   or promptFeedback.blockReason, response.completed or response.incomplete). acn_decoder_done is then true.
 * - ERROR: a provider error after HTTP 200; name = error type (Gemini `status`),
 *   text = message, raw = the whole data payload for the classifier. An Anthropic
 *   `error` event whose payload is not a JSON object is still an ERROR (name empty,
 *   text = raw = the payload), and so is OpenAI-compatible {"error": "message"}.
 *   acn_decoder_done is true after it as well: the stream ended, with a failure.
 *   Responses: the `error` event, and response.failed, whose raw is its
 *   response.error as OpenAI's error body, {"error":{"code":...,"message":...}}.
 * - BLOCK_END (Anthropic text, thinking and redacted_thinking blocks; a Responses
 *   reasoning item), SIGNATURE_DELTA (a Responses reasoning item's encrypted_content,
 *   with id = the item's id),
 *   REDACTED_THINKING (text = the data), CITATION (text = the citation as JSON), PING.
 */
#ifndef ACN_DECODE_H
#define ACN_DECODE_H

#include "acn.h"
#include "event.h"
#include "json_walk.h"
#include "sse.h"

#define ACN_DECODER_MAX_BLOCKS 4096 /* content block / tool call indexes 0..4095 */
#define ACN_DECODER_ERROR_MAX  256
#define ACN_DECODER_SLOTS      24

/* A string kept from the payload being decoded: an offset into `strings`. */
typedef struct acn_decode_str {
    size_t off;
    size_t len;
    int set;
} acn_decode_str;

typedef struct acn_decoder {
    acn_provider provider;
    acn_event_fn on_event;
    void *ctx;
    size_t max_event_bytes;
    acn_budget budget; /* of max_event_bytes: sse, walk, strings, pending and blocks share it */
    acn_sse_parser sse;
    acn_json_walk walk;
    acn_buf strings; /* copies of the current payload's strings */
    acn_buf pending; /* events found inside the current payload's arrays, emitted after it parsed */
    acn_buf blocks;  /* one byte per block or tool call index: what kind it is */
    /* What the dialect collected from the current payload (reset for each). */
    acn_decode_str str[ACN_DECODER_SLOTS];
    long long num[ACN_DECODER_SLOTS];
    unsigned num_set; /* bit i: num[i] was sent */
    /* Across the stream. */
    int started;    /* MESSAGE_START emitted */
    int done;       /* terminal (or error) event seen */
    int tool_calls; /* function calls seen (Gemini ids; OpenAI and Gemini tool_use) */
    int refusal;    /* OpenAI refusal text seen */
    int stopped;    /* a STOP event was emitted */
    int failed;
    acn_status status;
    char error[ACN_DECODER_ERROR_MAX];
} acn_decoder;

/* ACN_OK, or ACN_ERR_MALFORMED for an unknown provider. max_event_bytes (0 means
 * ACN_DEFAULT_MAX_EVENT_BYTES) is the budget all the decoder's buffers share. */
acn_status acn_decoder_init(acn_decoder *d, acn_provider provider, size_t max_event_bytes,
                            acn_event_fn on_event, void *ctx);
/* Raw response bytes, split anywhere. ACN_ERR_LIMIT (an SSE line or event, or a
 * decoded payload, over the bound), ACN_ERR_MALFORMED (a payload that is not the
 * dialect's JSON), ACN_ERR_NOMEM, ACN_ERR_ABORTED (the callback returned non-zero). */
acn_status acn_decoder_feed(acn_decoder *d, const char *bytes, size_t len);
/* One SSE event parsed elsewhere; same results as acn_decoder_feed. */
acn_status acn_decoder_feed_event(acn_decoder *d, const acn_sse_event *event);
/* End of the response body, which closed cleanly: an unterminated SSE event is
 * discarded, and a dialect that takes a close as the end (OpenAI, after a choice
 * finished) emits DONE. Whether the stream was complete is then acn_decoder_done. */
acn_status acn_decoder_finish(acn_decoder *d);
int acn_decoder_done(const acn_decoder *d);
/* Why the last failing call failed; "" when nothing failed. */
const char *acn_decoder_error(const acn_decoder *d);
void acn_decoder_free(acn_decoder *d);

/* Maps a provider's stop reason string to the normalized reason, through its
 * dialect entry (for tests). Gemini's STOP maps to END_TURN here; the decoder makes
 * it TOOL_USE when a function call came. Unknown strings map to END_TURN (Anthropic,
 * OpenAI) or REFUSAL (Gemini's other block reasons). */
acn_stop_reason acn_decoder_stop_reason(acn_provider provider, const char *text, size_t len);

#endif
