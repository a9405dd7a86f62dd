/*
 * decode_openai_responses.c: the OpenAI Responses streaming dialect
 * (POST /v1/responses with stream: true).
 *
 * Every payload names its event in `type` (the SSE event name says the same):
 * response.created / response.in_progress (response.id, response.model),
 * response.output_item.added / .done (output_index, item: a message, a
 * `function_call` with id, call_id, name and arguments, or a `reasoning` item
 * with id and, with include: ["reasoning.encrypted_content"], encrypted_content),
 * response.output_text.delta and response.refusal.delta (delta),
 * response.function_call_arguments.delta (output_index, delta),
 * response.reasoning_summary_text.delta (item_id, output_index, delta),
 * response.reasoning_summary_part.added (summary_index), and the terminal events
 * response.completed, response.incomplete (response.incomplete_details.reason)
 * and response.failed (response.error {code, message}), each with response.usage
 * (input_tokens, output_tokens, input_tokens_details.cached_tokens). A top-level
 * `error` event ({code, message, param}) ends the stream too. There is no [DONE].
 *
 * Events: text and refusal deltas are TEXT_DELTA 0; a function_call item is a
 * tool call indexed by its output_index, keyed by call_id, ended by its
 * output_item.done; a reasoning item is a thinking block at its output_index:
 * its summary text as THINKING_DELTA (a blank line between summary parts), its
 * encrypted_content as SIGNATURE_DELTA when the item is done, both with the
 * item's id, which the next round sends back with it.
 *
 * Other event types (the .done events repeating what the deltas sent, content
 * parts, annotations) are skipped unparsed when the SSE event name says which
 * they are; output arrays and message content inside a payload are skipped.
 */
#include "decode_dialect.h"

#include <stdio.h>
#include <string.h>

enum {
    S_TYPE = 0,
    S_RESPONSE_ID,
    S_MODEL,
    S_STATUS,
    S_DELTA,
    S_ITEM_ID, /* a delta's item_id */
    S_ITEM_TYPE,
    S_ITEM_OWN_ID, /* item.id */
    S_CALL_ID,
    S_CALL_NAME,
    S_CALL_ARGS,
    S_ENCRYPTED,
    S_INCOMPLETE,
    S_ERROR_CODE,
    S_ERROR_MESSAGE
};

enum { N_OUTPUT_INDEX = 0, N_SUMMARY_INDEX, N_INPUT, N_OUTPUT, N_CACHED };

/* The incomplete_details reasons; a completed response's status ends the turn. */
static const acn_stop_name stop_names[] = {
    {"max_output_tokens", ACN_STOP_MAX_TOKENS},
    {"content_filter", ACN_STOP_REFUSAL},
    {NULL, ACN_STOP_END_TURN},
};

static acn_stop_reason stop_reason(const char *text, size_t len)
{
    return acn_decode_stop_reason(stop_names, text, len);
}

static int keep_string(acn_decoder *d, int slot, acn_json_kind kind, const char *text, size_t len)
{
    return kind == ACN_JSON_STRING ? acn_decoder_keep(d, text, len, &d->str[slot]) : 0;
}

static int top_scalar(acn_decoder *d, const acn_json_walk *w, acn_json_kind kind, const char *text,
                      size_t len)
{
    const acn_json_frame *key = &w->frames[0];

    if (acn_decode_is(key->key, key->key_len, "type"))
        return keep_string(d, S_TYPE, kind, text, len);
    if (acn_decode_is(key->key, key->key_len, "delta"))
        return keep_string(d, S_DELTA, kind, text, len);
    if (acn_decode_is(key->key, key->key_len, "output_index"))
        return acn_decoder_keep_number(d, N_OUTPUT_INDEX, kind, text, len);
    if (acn_decode_is(key->key, key->key_len, "item_id"))
        return keep_string(d, S_ITEM_ID, kind, text, len);
    if (acn_decode_is(key->key, key->key_len, "summary_index"))
        return acn_decoder_keep_number(d, N_SUMMARY_INDEX, kind, text, len);
    /* the `error` event's own fields */
    if (acn_decode_is(key->key, key->key_len, "code"))
        return keep_string(d, S_ERROR_CODE, kind, text, len);
    if (acn_decode_is(key->key, key->key_len, "message"))
        return keep_string(d, S_ERROR_MESSAGE, kind, text, len);
    return 0;
}

