/*
 * decode_anthropic.c: the Anthropic Messages streaming dialect.
 *
 * Events: message_start, content_block_start / content_block_delta /
 * content_block_stop (text, thinking, redacted_thinking, tool_use,
 * server_tool_use), message_delta, message_stop, ping, error. Other event types
 * are ignored without parsing their payload. The payload's own "type" wins over
 * the SSE event name; the name is used when the payload has none.
 */
#include "decode_dialect.h"

#include <string.h>

enum {
    S_TYPE = 0,
    S_MESSAGE_ID,
    S_MODEL,
    S_BLOCK_TYPE,
    S_BLOCK_ID,
    S_BLOCK_NAME,
    S_BLOCK_TEXT,
    S_BLOCK_THINKING,
    S_BLOCK_SIGNATURE,
    S_BLOCK_DATA,
    S_BLOCK_INPUT,
    S_DELTA_TYPE,
    S_DELTA_TEXT,
    S_DELTA_THINKING,
    S_DELTA_SIGNATURE,
    S_DELTA_JSON,
    S_CITATION,
    S_STOP_REASON,
    S_ERROR_TYPE,
    S_ERROR_MESSAGE
};

enum { N_INDEX = 0, N_INPUT, N_OUTPUT, N_CACHE_READ, N_CACHE_WRITE };

/* Unknown reasons end the turn. */
static const acn_stop_name stop_names[] = {
    {"tool_use", ACN_STOP_TOOL_USE},
    {"max_tokens", ACN_STOP_MAX_TOKENS},
    {"model_context_window_exceeded", ACN_STOP_MAX_TOKENS},
    {"stop_sequence", ACN_STOP_STOP_SEQUENCE},
    {"refusal", ACN_STOP_REFUSAL},
    {"pause_turn", ACN_STOP_PAUSE_TURN},
    {NULL, ACN_STOP_END_TURN},
};

static acn_stop_reason stop_reason(const char *text, size_t len)
{
    return acn_decode_stop_reason(stop_names, text, len);
}

/* Which string slot a value at depth 2 (`parent.key`) goes to, or -1. */
static int string_slot(const acn_json_walk *w)
{
    const acn_json_frame *parent = &w->frames[0];
    const acn_json_frame *leaf = &w->frames[1];
    const char *key = leaf->key;
    size_t len = leaf->key_len;

    if (acn_decode_is(parent->key, parent->key_len, "delta")) {
        if (acn_decode_is(key, len, "text"))
            return S_DELTA_TEXT;
        if (acn_decode_is(key, len, "type"))
            return S_DELTA_TYPE;
        if (acn_decode_is(key, len, "partial_json"))
            return S_DELTA_JSON;
        if (acn_decode_is(key, len, "thinking"))
            return S_DELTA_THINKING;
        if (acn_decode_is(key, len, "signature"))
            return S_DELTA_SIGNATURE;
        if (acn_decode_is(key, len, "stop_reason"))
            return S_STOP_REASON;
        return -1;
    }
    if (acn_decode_is(parent->key, parent->key_len, "content_block")) {
        if (acn_decode_is(key, len, "type"))
            return S_BLOCK_TYPE;
        if (acn_decode_is(key, len, "id"))
            return S_BLOCK_ID;
        if (acn_decode_is(key, len, "name"))
            return S_BLOCK_NAME;
        if (acn_decode_is(key, len, "text"))
            return S_BLOCK_TEXT;
        if (acn_decode_is(key, len, "thinking"))
            return S_BLOCK_THINKING;
        if (acn_decode_is(key, len, "signature"))
            return S_BLOCK_SIGNATURE;
        if (acn_decode_is(key, len, "data"))
            return S_BLOCK_DATA;
        return -1;
    }
    if (acn_decode_is(parent->key, parent->key_len, "message")) {
        if (acn_decode_is(key, len, "id"))
            return S_MESSAGE_ID;
        if (acn_decode_is(key, len, "model"))
            return S_MODEL;
        return -1;
    }
    if (acn_decode_is(parent->key, parent->key_len, "error")) {
        if (acn_decode_is(key, len, "type"))
            return S_ERROR_TYPE;
        if (acn_decode_is(key, len, "message"))
            return S_ERROR_MESSAGE;
    }
    return -1;
}

