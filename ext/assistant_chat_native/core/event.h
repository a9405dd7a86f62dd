/*
 * event.h: the normalized event model every provider decoder produces and the
 * accumulator and the Ruby binding consume.
 *
 * An acn_event borrows every string it points to: they are valid only while the
 * callback that receives the event runs. Lengths, never C strings.
 */
#ifndef ACN_EVENT_H
#define ACN_EVENT_H

#include "acn.h"

typedef enum acn_event_type {
    ACN_EVENT_MESSAGE_START = 0, /* id = message id, name = model */
    ACN_EVENT_TEXT_DELTA,        /* index = content block, text = the delta */
    ACN_EVENT_THINKING_DELTA,    /* index, text = the delta */
    ACN_EVENT_SIGNATURE_DELTA,   /* index, text = signature fragment of a thinking block */
    ACN_EVENT_REDACTED_THINKING, /* index, text = the opaque data */
    ACN_EVENT_CITATION,          /* index, text = the citation object as JSON */
    ACN_EVENT_TOOL_CALL_START,   /* index, id, name; server_tool = 1 for server_tool_use */
    ACN_EVENT_TOOL_ARGS_DELTA,   /* index, text = a fragment of the arguments JSON */
    ACN_EVENT_TOOL_CALL_END,     /* index */
    ACN_EVENT_BLOCK_END,         /* index: a text or thinking block ended */
    ACN_EVENT_USAGE,             /* input_tokens, output_tokens, cache tokens (-1 when not sent) */
    ACN_EVENT_STOP,              /* stop_reason, text = the provider's own stop reason */
    ACN_EVENT_DONE,              /* the stream's terminal event (message_stop, [DONE], ...) */
    ACN_EVENT_ERROR, /* a provider error after HTTP 200: name = error type, text = message, raw = the payload
                      */
    ACN_EVENT_PING
} acn_event_type;

#define ACN_EVENT_TYPE_COUNT 15

typedef enum acn_stop_reason {
    ACN_STOP_NONE = 0,
    ACN_STOP_END_TURN,
    ACN_STOP_TOOL_USE,
    ACN_STOP_MAX_TOKENS,
    ACN_STOP_STOP_SEQUENCE,
    ACN_STOP_REFUSAL,
    ACN_STOP_PAUSE_TURN
} acn_stop_reason;

typedef struct acn_event {
    acn_event_type type;
    int index; /* content block or tool call index; -1 when it does not apply */
    const char *text;
    size_t text_len;
    const char *id;
    size_t id_len;
    const char *name;
    size_t name_len;
    const char *raw; /* the event's whole data payload, for errors */
    size_t raw_len;
    int server_tool;
    acn_stop_reason stop_reason;
    long long input_tokens;
    long long output_tokens;
    long long cache_read_tokens;
    long long cache_write_tokens;
} acn_event;

/* Called once per normalized event. Return 0 to go on, non-zero to stop. */
typedef int (*acn_event_fn)(void *ctx, const acn_event *event);

const char *acn_event_type_name(acn_event_type type);     /* "text_delta", ... */
const char *acn_stop_reason_name(acn_stop_reason reason); /* "end_turn", ...; NULL for NONE */

#endif