static int item_scalar(acn_decoder *d, const acn_json_frame *leaf, acn_json_kind kind, const char *text,
                       size_t len)
{
    static const struct {
        const char *key;
        int slot;
    } keys[] = {{"type", S_ITEM_TYPE}, {"id", S_ITEM_OWN_ID},      {"call_id", S_CALL_ID},
                {"name", S_CALL_NAME}, {"arguments", S_CALL_ARGS}, {"encrypted_content", S_ENCRYPTED}};
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (acn_decode_is(leaf->key, leaf->key_len, keys[i].key))
            return keep_string(d, keys[i].slot, kind, text, len);
    return 0;
}

static int error_scalar(acn_decoder *d, const acn_json_frame *leaf, acn_json_kind kind, const char *text,
                        size_t len)
{
    if (acn_decode_is(leaf->key, leaf->key_len, "code"))
        return keep_string(d, S_ERROR_CODE, kind, text, len);
    if (acn_decode_is(leaf->key, leaf->key_len, "message"))
        return keep_string(d, S_ERROR_MESSAGE, kind, text, len);
    return 0;
}

static int on_scalar(void *ctx, const acn_json_walk *w, acn_json_kind kind, const char *text, size_t len)
{
    acn_decoder *d = ctx;

    switch (w->depth) {
    case 1: return top_scalar(d, w, kind, text, len);
    case 2:
        if (acn_decode_key_is(w, 0, "item"))
            return item_scalar(d, &w->frames[1], kind, text, len);
        if (acn_decode_key_is(w, 0, "error"))
            return error_scalar(d, &w->frames[1], kind, text, len);
        if (acn_decode_key_is(w, 1, "id"))
            return keep_string(d, S_RESPONSE_ID, kind, text, len);
        if (acn_decode_key_is(w, 1, "model"))
            return keep_string(d, S_MODEL, kind, text, len);
        if (acn_decode_key_is(w, 1, "status"))
            return keep_string(d, S_STATUS, kind, text, len);
        return 0;
    case 3:
        if (acn_json_walk_at(w, "response.usage.input_tokens"))
            return acn_decoder_keep_number(d, N_INPUT, kind, text, len);
        if (acn_json_walk_at(w, "response.usage.output_tokens"))
            return acn_decoder_keep_number(d, N_OUTPUT, kind, text, len);
        if (acn_json_walk_at(w, "response.incomplete_details.reason"))
            return keep_string(d, S_INCOMPLETE, kind, text, len);
        if (acn_decode_key_is(w, 1, "error"))
            return error_scalar(d, &w->frames[2], kind, text, len);
        return 0;
    case 4:
        if (acn_json_walk_at(w, "response.usage.input_tokens_details.cached_tokens"))
            return acn_decoder_keep_number(d, N_CACHED, kind, text, len);
        return 0;
    default: return 0;
    }
}

static int on_open(void *ctx, const acn_json_walk *w, int is_array)
{
    (void)ctx;
    if (is_array)
        return w->depth == 0 ? ACN_JSON_DESCEND : ACN_JSON_SKIP;
    switch (w->depth) {
    case 0: return ACN_JSON_DESCEND;
    case 1:
        return acn_json_walk_at(w, "response") || acn_json_walk_at(w, "item") || acn_json_walk_at(w, "error")
                   ? ACN_JSON_DESCEND
                   : ACN_JSON_SKIP;
    case 2:
        return acn_json_walk_at(w, "response.usage") || acn_json_walk_at(w, "response.incomplete_details") ||
                       acn_json_walk_at(w, "response.error")
                   ? ACN_JSON_DESCEND
                   : ACN_JSON_SKIP;
    case 3:
        return acn_json_walk_at(w, "response.usage.input_tokens_details") ? ACN_JSON_DESCEND : ACN_JSON_SKIP;
    default: return ACN_JSON_SKIP;
    }
}

static const acn_json_listener listener = {on_scalar, on_open, NULL, NULL};

/* The event types read; any other is skipped unparsed when the SSE event names it
 * ("message" is the name of an event that has none: its payload's type says). */