static int usage_slot(const acn_json_frame *leaf)
{
    if (acn_decode_is(leaf->key, leaf->key_len, "input_tokens"))
        return N_INPUT;
    if (acn_decode_is(leaf->key, leaf->key_len, "output_tokens"))
        return N_OUTPUT;
    if (acn_decode_is(leaf->key, leaf->key_len, "cache_read_input_tokens"))
        return N_CACHE_READ;
    if (acn_decode_is(leaf->key, leaf->key_len, "cache_creation_input_tokens"))
        return N_CACHE_WRITE;
    return -1;
}

static int on_scalar(void *ctx, const acn_json_walk *w, acn_json_kind kind, const char *text, size_t len)
{
    acn_decoder *d = ctx;
    int slot;

    switch (w->depth) {
    case 1:
        if (kind == ACN_JSON_STRING && acn_decode_is(w->frames[0].key, w->frames[0].key_len, "type"))
            return acn_decoder_keep(d, text, len, &d->str[S_TYPE]);
        if (acn_decode_is(w->frames[0].key, w->frames[0].key_len, "index"))
            return acn_decoder_keep_number(d, N_INDEX, kind, text, len);
        return 0;
    case 2:
        if (acn_decode_is(w->frames[0].key, w->frames[0].key_len, "usage")) {
            slot = usage_slot(&w->frames[1]);
            return slot < 0 ? 0 : acn_decoder_keep_number(d, slot, kind, text, len);
        }
        if (kind != ACN_JSON_STRING)
            return 0;
        slot = string_slot(w);
        return slot < 0 ? 0 : acn_decoder_keep(d, text, len, &d->str[slot]);
    case 3:
        if (acn_decode_is(w->frames[0].key, w->frames[0].key_len, "message") &&
            acn_decode_is(w->frames[1].key, w->frames[1].key_len, "usage")) {
            slot = usage_slot(&w->frames[2]);
            return slot < 0 ? 0 : acn_decoder_keep_number(d, slot, kind, text, len);
        }
        return 0;
    default: return 0;
    }
}

static int on_open(void *ctx, const acn_json_walk *w, int is_array)
{
    (void)ctx;
    switch (w->depth) {
    case 0: return ACN_JSON_DESCEND;
    case 1:
        if (is_array)
            return ACN_JSON_SKIP;
        if (acn_json_walk_at(w, "delta") || acn_json_walk_at(w, "content_block") ||
            acn_json_walk_at(w, "message") || acn_json_walk_at(w, "usage") || acn_json_walk_at(w, "error"))
            return ACN_JSON_DESCEND;
        return ACN_JSON_SKIP;
    case 2:
        if (acn_json_walk_at(w, "content_block.input") || acn_json_walk_at(w, "delta.citation"))
            return ACN_JSON_CAPTURE;
        if (!is_array && acn_json_walk_at(w, "message.usage"))
            return ACN_JSON_DESCEND;
        return ACN_JSON_SKIP;
    default: return ACN_JSON_SKIP;
    }
}

static int on_capture(void *ctx, const acn_json_walk *w, const char *json, size_t len)
{
    acn_decoder *d = ctx;

    if (acn_json_walk_at(w, "content_block.input"))
        return acn_decoder_keep(d, json, len, &d->str[S_BLOCK_INPUT]);
    return acn_decoder_keep(d, json, len, &d->str[S_CITATION]);
}

static const acn_json_listener listener = {on_scalar, on_open, NULL, on_capture};

