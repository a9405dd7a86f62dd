/*
 * accum.h: builds the reply from a provider's normalized events (event.h): text,
 * thinking, thinking blocks (with signatures; redacted blocks' data), tool calls,
 * usage, stop reason, message id and model, and the payload of an error event that
 * came after HTTP 200. At the end it decides the failure, if any, with acn_classify.
 *
 * Owns: every buffer it fills. Together they hold at most `max_reply_bytes` (a
 * reply past that bound fails as too large; each tool call and thinking block also
 * counts ACN_ACCUM_ENTRY_COST bytes against it), so no input makes it unbounded.
 * Borrows: nothing; events' strings are copied during acn_accum_add.
 *
 * Tool-call arguments are concatenated per call and checked with yajl when the call
 * ends: empty arguments mean `{}`; anything but one strict JSON object (no comments,
 * nesting and number tokens within their bounds below) fails the reply as a
 * malformed stream.
 *
 * Text and thinking deltas lose their NUL bytes (a JSON \u0000): no text column
 * or Ruby consumer downstream wants them, and PostgreSQL refuses them.
 *
 * Flushing: acn_accum_flush_text / _thinking hand out what was added since the last
 * flush and mark it flushed. A flush never splits a UTF-8 character: an incomplete
 * trailing sequence (at most 3 bytes) waits for the rest, except in the final flush.
 */
#ifndef ACN_ACCUM_H
#define ACN_ACCUM_H

#include "acn.h"
#include "classify.h"
#include "event.h"
#include "failure.h"
#include "utf8.h" /* acn_utf8_complete_prefix, which flushes use */

/* Default bound on one reply, all buffers together: 8 MiB. A real reply of 128k
 * tokens is about 0.5 MB. A reply at the bound is held several times over by the
 * process (the C buffers, a reallocation's old and new copies, the Ruby strings a
 * flush and the Result hand out): measured, a hostile 8 MiB reply grows RSS by under
 * 40 MiB, a 16 MiB one by about 80, so with the event budget (acn.h) a hostile
 * stream stays under 64 MiB. */
#define ACN_ACCUM_DEFAULT_MAX_REPLY_BYTES ((size_t)8 * 1024 * 1024)
/* What each tool call or thinking block counts against the bound besides its bytes. */
#define ACN_ACCUM_ENTRY_COST 256
/* Tool calls one reply may hold, however the provider numbers them (Anthropic may
 * reuse block indexes): the next one fails the reply as a malformed stream. */
#define ACN_ACCUM_MAX_TOOL_CALLS 128
/* The longest number token tool-call arguments may hold, in characters: no longer
 * number is ever converted. Past it, or nested deeper than ACN_JSON_MAX_DEPTH (acn.h),
 * the arguments are refused and the reply fails as a malformed stream. */
#define ACN_ACCUM_MAX_NUMBER_CHARS 100

typedef struct acn_accum_tool_call {
    int index; /* the provider's block or tool-call index */
    acn_buf id;
    acn_buf name;
    acn_buf arguments; /* the concatenated fragments; "{}" once checked when none came */
    acn_buf signature; /* Gemini's thoughtSignature for the call, to send back with it */
    int server;        /* the provider runs it itself (Anthropic server_tool_use) */
    int ended;         /* checked: arguments are one JSON object, or invalid is set */
    int invalid;       /* the arguments are not one JSON object */
} acn_accum_tool_call;

typedef enum acn_accum_block_type {
    ACN_ACCUM_BLOCK_THINKING = 0,
    ACN_ACCUM_BLOCK_REDACTED
} acn_accum_block_type;

typedef struct acn_accum_block {
    acn_accum_block_type type;
    int index;
    int ended;
    acn_buf thinking;  /* thinking text, or a redacted block's data */
    acn_buf signature; /* thinking blocks only */
    acn_buf id;        /* the block's own id, when the provider names it (a Responses reasoning item) */
} acn_accum_block;

/* Text or thinking handed out by a flush. */
typedef struct acn_accum_chunk {
    const char *all; /* everything flushed so far, this chunk included */
    size_t all_len;
    const char *delta; /* what this flush adds: the last delta_len bytes of all */
    size_t delta_len;
} acn_accum_chunk;