static const char *const known_events[] = {"message",
                                           "response.created",
                                           "response.in_progress",
                                           "response.output_item.added",
                                           "response.output_item.done",
                                           "response.output_text.delta",
                                           "response.refusal.delta",
                                           "response.function_call_arguments.delta",
                                           "response.reasoning_summary_text.delta",
                                           "response.reasoning_summary_part.added",
                                           "response.completed",
                                           "response.incomplete",
                                           "response.failed",
                                           "error",
                                           NULL};

#define FAST_HEAD "{\"type\":\"response.output_text.delta\","

/* A key of the fast path's payload: `"key":` at *p, then *p past it. */
static int fast_key(const char **p, const char *end, const char *key)
{
    size_t n = strlen(key);

    if ((size_t)(end - *p) < n + 3 || (*p)[0] != '"' || memcmp(*p + 1, key, n) != 0 || (*p)[n + 1] != '"' ||
        (*p)[n + 2] != ':')
        return 0;
    *p += n + 3;
    return 1;
}

/* A JSON string of printable ASCII without escapes at *p (the ids OpenAI writes);
 * *p past it. Anything else is the general path's to judge. */
static int fast_plain_string(const char **p, const char *end)
{
    const char *q = *p + 1;

    if (*p >= end || **p != '"')
        return 0;
    while (q < end && *q != '"' && *q != '\\' && *q >= 0x20 && *q < 0x7f)
        q++;
    if (q >= end || *q != '"')
        return 0;
    *p = q + 1;
    return 1;
}

/* Up to 9 digits at *p, no leading zero; -1 when there are none. */
static long fast_digits(const char **p, const char *end)
{
    long value = 0;
    int digits = 0;

    while (*p < end && **p >= '0' && **p <= '9' && digits < 9) {
        value = value * 10 + (**p - '0');
        (*p)++;
        digits++;
    }
    if (digits == 0 || (digits > 1 && (*p)[-digits] == '0') || (*p < end && **p >= '0' && **p <= '9'))
        return -1;
    return value;
}

/*
 * The hot path: a text delta exactly as OpenAI writes it,
 *   {"type":"response.output_text.delta","sequence_number":N,"item_id":"msg_..",
 *    "output_index":N,"content_index":N,"delta":"...","logprobs":[],"obfuscation":".."}
 * sequence_number first or (as the API reference shows it) after the delta,
 * logprobs and obfuscation after it, each optional and once; decoded without the
 * general JSON walk. Anything else, or anything doubtful in the delta, returns 0 and takes
 * the general path, which gives the same event.
 */
static int fast_text_delta(acn_decoder *d, const acn_sse_event *event, acn_status *status)
{
    const char *p = event->data;
    const char *end = p + event->data_len;
    const char *text;
    size_t len;
    int seen_sequence = 0;
    int seen_logprobs = 0;
    int seen_obfuscation = 0;

    if (event->data_len < sizeof(FAST_HEAD) || memcmp(p, FAST_HEAD, sizeof(FAST_HEAD) - 1) != 0)
        return 0;
    p += sizeof(FAST_HEAD) - 1;
    if (fast_key(&p, end, "sequence_number")) {
        if (fast_digits(&p, end) < 0 || p >= end || *p++ != ',')
            return 0;
        seen_sequence = 1;
    }
    if (!fast_key(&p, end, "item_id") || !fast_plain_string(&p, end) || p >= end || *p++ != ',')
        return 0;
    if (!fast_key(&p, end, "output_index") || fast_digits(&p, end) < 0 || p >= end || *p++ != ',')
        return 0;
    if (!fast_key(&p, end, "content_index") || fast_digits(&p, end) < 0 || p >= end || *p++ != ',')
        return 0;
    if (!fast_key(&p, end, "delta") || p >= end || *p != '"')
        return 0;
    text = ++p;
    while (p < end && *p != '"') /* the delta's end: an unescaped quote */
        p += (*p == '\\' && p + 1 < end) ? 2 : 1;
    if (p >= end)
        return 0;
    len = (size_t)(p - text);
    p++;
    /* then, each optional and once: sequence_number, logprobs (empty), obfuscation */
    while (p < end && *p == ',') {
        p++;
        if (!seen_sequence && fast_key(&p, end, "sequence_number")) {
            if (fast_digits(&p, end) < 0)
                return 0;
            seen_sequence = 1;
        } else if (!seen_logprobs && fast_key(&p, end, "logprobs")) {
            if ((size_t)(end - p) < 2 || p[0] != '[' || p[1] != ']')
                return 0;
            p += 2;
            seen_logprobs = 1;
        } else if (!seen_obfuscation && fast_key(&p, end, "obfuscation")) {
            if (!fast_plain_string(&p, end))
                return 0;
            seen_obfuscation = 1;
        } else {
            return 0;
        }
    }
    if (end - p != 1 || *p != '}')
        return 0;
    return acn_decoder_emit_raw_text(d, text, len, 0, status);
}