/* The event types of the Messages stream; any other is skipped unparsed. */
static const char *const known_events[] = {"message",
                                           "message_start",
                                           "content_block_start",
                                           "content_block_delta",
                                           "content_block_stop",
                                           "message_delta",
                                           "message_stop",
                                           "ping",
                                           "error",
                                           NULL};

#define FAST_HEAD "{\"type\":\"content_block_delta\",\"index\":"
#define FAST_MID  ",\"delta\":{\"type\":\"text_delta\",\"text\":\""
#define FAST_TAIL "\"}}"

/*
 * The hot path: a text delta exactly as Anthropic writes it,
 *   {"type":"content_block_delta","index":N,"delta":{"type":"text_delta","text":"..."}}
 * decoded without the general JSON walk. Anything else, or anything doubtful inside
 * the string, returns 0 and takes the general path, which gives the same events.
 */
static int fast_text_delta(acn_decoder *d, const acn_sse_event *event, acn_status *status)
{
    const char *p = event->data;
    const char *end = p + event->data_len;
    size_t head = sizeof(FAST_HEAD) - 1;
    size_t mid = sizeof(FAST_MID) - 1;
    size_t tail = sizeof(FAST_TAIL) - 1;
    int index = 0;
    int digits = 0;

    if (event->data_len < head + 1 + mid + tail || memcmp(p, FAST_HEAD, head) != 0 ||
        memcmp(end - tail, FAST_TAIL, tail) != 0)
        return 0;
    p += head;
    while (p < end && *p >= '0' && *p <= '9' && digits < 5) {
        index = index * 10 + (*p - '0');
        p++;
        digits++;
    }
    if (digits == 0 || (digits > 1 && p[-digits] == '0') || index >= ACN_DECODER_MAX_BLOCKS)
        return 0;
    if ((size_t)(end - p) < mid + tail || memcmp(p, FAST_MID, mid) != 0)
        return 0;
    p += mid;
    return acn_decoder_emit_raw_text(d, p, (size_t)(end - tail - p), index, status);
}

static acn_status end(acn_decoder *d, const acn_sse_event *sse);

/* An `error` event is an error whatever its payload: one that is not a JSON object
 * (a proxy's plain text, say) still ends the stream, passed on whole for the classifier. */
static acn_status error_event(acn_decoder *d, const acn_sse_event *event)
{
    acn_status status = acn_json_walk_parse(&d->walk, event->data, event->data_len, &listener, d);
    acn_event out;

    if (d->failed)
        return d->status;
    if (status == ACN_OK && d->walk.root_is_map)
        return end(d, event);
    if (status != ACN_OK && status != ACN_ERR_MALFORMED)
        return acn_decoder_fail(d, status, "could not decode an error event: %s",
                                acn_json_walk_error(&d->walk));
    acn_decoder_event_init(&out, ACN_EVENT_ERROR, -1);
    out.text = event->data;
    out.text_len = event->data_len;
    out.raw = event->data;
    out.raw_len = event->data_len;
    d->done = 1;
    return acn_decoder_emit(d, &out);
}

static acn_status begin(acn_decoder *d, const acn_sse_event *event, int *handled)
{
    acn_status status = ACN_OK;

    if (acn_decode_is(event->type, event->type_len, "content_block_delta") &&
        fast_text_delta(d, event, &status)) {
        *handled = 1;
        return status;
    }
    if (acn_decode_is(event->type, event->type_len, "error")) {
        *handled = 1;
        return error_event(d, event);
    }
    *handled = !acn_decode_one_of(event->type, event->type_len, known_events);
    return ACN_OK;
}

static acn_status emit_text(acn_decoder *d, acn_event_type type, int index, int slot)
{
    acn_event event;

    if (!d->str[slot].set || d->str[slot].len == 0)
        return ACN_OK;
    acn_decoder_event_init(&event, type, index);
    acn_decoder_event_text(&event, d, d->str[slot]);
    return acn_decoder_emit(d, &event);
}

