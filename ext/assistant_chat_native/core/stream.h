/*
 * stream.h: one LLM request streamed end to end: transport (libcurl) -> SSE and the
 * provider's decoder -> accumulator -> throttle -> callbacks, puma style (function
 * pointers and a void * context).
 *
 * Owns: the transport, the decoder, the accumulator and the throttle; all bounded.
 * Every event-level buffer (SSE line, data, type, id, decoded strings, captures, the
 * error body) counts against one budget of max_event_bytes (acn.h says why 16 MiB);
 * the reply against max_reply_bytes; the error body also stops at max_error_body.
 * Tool calls are announced in order (accum.announced counts them), each exactly once,
 * and every call that ends is announced even when calls before it were dropped. Borrows: the request strings
 * during init only (the transport copies what it keeps), and the callback context.
 *
 * Callbacks (any may be NULL: that kind of event is then never delivered):
 *   on_text / on_thinking   a throttled flush: everything so far and the new part; the
 *                           first delta flushes at once, later ones at most once per
 *                           broadcast interval, a block end, a tool call's start and the
 *                           stream's end flush what is pending; never splits UTF-8
 *   on_tool_call            a tool call started (text before it is flushed first)
 *   on_heartbeat            every heartbeat interval, whether bytes arrive or not
 *   on_cancel_poll          every cancel poll interval; non-zero means cancel
 * Any other callback returning non-zero stops the transfer (the reply then fails as
 * cancelled). Heartbeats, cancel polls and pending flushes happen on time while no
 * byte arrives: the transport's wait never outlasts the nearest of them. Once the first
 * flush is out, bytes are left in the socket until the throttle next allows a flush
 * (at most 100 ms), whether or not text is pending yet, so a trickling stream costs one
 * wake-up per broadcast interval rather than one per event or two per interval; a
 * tool call or the stream's end may then reach the callbacks up to that much later. A
 * wait that reads nothing falls back to waking on the next byte, which then flushes at
 * once: a stream that pauses is not polled.
 *
 * Runs in steps so a host runtime can take its thread back: a callback may call
 * acn_stream_pause (acn_stream_run then returns ACN_STREAM_PAUSED right after it),
 * and acn_stream_interrupt from any thread makes a waiting run return PAUSED with
 * `interrupted` set. Calling acn_stream_run again resumes where it left off. The
 * state between steps lives in this struct; nothing is lost across a pause.
 */
#ifndef ACN_STREAM_H
#define ACN_STREAM_H

#include "accum.h"
#include "acn.h"
#include "failure.h"
#include "throttle.h"
#include "transport.h"

#include <stdint.h>

typedef struct acn_stream_callbacks {
    int (*on_text)(void *ctx, const acn_accum_chunk *chunk);
    int (*on_thinking)(void *ctx, const acn_accum_chunk *chunk);
    int (*on_tool_call)(void *ctx, const acn_accum_tool_call *call);
    int (*on_heartbeat)(void *ctx, double elapsed_seconds);
    int (*on_cancel_poll)(void *ctx);
} acn_stream_callbacks;

typedef struct acn_stream_config {
    acn_provider provider;
    acn_transport_request request;    /* url, body, headers, timeouts, error body bound */
    uint64_t broadcast_interval_ns;   /* between text flushes */
    uint64_t heartbeat_interval_ns;   /* 0: no heartbeats */
    uint64_t cancel_poll_interval_ns; /* 0: no cancel polls */
    size_t max_event_bytes;           /* the event-level budget; 0: ACN_DEFAULT_MAX_EVENT_BYTES */
    size_t max_reply_bytes;           /* 0: ACN_ACCUM_DEFAULT_MAX_REPLY_BYTES */
} acn_stream_config;

typedef enum acn_stream_state {
    ACN_STREAM_PAUSED = 0, /* call acn_stream_run again to go on */
    ACN_STREAM_FINISHED    /* accum holds the reply and its failure */
} acn_stream_state;

typedef struct acn_stream_stats {
    int status;                 /* HTTP status, 0 when no response came */
    double time_to_first_byte;  /* seconds from the start; negative when none came */
    double time_to_first_token; /* to the first text, thinking or tool call; negative when none */
    double duration;            /* seconds from the start to the end (or to now) */
    uint64_t bytes;             /* response body bytes */
    uint64_t events;            /* normalized events decoded */
    uint64_t flushes;           /* text and thinking flushes delivered */
    long new_connections;       /* 0 when an open connection was reused */
} acn_stream_stats;

struct acn_decoder;

typedef struct acn_stream {
    acn_provider provider;
    acn_stream_callbacks callbacks;
    void *ctx;
    acn_transport transport;
    struct acn_decoder *decoder;
    acn_accum accum;
    acn_throttle throttle;
    acn_status decoder_status; /* why the decoder stopped taking bytes, ACN_OK while it takes them */

    uint64_t started_ns;
    uint64_t first_token_ns;
    uint64_t finished_ns;
    uint64_t heartbeat_interval_ns;
    uint64_t next_heartbeat_ns;
    uint64_t cancel_poll_interval_ns;
    uint64_t next_cancel_poll_ns;
    uint64_t linger_until_ns; /* after the terminal event, how long to wait for the response's end */
    uint64_t events;
    uint64_t flushes;

    int block_ended;        /* a block or the message ended since the last flush */
    int flush_thinking_now; /* a flush was decided; thinking not yet delivered */
    int flush_text_now;     /* a flush was decided; text not yet delivered */
    int started;
    int closing;       /* the transfer is over: final flushes under way */
    int final_flushed; /* the final flush was decided */
    int finished;
    int cancelled; /* by acn_stream_cancel or on_cancel_poll */
    int stopped;   /* a callback returned non-zero */
    int pause_requested;
    int drain_now;   /* a coalescing wait ended: read before flushing */
    int interrupted; /* the last run returned because of acn_stream_interrupt */
} acn_stream;

/* ACN_OK, ACN_ERR_NOMEM, or ACN_ERR_MALFORMED (a URL libcurl refuses). On error
 * nothing needs freeing (acn_stream_free is still safe). */
acn_status acn_stream_init(acn_stream *stream, const acn_stream_config *config,
                           const acn_stream_callbacks *callbacks, void *ctx);
/* Runs until the reply is finished or a pause (see above). */
acn_stream_state acn_stream_run(acn_stream *stream);
/* From inside a callback: return from acn_stream_run right after this callback. */
void acn_stream_pause(acn_stream *stream);
/* Any thread, between init and free: cancel (the reply fails as cancelled). */
void acn_stream_cancel(acn_stream *stream);
/* Any thread, between init and free: make a waiting acn_stream_run return PAUSED soon. */
void acn_stream_interrupt(acn_stream *stream);
void acn_stream_get_stats(const acn_stream *stream, acn_stream_stats *out);
/* Closes the connection if the response is unfinished; frees everything. Idempotent. */
void acn_stream_free(acn_stream *stream);
/* Bytes held. Reads the buffers: call it only from the thread that runs the stream,
 * or while no acn_stream_run is under way (a run reallocates them). */
size_t acn_stream_memsize(const acn_stream *stream);

#endif