static acn_status begin(acn_decoder *d, const acn_sse_event *event, int *handled)
{
    acn_status status = ACN_OK;

    if (fast_text_delta(d, event, &status)) {
        *handled = 1;
        return status;
    }
    *handled = event->type_len > 0 && !acn_decode_one_of(event->type, event->type_len, known_events);
    return ACN_OK;
}

static acn_status output_index(acn_decoder *d, const char *what, int *index)
{
    if (!acn_decoder_has(d, N_OUTPUT_INDEX))
        return acn_decoder_fail(d, ACN_ERR_MALFORMED, "%s event without an output_index", what);
    return acn_decoder_index(d, d->num[N_OUTPUT_INDEX], index);
}

static acn_status emit_slot(acn_decoder *d, acn_event_type type, int index, int text_slot, int id_slot)
{
    acn_event event;

    if (!d->str[text_slot].set || d->str[text_slot].len == 0)
        return ACN_OK;
    acn_decoder_event_init(&event, type, index);
    acn_decoder_event_text(&event, d, d->str[text_slot]);
    if (id_slot >= 0 && d->str[id_slot].set) {
        event.id = acn_decoder_str(d, d->str[id_slot]);
        event.id_len = d->str[id_slot].len;
    }
    return acn_decoder_emit(d, &event);
}

static acn_status call_start(acn_decoder *d, int index)
{
    acn_decode_str id = d->str[S_CALL_ID].set ? d->str[S_CALL_ID] : d->str[S_ITEM_OWN_ID];
    acn_event event;
    acn_status status;

    if (acn_decoder_keep_call_id(d, index, &id) != 0)
        return d->status;
    if ((status = acn_decoder_set_block(d, index, ACN_BLOCK_TOOL)) != ACN_OK)
        return status;
    acn_decoder_event_init(&event, ACN_EVENT_TOOL_CALL_START, index);
    event.id = acn_decoder_str(d, id);
    event.id_len = id.len;
    if (d->str[S_CALL_NAME].set) {
        event.name = acn_decoder_str(d, d->str[S_CALL_NAME]);
        event.name_len = d->str[S_CALL_NAME].len;
    }
    d->tool_calls++;
    return acn_decoder_emit(d, &event);
}

static acn_status call_end(acn_decoder *d, int index)
{
    acn_event event;
    acn_status status = acn_decoder_set_block(d, index, ACN_BLOCK_TOOL_DONE);

    if (status != ACN_OK)
        return status;
    acn_decoder_event_init(&event, ACN_EVENT_TOOL_CALL_END, index);
    return acn_decoder_emit(d, &event);
}

static acn_status item_added(acn_decoder *d)
{
    int index;
    acn_status status;

    if (!acn_decoder_str_is(d, S_ITEM_TYPE, "function_call"))
        return ACN_OK;
    if ((status = output_index(d, "an output_item.added", &index)) != ACN_OK)
        return status;
    if (acn_decoder_block(d, index) != ACN_BLOCK_NONE)
        return ACN_OK;
    return call_start(d, index);
}

/* A function_call item is whole when done: a call whose added event never came
 * starts here with the item's arguments. A reasoning item's encrypted content
 * closes its block. */