static acn_status block_index(acn_decoder *d, const char *what, int *index)
{
    if (!acn_decoder_has(d, N_INDEX))
        return acn_decoder_fail(d, ACN_ERR_MALFORMED, "%s event without an index", what);
    return acn_decoder_index(d, d->num[N_INDEX], index);
}

static acn_status block_start(acn_decoder *d)
{
    acn_event event;
    acn_status status;
    int index = 0;
    int server;

    if ((status = block_index(d, "content_block_start", &index)) != ACN_OK)
        return status;
    if (acn_decoder_str_is(d, S_BLOCK_TYPE, "text")) {
        if ((status = acn_decoder_set_block(d, index, ACN_BLOCK_TEXT)) != ACN_OK)
            return status;
        return emit_text(d, ACN_EVENT_TEXT_DELTA, index, S_BLOCK_TEXT);
    }
    if (acn_decoder_str_is(d, S_BLOCK_TYPE, "thinking")) {
        if ((status = acn_decoder_set_block(d, index, ACN_BLOCK_THINKING)) != ACN_OK)
            return status;
        if ((status = emit_text(d, ACN_EVENT_THINKING_DELTA, index, S_BLOCK_THINKING)) != ACN_OK)
            return status;
        return emit_text(d, ACN_EVENT_SIGNATURE_DELTA, index, S_BLOCK_SIGNATURE);
    }
    if (acn_decoder_str_is(d, S_BLOCK_TYPE, "redacted_thinking")) {
        if ((status = acn_decoder_set_block(d, index, ACN_BLOCK_REDACTED)) != ACN_OK)
            return status;
        acn_decoder_event_init(&event, ACN_EVENT_REDACTED_THINKING, index);
        acn_decoder_event_text(&event, d, d->str[S_BLOCK_DATA]);
        return acn_decoder_emit(d, &event);
    }
    server = acn_decoder_str_is(d, S_BLOCK_TYPE, "server_tool_use") ||
             acn_decoder_str_is(d, S_BLOCK_TYPE, "mcp_tool_use");
    if (!server && !acn_decoder_str_is(d, S_BLOCK_TYPE, "tool_use"))
        return acn_decoder_set_block(d, index, ACN_BLOCK_NONE); /* results and future kinds: not ours */
    if ((status = acn_decoder_set_block(d, index, ACN_BLOCK_TOOL)) != ACN_OK)
        return status;
    acn_decoder_event_init(&event, ACN_EVENT_TOOL_CALL_START, index);
    event.id = acn_decoder_str(d, d->str[S_BLOCK_ID]);
    event.id_len = d->str[S_BLOCK_ID].len;
    event.name = acn_decoder_str(d, d->str[S_BLOCK_NAME]);
    event.name_len = d->str[S_BLOCK_NAME].len;
    event.server_tool = server;
    if ((status = acn_decoder_emit(d, &event)) != ACN_OK)
        return status;
    /* The input arrives as input_json_delta fragments after an empty "input": {}; an
     * input given whole at the start is passed on as one fragment. */
    if (d->str[S_BLOCK_INPUT].set && !acn_decoder_str_is(d, S_BLOCK_INPUT, "{}"))
        return emit_text(d, ACN_EVENT_TOOL_ARGS_DELTA, index, S_BLOCK_INPUT);
    return ACN_OK;
}

