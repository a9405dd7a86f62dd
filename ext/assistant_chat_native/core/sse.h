/*
 * sse.h: an incremental parser for server-sent events, to the WHATWG HTML
 * standard's "event stream interpretation" rules.
 *
 * Owns: its line, data, event type and id buffers. Their capacity together counts
 * against one budget: its own of `max_event_bytes`, or one shared with the rest of a
 * stream (acn_sse_share_budget). Past it a feed fails with ACN_ERR_LIMIT.
 * An event type over ACN_SSE_MAX_FIELD_BYTES is ACN_ERR_MALFORMED (no provider sends
 * one, and no decoder could match it); an id over it is ignored, as the standard
 * ignores an id holding NUL, and the last id stays.
 * Borrows: the bytes passed to acn_sse_feed (not kept after it returns) and the
 * callback context. Pointers in an acn_sse_event are valid only during the callback.
 * Cost is linear in input bytes however the input is split: buffered bytes are
 * never rescanned. Data may contain NUL: every string carries its length.
 */
#ifndef ACN_SSE_H
#define ACN_SSE_H

#include "acn.h"

/* The longest event type or id kept. */
#define ACN_SSE_MAX_FIELD_BYTES 256

typedef struct acn_sse_event {
    const char *type; /* "message" when the event set none */
    size_t type_len;
    const char *data; /* data lines joined with LF, one trailing LF removed */
    size_t data_len;
    const char *id; /* the last event ID, persisting across events; len 0 when none */
    size_t id_len;
    long long retry; /* the reconnection time last set by a `retry` field, -1 when none */
} acn_sse_event;

/* Called once per dispatched event. Return 0 to go on, non-zero to stop: feed
 * then returns ACN_ERR_ABORTED. */
typedef int (*acn_sse_event_fn)(void *ctx, const acn_sse_event *event);

typedef struct acn_sse_parser {
    acn_sse_event_fn on_event;
    void *ctx;
    size_t max_event_bytes;
    acn_budget own_budget; /* used unless acn_sse_share_budget gave another */
    acn_buf line;          /* the current, incomplete line */
    acn_buf data;          /* the data buffer of the event being built */
    acn_buf event_type;    /* the event type buffer */
    acn_buf last_id;       /* the last event ID buffer */
    long long retry;
    int bom_state;  /* bytes of a leading UTF-8 BOM seen so far; -1 once past it */
    int pending_cr; /* the previous chunk ended in CR: an LF starting the next is the same line end */
    int failed;     /* ACN_OK, or the acn_status that stopped it: every later feed returns it */
} acn_sse_parser;

void acn_sse_init(acn_sse_parser *parser, size_t max_event_bytes, acn_sse_event_fn on_event, void *ctx);
/* Before the first feed: count the buffers against `budget` (borrowed, outlives the
 * parser) instead of the parser's own. */
void acn_sse_share_budget(acn_sse_parser *parser, acn_budget *budget);
/* ACN_OK, ACN_ERR_LIMIT (a line or event over the bound, or the budget spent),
 * ACN_ERR_MALFORMED (an event type over ACN_SSE_MAX_FIELD_BYTES), ACN_ERR_NOMEM or
 * ACN_ERR_ABORTED. */
acn_status acn_sse_feed(acn_sse_parser *parser, const char *bytes, size_t len);
/* End of stream: an unterminated event is discarded, as the standard says. */
acn_status acn_sse_finish(acn_sse_parser *parser);
void acn_sse_free(acn_sse_parser *parser);

#endif