static acn_status item_done(acn_decoder *d)
{
    int index;
    acn_status status;
    acn_event event;

    if (acn_decoder_str_is(d, S_ITEM_TYPE, "function_call")) {
        if ((status = output_index(d, "an output_item.done", &index)) != ACN_OK)
            return status;
        if (acn_decoder_block(d, index) == ACN_BLOCK_TOOL_DONE)
            return ACN_OK;
        if (acn_decoder_block(d, index) == ACN_BLOCK_NONE) {
            if ((status = call_start(d, index)) != ACN_OK ||
                (status = emit_slot(d, ACN_EVENT_TOOL_ARGS_DELTA, index, S_CALL_ARGS, -1)) != ACN_OK)
                return status;
        }
        return call_end(d, index);
    }
    if (!acn_decoder_str_is(d, S_ITEM_TYPE, "reasoning"))
        return ACN_OK;
    if ((status = output_index(d, "an output_item.done", &index)) != ACN_OK)
        return status;
    if ((status = emit_slot(d, ACN_EVENT_SIGNATURE_DELTA, index, S_ENCRYPTED, S_ITEM_OWN_ID)) != ACN_OK)
        return status;
    acn_decoder_event_init(&event, ACN_EVENT_BLOCK_END, index);
    return acn_decoder_emit(d, &event);
}

static acn_status summary_part(acn_decoder *d)
{
    static const char blank_line[] = "\n\n";
    acn_event event;
    acn_status status;
    int index;

    if (acn_decoder_slot(d, N_SUMMARY_INDEX) <= 0)
        return ACN_OK;
    if ((status = output_index(d, "a reasoning_summary_part.added", &index)) != ACN_OK)
        return status;
    acn_decoder_event_init(&event, ACN_EVENT_THINKING_DELTA, index);
    event.text = blank_line;
    event.text_len = sizeof(blank_line) - 1;
    if (d->str[S_ITEM_ID].set) {
        event.id = acn_decoder_str(d, d->str[S_ITEM_ID]);
        event.id_len = d->str[S_ITEM_ID].len;
    }
    return acn_decoder_emit(d, &event);
}

/* Calls still open when the response completes end with it. */
static acn_status end_calls(acn_decoder *d)
{
    size_t index;
    acn_status status;

    for (index = 0; index < d->blocks.len; index++)
        if (acn_decoder_block(d, (long long)index) == ACN_BLOCK_TOOL &&
            (status = call_end(d, (int)index)) != ACN_OK)
            return status;
    return ACN_OK;
}

static acn_status terminal(acn_decoder *d, int completed)
{
    acn_status status;
    acn_stop_reason reason;
    int text_slot = S_STATUS;

    status = acn_decoder_usage(d, acn_decoder_slot(d, N_INPUT), acn_decoder_slot(d, N_OUTPUT),
                               acn_decoder_slot(d, N_CACHED), -1);
    if (status != ACN_OK)
        return status;
    if (completed) {
        if ((status = end_calls(d)) != ACN_OK)
            return status;
        reason = d->tool_calls > 0 ? ACN_STOP_TOOL_USE : d->refusal ? ACN_STOP_REFUSAL : ACN_STOP_END_TURN;
    } else {
        text_slot = d->str[S_INCOMPLETE].set ? S_INCOMPLETE : S_STATUS;
        reason = d->str[S_INCOMPLETE].set
                     ? stop_reason(acn_decoder_str(d, d->str[S_INCOMPLETE]), d->str[S_INCOMPLETE].len)
                     : ACN_STOP_MAX_TOKENS;
    }
    if ((status = acn_decoder_stop(d, reason, text_slot)) != ACN_OK)
        return status;
    return acn_decoder_terminal(d);
}

/* Appends `src` (a kept string) to the decoder's strings as the body of a JSON
 * string, through a small local chunk: appending from the strings to themselves
 * could move them. */