static acn_status block_delta(acn_decoder *d)
{
    acn_status status;
    int index = 0;

    if ((status = block_index(d, "content_block_delta", &index)) != ACN_OK)
        return status;
    if (acn_decoder_str_is(d, S_DELTA_TYPE, "text_delta"))
        return emit_text(d, ACN_EVENT_TEXT_DELTA, index, S_DELTA_TEXT);
    if (acn_decoder_str_is(d, S_DELTA_TYPE, "input_json_delta"))
        return emit_text(d, ACN_EVENT_TOOL_ARGS_DELTA, index, S_DELTA_JSON);
    if (acn_decoder_str_is(d, S_DELTA_TYPE, "thinking_delta"))
        return emit_text(d, ACN_EVENT_THINKING_DELTA, index, S_DELTA_THINKING);
    if (acn_decoder_str_is(d, S_DELTA_TYPE, "signature_delta"))
        return emit_text(d, ACN_EVENT_SIGNATURE_DELTA, index, S_DELTA_SIGNATURE);
    if (acn_decoder_str_is(d, S_DELTA_TYPE, "citations_delta"))
        return emit_text(d, ACN_EVENT_CITATION, index, S_CITATION);
    return ACN_OK;
}

static acn_status block_stop(acn_decoder *d)
{
    acn_event event;
    acn_status status;
    int index = 0;

    if ((status = block_index(d, "content_block_stop", &index)) != ACN_OK)
        return status;
    switch (acn_decoder_block(d, index)) {
    case ACN_BLOCK_TEXT:
    case ACN_BLOCK_THINKING:
    case ACN_BLOCK_REDACTED: acn_decoder_event_init(&event, ACN_EVENT_BLOCK_END, index); break;
    case ACN_BLOCK_TOOL:
        if ((status = acn_decoder_set_block(d, index, ACN_BLOCK_TOOL_DONE)) != ACN_OK)
            return status;
        acn_decoder_event_init(&event, ACN_EVENT_TOOL_CALL_END, index);
        break;
    default: return ACN_OK;
    }
    return acn_decoder_emit(d, &event);
}

static acn_status usage(acn_decoder *d)
{
    return acn_decoder_usage(d, acn_decoder_slot(d, N_INPUT), acn_decoder_slot(d, N_OUTPUT),
                             acn_decoder_slot(d, N_CACHE_READ), acn_decoder_slot(d, N_CACHE_WRITE));
}

static acn_status end(acn_decoder *d, const acn_sse_event *sse)
{
    const char *type = sse->type;
    size_t len = sse->type_len;
    acn_event event;
    acn_status status;

    if (d->str[S_TYPE].set) {
        type = acn_decoder_str(d, d->str[S_TYPE]);
        len = d->str[S_TYPE].len;
    }
    if (acn_decode_is(type, len, "content_block_delta"))
        return block_delta(d);
    if (acn_decode_is(type, len, "content_block_start"))
        return block_start(d);
    if (acn_decode_is(type, len, "content_block_stop"))
        return block_stop(d);
    if (acn_decode_is(type, len, "message_start")) {
        if ((status = acn_decoder_start(d, S_MESSAGE_ID, S_MODEL)) != ACN_OK)
            return status;
        return usage(d);
    }
    if (acn_decode_is(type, len, "message_delta")) {
        if ((status = usage(d)) != ACN_OK)
            return status;
        if (!d->str[S_STOP_REASON].set)
            return ACN_OK;
        return acn_decoder_stop(
            d, stop_reason(acn_decoder_str(d, d->str[S_STOP_REASON]), d->str[S_STOP_REASON].len),
            S_STOP_REASON);
    }
    if (acn_decode_is(type, len, "message_stop"))
        return acn_decoder_terminal(d);
    if (acn_decode_is(type, len, "ping")) {
        acn_decoder_event_init(&event, ACN_EVENT_PING, -1);
        return acn_decoder_emit(d, &event);
    }
    if (acn_decode_is(type, len, "error"))
        return acn_decoder_error_event(d, sse, S_ERROR_TYPE, S_ERROR_MESSAGE);
    return ACN_OK;
}

const acn_dialect acn_dialect_anthropic = {
    .name = "anthropic",
    .listener = &listener,
    .begin = begin,
    .end = end,
    .stop_reason = stop_reason,
    .keeps_thinking_blocks = 1, /* thinking blocks go back with their signatures */
};
