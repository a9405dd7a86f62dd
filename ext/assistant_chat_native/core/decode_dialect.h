/*
 * decode_dialect.h: the helpers the decoder (decoder.c) lends the dialects
 * (decode_anthropic.c, decode_openai.c, decode_openai_responses.c,
 * decode_gemini.c), which plug into it through their acn_dialect entries
 * (dialect.h). Internal to the decoders:
 * nothing outside them includes this.
 */
#ifndef ACN_DECODE_DIALECT_H
#define ACN_DECODE_DIALECT_H

#include "decode.h"
#include "decode_match.h"
#include "dialect.h"

/* An event found inside a payload's arrays, kept until the payload has parsed. */
typedef struct acn_decode_pending {
    acn_event_type type;
    int index;
    int server_tool;
    acn_decode_str text;
    acn_decode_str id;
    acn_decode_str name;
} acn_decode_pending;

/* Block kinds kept in d->blocks. */
enum {
    ACN_BLOCK_NONE = 0,
    ACN_BLOCK_TEXT,
    ACN_BLOCK_THINKING,
    ACN_BLOCK_REDACTED,
    ACN_BLOCK_TOOL,     /* a tool call that has started and not ended */
    ACN_BLOCK_TOOL_DONE /* a tool call that has ended */
};

/* Records the failure (the first one wins) and returns `status`. */
acn_status acn_decoder_fail(acn_decoder *d, acn_status status, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Copies a string of the payload into d->strings. Returns 0, or -1 after recording
 * the failure (for use as a listener's return value). */
int acn_decoder_keep(acn_decoder *d, const char *text, size_t len, acn_decode_str *out);
const char *acn_decoder_str(const acn_decoder *d, acn_decode_str str);
/* The string slot was sent and is exactly `literal`. */
int acn_decoder_str_is(const acn_decoder *d, int slot, const char *literal);
/* Keeps "call_<index>" in *id unless the call sent an id of its own; 0, or -1 as keep. */
int acn_decoder_keep_call_id(acn_decoder *d, int index, acn_decode_str *id);
/* Stores a number slot from a JSON number; returns 0, or -1 after recording the failure. */
int acn_decoder_keep_number(acn_decoder *d, int slot, acn_json_kind kind, const char *text, size_t len);
int acn_decoder_has(const acn_decoder *d, int slot);

int acn_decoder_push(acn_decoder *d, const acn_decode_pending *pending);
/* Emits the pending events in order, then clears them. */
acn_status acn_decoder_emit_pending(acn_decoder *d);
/* One pending event as it was pushed. */
acn_status acn_decoder_emit_one(acn_decoder *d, const acn_decode_pending *pending);
/* Like acn_decoder_emit_pending, but each pending event goes through `emit`, which
 * may emit it as it is (acn_decoder_emit_one), as several events, or not at all:
 * for what a dialect can only resolve once the whole payload has been read. */
typedef acn_status (*acn_decode_emit_fn)(acn_decoder *d, const acn_decode_pending *pending);
acn_status acn_decoder_emit_pending_with(acn_decoder *d, acn_decode_emit_fn emit);
/* How many events are pending; acn_decoder_pending_drop(d, count) forgets those
 * pushed after the first `count` (a part of the payload that turned out not to count). */
size_t acn_decoder_pending_count(const acn_decoder *d);
void acn_decoder_pending_drop(acn_decoder *d, size_t count);

/* A fast path's text delta: the JSON string body raw[0, raw_len) (escapes and all, without
 * its quotes), unescaped into d->strings and emitted as a text delta of block `index`. Returns
 * 0, keeping nothing, when the body is doubtful (the caller then takes the general path, which
 * gives the same event), else 1 with the emit's status in *status (an empty delta emits none). */
int acn_decoder_emit_raw_text(acn_decoder *d, const char *raw, size_t raw_len, int index, acn_status *status);

void acn_decoder_event_init(acn_event *event, acn_event_type type, int index);
void acn_decoder_event_text(acn_event *event, const acn_decoder *d, acn_decode_str text);
acn_status acn_decoder_emit(acn_decoder *d, const acn_event *event);
/* MESSAGE_START from the id and name slots, once per stream, when either was sent. */
acn_status acn_decoder_start(acn_decoder *d, int id_slot, int model_slot);
/* A number slot's value, -1 when it was not sent. */
long long acn_decoder_slot(const acn_decoder *d, int slot);
/* Sets a number slot to 1: a flag the payload raised. */
void acn_decoder_set_flag(acn_decoder *d, int slot);
void acn_decoder_unset(acn_decoder *d, int slot);
/* USAGE with these counts (-1 for one not sent); nothing when none was sent. */
acn_status acn_decoder_usage(acn_decoder *d, long long input, long long output, long long cache_read,
                             long long cache_write);
/* STOP with the provider's string from a string slot. */
acn_status acn_decoder_stop(acn_decoder *d, acn_stop_reason reason, int text_slot);
/* DONE, and acn_decoder_done becomes true. */
acn_status acn_decoder_terminal(acn_decoder *d);
acn_status acn_decoder_error_event(acn_decoder *d, const acn_sse_event *event, int type_slot,
                                   int message_slot);

/* d->blocks: the kind at `index` (ACN_BLOCK_NONE when unknown or out of range). */
int acn_decoder_block(const acn_decoder *d, long long index);
acn_status acn_decoder_set_block(acn_decoder *d, long long index, int kind);
/* Converts a payload index, refusing negatives and those past ACN_DECODER_MAX_BLOCKS. */
acn_status acn_decoder_index(acn_decoder *d, long long value, int *out);

#endif