static int keep_escaped(acn_decoder *d, acn_decode_str src)
{
    char chunk[64];
    acn_decode_str piece;
    size_t n = 0;
    size_t i;

    for (i = 0; i < src.len; i++) {
        unsigned char c = (unsigned char)d->strings.ptr[src.off + i];

        if (n + 6 > sizeof(chunk)) {
            if (acn_decoder_keep(d, chunk, n, &piece) != 0)
                return -1;
            n = 0;
        }
        if (c == '"' || c == '\\') {
            chunk[n++] = '\\';
            chunk[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(chunk + n, 7, "\\u%04x", c);
        } else {
            chunk[n++] = (char)c;
        }
    }
    return acn_decoder_keep(d, chunk, n, &piece);
}

static int keep_literal(acn_decoder *d, const char *text)
{
    acn_decode_str piece;

    return acn_decoder_keep(d, text, strlen(text), &piece);
}

/*
 * response.failed nests its error in the response: the classifier is handed it
 * as OpenAI's error body, {"error":{"code":...,"message":...}}, which it reads
 * as it reads an HTTP error's. The `error` event's own payload needs no such help.
 */
static acn_status failed(acn_decoder *d)
{
    size_t start = d->strings.len;
    acn_event event;
    int bad = keep_literal(d, "{\"error\":{\"code\":") != 0;

    if (!bad && d->str[S_ERROR_CODE].set)
        bad = keep_literal(d, "\"") != 0 || keep_escaped(d, d->str[S_ERROR_CODE]) != 0 ||
              keep_literal(d, "\"") != 0;
    else if (!bad)
        bad = keep_literal(d, "null") != 0;
    if (!bad)
        bad = keep_literal(d, ",\"message\":\"") != 0 || keep_escaped(d, d->str[S_ERROR_MESSAGE]) != 0 ||
              keep_literal(d, "\"}}") != 0;
    if (bad)
        return d->status;
    acn_decoder_event_init(&event, ACN_EVENT_ERROR, -1);
    event.name = acn_decoder_str(d, d->str[S_ERROR_CODE]);
    event.name_len = d->str[S_ERROR_CODE].len;
    acn_decoder_event_text(&event, d, d->str[S_ERROR_MESSAGE]);
    event.raw = d->strings.ptr + start;
    event.raw_len = d->strings.len - start;
    d->done = 1;
    return acn_decoder_emit(d, &event);
}

static acn_status end(acn_decoder *d, const acn_sse_event *sse)
{
    const char *type = sse->type;
    size_t len = sse->type_len;
    acn_status status;
    int index;

    if (d->str[S_TYPE].set) {
        type = acn_decoder_str(d, d->str[S_TYPE]);
        len = d->str[S_TYPE].len;
    }
    if (acn_decode_is(type, len, "error"))
        return acn_decoder_error_event(d, sse, S_ERROR_CODE, S_ERROR_MESSAGE);
    if (acn_decode_is(type, len, "response.failed"))
        return failed(d);
    if ((status = acn_decoder_start(d, S_RESPONSE_ID, S_MODEL)) != ACN_OK)
        return status;
    if (acn_decode_is(type, len, "response.output_text.delta"))
        return emit_slot(d, ACN_EVENT_TEXT_DELTA, 0, S_DELTA, -1);
    if (acn_decode_is(type, len, "response.function_call_arguments.delta")) {
        if ((status = output_index(d, "a function_call_arguments.delta", &index)) != ACN_OK)
            return status;
        return emit_slot(d, ACN_EVENT_TOOL_ARGS_DELTA, index, S_DELTA, -1);
    }
    if (acn_decode_is(type, len, "response.reasoning_summary_text.delta")) {
        if ((status = output_index(d, "a reasoning_summary_text.delta", &index)) != ACN_OK)
            return status;
        return emit_slot(d, ACN_EVENT_THINKING_DELTA, index, S_DELTA, S_ITEM_ID);
    }
    if (acn_decode_is(type, len, "response.reasoning_summary_part.added"))
        return summary_part(d);
    if (acn_decode_is(type, len, "response.refusal.delta")) {
        if (d->str[S_DELTA].set && d->str[S_DELTA].len > 0)
            d->refusal = 1;
        return emit_slot(d, ACN_EVENT_TEXT_DELTA, 0, S_DELTA, -1);
    }
    if (acn_decode_is(type, len, "response.output_item.added"))
        return item_added(d);
    if (acn_decode_is(type, len, "response.output_item.done"))
        return item_done(d);
    if (acn_decode_is(type, len, "response.completed"))
        return terminal(d, 1);
    if (acn_decode_is(type, len, "response.incomplete"))
        return terminal(d, 0);
    return ACN_OK;
}

const acn_dialect acn_dialect_openai_responses = {
    .name = "openai_responses",
    .listener = &listener,
    .begin = begin,
    .end = end,
    .stop_reason = stop_reason,
    .keeps_thinking_blocks = 1, /* reasoning items go back with their encrypted content */
};