typedef struct acn_accum {
    size_t max_reply_bytes;
    size_t total; /* bytes charged against max_reply_bytes so far */
    acn_buf text;
    acn_buf thinking;
    size_t text_flushed; /* bytes of text handed out by flushes */
    size_t thinking_flushed;
    acn_accum_tool_call *calls;
    size_t call_count;
    size_t call_cap;
    size_t announced; /* calls[0..announced) were handed out by the owner (acn_stream);
                         finish's dropping of unended calls keeps it pointing past them */
    acn_accum_block *blocks;
    size_t block_count;
    size_t block_cap;
    acn_buf message_id;
    acn_buf model;
    long long input_tokens; /* -1 until the provider reports one */
    long long output_tokens;
    long long cache_read_tokens;
    long long cache_write_tokens;
    acn_stop_reason stop_reason;
    acn_buf provider_stop_reason;
    int has_stop;
    int done;           /* a DONE event came */
    int has_error;      /* an ERROR event came; the first one is kept */
    acn_buf error_type; /* its type, message and whole payload */
    acn_buf error_message;
    acn_buf error_payload;
    acn_status status; /* the first bound crossed or allocation failed; sticky */
    int malformed;     /* an event the reply cannot hold (args for no call, bad JSON) */
    char malformed_detail[256];
    char limit_detail[160]; /* which count limit set status, "" for the byte bound */
    acn_failure failure;    /* decided by acn_accum_finish (kind NONE when the reply is whole) */
    int finished;
} acn_accum;

/* max_reply_bytes 0 means ACN_ACCUM_DEFAULT_MAX_REPLY_BYTES. */
void acn_accum_init(acn_accum *accum, size_t max_reply_bytes);
void acn_accum_free(acn_accum *accum);

/* Adds one event. ACN_OK, or ACN_ERR_LIMIT / ACN_ERR_NOMEM once the reply is past its
 * bound (sticky: later events are refused the same way, and finish reports too large).
 * Malformed events (arguments for a call that never started, invalid arguments) do not
 * stop accumulation: they return ACN_OK and make finish report a malformed stream. */
acn_status acn_accum_add(acn_accum *accum, const acn_event *event);
/* acn_event_fn adapter: ctx is the acn_accum; non-zero (stop decoding) past the bound. */
int acn_accum_on_event(void *ctx, const acn_event *event);

/* Text (thinking) added since the last flush, cut before an incomplete trailing UTF-8
 * sequence unless `final`. Fills `out`, marks it flushed and returns 1, or returns 0
 * (out still describes everything flushed so far) when there is nothing to hand out. */
int acn_accum_flush_text(acn_accum *accum, int final, acn_accum_chunk *out);
int acn_accum_flush_thinking(acn_accum *accum, int final, acn_accum_chunk *out);
/* Whether a flush would hand anything out (whole characters only). */
int acn_accum_text_pending(const acn_accum *accum);
int acn_accum_thinking_pending(const acn_accum *accum);

/*
 * Ends the reply and decides its failure (stored in accum->failure, also returned):
 *   - the payload of a mid-stream error event, classified with mid_stream = 1, status 200;
 *   - the reply over its bound, or decoder_status ACN_ERR_LIMIT / NOMEM: too large;
 *   - decoder_status ACN_ERR_MALFORMED, or malformed events: malformed stream;
 *   - no terminal event (neither decoder_done nor a DONE event): incomplete, and the
 *     stop reason is dropped (a reply cut short has none);
 *   - a refusal with no text at all: kind refusal.
 * decoder_detail (NUL-terminated, may be NULL) says what the decoder saw; streamed says
 * output already reached the user. A tool call that never ended (its arguments may be
 * cut) is dropped; thinking blocks are kept only for a provider whose dialect entry
 * says it takes them back (keeps_thinking_blocks, dialect.h). The stop reason is the
 * decoder's, as it came. A failure set with acn_accum_set_failure beforehand is kept.
 * Idempotent.
 */
const acn_failure *acn_accum_finish(acn_accum *accum, acn_provider provider, int decoder_done,
                                    acn_status decoder_status, const char *decoder_detail, int streamed);
/* A failure decided elsewhere (HTTP error, cancellation, transport): finish keeps it. */
void acn_accum_set_failure(acn_accum *accum, const acn_failure *failure);

/* Bytes of memory held, for Ruby's ObjectSpace.memsize_of. */
size_t acn_accum_memsize(const acn_accum *accum);

#endif
