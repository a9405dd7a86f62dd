/* decoder.c: the decoder object: SSE framing, payload parsing, and the helpers the
 * dialects share. What differs by provider is in its dialect entry (dialect.h). */
#include "decode_dialect.h"
#include "json_string.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int on_sse_event(void *ctx, const acn_sse_event *event)
{
    return acn_decoder_feed_event(ctx, event) != ACN_OK;
}

/* The pending list holds fixed-size records; its bound follows the event bound. */
static size_t pending_bound(size_t max_event_bytes)
{
    size_t cap = (size_t)-1 / 8;

    return max_event_bytes > cap ? (size_t)-1 / 2 : max_event_bytes * 4 + 4096;
}

acn_status acn_decoder_init(acn_decoder *d, acn_provider provider, size_t max_event_bytes,
                            acn_event_fn on_event, void *ctx)
{
    memset(d, 0, sizeof(*d));
    if (max_event_bytes == 0)
        max_event_bytes = ACN_DEFAULT_MAX_EVENT_BYTES;
    d->provider = provider;
    d->on_event = on_event;
    d->ctx = ctx;
    d->max_event_bytes = max_event_bytes;
    d->status = ACN_OK;
    /* One budget for every buffer of the decoder: an event is held as its line, its
     * data, its decoded strings and maybe a capture at once, and only their sum is
     * what a hostile stream can make the process hold. */
    acn_budget_init(&d->budget, max_event_bytes);
    acn_sse_init(&d->sse, max_event_bytes, on_sse_event, d);
    acn_sse_share_budget(&d->sse, &d->budget);
    acn_json_walk_init(&d->walk, max_event_bytes);
    acn_buf_share(&d->walk.capture, &d->budget);
    acn_buf_init(&d->strings, max_event_bytes);
    acn_buf_share(&d->strings, &d->budget);
    acn_buf_init(&d->pending, pending_bound(max_event_bytes));
    acn_buf_share(&d->pending, &d->budget);
    acn_buf_init(&d->blocks, ACN_DECODER_MAX_BLOCKS);
    acn_buf_share(&d->blocks, &d->budget);
    if (acn_dialect_of(provider) == NULL)
        return acn_decoder_fail(d, ACN_ERR_MALFORMED, "unknown provider %d", (int)provider);
    return ACN_OK;
}

acn_status acn_decoder_fail(acn_decoder *d, acn_status status, const char *format, ...)
{
    va_list args;

    if (d->failed)
        return d->status;
    d->failed = 1;
    d->status = status;
    va_start(args, format);
    vsnprintf(d->error, sizeof(d->error), format, args);
    va_end(args);
    return status;
}

static void clear_payload(acn_decoder *d)
{
    acn_buf_clear(&d->strings);
    acn_buf_clear(&d->pending);
    memset(d->str, 0, sizeof(d->str));
    d->num_set = 0;
}

acn_status acn_decoder_feed_event(acn_decoder *d, const acn_sse_event *event)
{
    const acn_dialect *dialect;
    int handled = 0;
    acn_status status;

    if (d->failed)
        return d->status;
    if (event->data_len == 0)
        return ACN_OK;
    dialect = acn_dialect_of(d->provider);
    clear_payload(d);
    status = dialect->begin(d, event, &handled);
    if (status != ACN_OK || handled)
        return status;
    status = acn_json_walk_parse(&d->walk, event->data, event->data_len, dialect->listener, d);
    if (status != ACN_OK) {
        if (d->failed)
            return d->status; /* a listener recorded why */
        return acn_decoder_fail(
            d, status, "%s payload of a %.*s event: %s",
            status == ACN_ERR_MALFORMED ? "malformed JSON in the" : "could not decode the",
            (int)(event->type_len > 64 ? 64 : event->type_len), event->type, acn_json_walk_error(&d->walk));
    }
    if (!d->walk.root_is_map)
        return acn_decoder_fail(d, ACN_ERR_MALFORMED, "the payload of a %.*s event is not a JSON object",
                                (int)(event->type_len > 64 ? 64 : event->type_len), event->type);
    return dialect->end(d, event);
}

static acn_status sse_status(acn_decoder *d, acn_status status)
{
    if (status == ACN_OK || d->failed)
        return d->failed ? d->status : ACN_OK;
    if (status == ACN_ERR_LIMIT)
        return acn_decoder_fail(d, status,
                                "an SSE line or event went past the stream's event budget of %zu bytes",
                                d->max_event_bytes);
    if (status == ACN_ERR_MALFORMED)
        return acn_decoder_fail(d, status, "an SSE event type is longer than %d bytes",
                                ACN_SSE_MAX_FIELD_BYTES);
    return acn_decoder_fail(d, status, "SSE parsing failed: %s", acn_status_name(status));
}

acn_status acn_decoder_feed(acn_decoder *d, const char *bytes, size_t len)
{
    if (d->failed)
        return d->status;
    return sse_status(d, acn_sse_feed(&d->sse, bytes, len));
}

acn_status acn_decoder_finish(acn_decoder *d)
{
    const acn_dialect *dialect = acn_dialect_of(d->provider);
    acn_status status;

    if (d->failed)
        return d->status;
    status = sse_status(d, acn_sse_finish(&d->sse));
    if (status != ACN_OK || d->done || dialect->close == NULL)
        return status;
    return dialect->close(d);
}

int acn_decoder_done(const acn_decoder *d)
{
    return d->done;
}

const char *acn_decoder_error(const acn_decoder *d)
{
    return d->error;
}

void acn_decoder_free(acn_decoder *d)
{
    acn_sse_free(&d->sse);
    acn_json_walk_free(&d->walk);
    acn_buf_free(&d->strings);
    acn_buf_free(&d->pending);
    acn_buf_free(&d->blocks);
}

/* ---- helpers for the dialects ---- */

int acn_decoder_keep(acn_decoder *d, const char *text, size_t len, acn_decode_str *out)
{
    size_t off = d->strings.len;
    acn_status status = acn_buf_append(&d->strings, text != NULL ? text : "", len);

    if (status != ACN_OK) {
        acn_decoder_fail(d, status, "the decoded payload went past the stream's event budget of %zu bytes",
                         d->max_event_bytes);
        return -1;
    }
    out->off = off;
    out->len = len;
    out->set = 1;
    return 0;
}

int acn_decoder_emit_raw_text(acn_decoder *d, const char *raw, size_t raw_len, int index, acn_status *status)
{
    size_t off = d->strings.len;
    size_t len;
    acn_event out;

    if (acn_buf_append(&d->strings, raw, raw_len) != ACN_OK) {
        d->strings.len = off;
        return 0;
    }
    len = acn_json_string_unescape_in_place(d->strings.ptr + off, raw_len);
    if (len == (size_t)-1) {
        d->strings.len = off;
        return 0;
    }
    d->strings.len = off + len;
    *status = ACN_OK;
    if (len == 0)
        return 1;
    acn_decoder_event_init(&out, ACN_EVENT_TEXT_DELTA, index);
    out.text = d->strings.ptr + off;
    out.text_len = len;
    *status = acn_decoder_emit(d, &out);
    return 1;
}

const char *acn_decoder_str(const acn_decoder *d, acn_decode_str str)
{
    if (!str.set || d->strings.ptr == NULL)
        return "";
    return d->strings.ptr + str.off;
}

int acn_decoder_str_is(const acn_decoder *d, int slot, const char *literal)
{
    return d->str[slot].set && acn_decode_is(acn_decoder_str(d, d->str[slot]), d->str[slot].len, literal);
}

/* Gemini may send a call without an id and OpenAI-compatible servers do: the call
 * is then named by its index, the same way in every dialect and in Ruby. */
int acn_decoder_keep_call_id(acn_decoder *d, int index, acn_decode_str *id)
{
    char text[32];
    int n;

    if (id->set && id->len > 0)
        return 0;
    n = snprintf(text, sizeof(text), "call_%d", index);
    return acn_decoder_keep(d, text, (size_t)n, id);
}

int acn_decoder_keep_number(acn_decoder *d, int slot, acn_json_kind kind, const char *text, size_t len)
{
    long long value;

    if (kind == ACN_JSON_NULL)
        return 0; /* "usage": {"cached_tokens": null} means not sent */
    if (kind != ACN_JSON_NUMBER || acn_json_integer(text, len, &value) != 0) {
        acn_decoder_fail(d, ACN_ERR_MALFORMED, "expected an integer, got %s%.*s",
                         kind == ACN_JSON_STRING ? "a string: " : "", (int)(len > 32 ? 32 : len),
                         text != NULL ? text : "");
        return -1;
    }
    d->num[slot] = value;
    d->num_set |= 1u << slot;
    return 0;
}

int acn_decoder_has(const acn_decoder *d, int slot)
{
    return (d->num_set >> slot) & 1u;
}

int acn_decoder_push(acn_decoder *d, const acn_decode_pending *pending)
{
    acn_status status = acn_buf_append(&d->pending, (const char *)pending, sizeof(*pending));

    if (status != ACN_OK) {
        acn_decoder_fail(d, status, "too many parts in one payload");
        return -1;
    }
    return 0;
}

void acn_decoder_event_init(acn_event *event, acn_event_type type, int index)
{
    memset(event, 0, sizeof(*event));
    event->type = type;
    event->index = index;
    event->text = "";
    event->id = "";
    event->name = "";
    event->raw = "";
    event->stop_reason = ACN_STOP_NONE;
    event->input_tokens = -1;
    event->output_tokens = -1;
    event->cache_read_tokens = -1;
    event->cache_write_tokens = -1;
}

void acn_decoder_event_text(acn_event *event, const acn_decoder *d, acn_decode_str text)
{
    event->text = acn_decoder_str(d, text);
    event->text_len = text.set ? text.len : 0;
}

acn_status acn_decoder_emit(acn_decoder *d, const acn_event *event)
{
    if (d->failed)
        return d->status;
    if (d->on_event != NULL && d->on_event(d->ctx, event) != 0)
        return acn_decoder_fail(d, ACN_ERR_ABORTED, "stopped by the event callback");
    return ACN_OK;
}

acn_status acn_decoder_emit_one(acn_decoder *d, const acn_decode_pending *pending)
{
    acn_event event;

    acn_decoder_event_init(&event, pending->type, pending->index);
    acn_decoder_event_text(&event, d, pending->text);
    event.id = acn_decoder_str(d, pending->id);
    event.id_len = pending->id.set ? pending->id.len : 0;
    event.name = acn_decoder_str(d, pending->name);
    event.name_len = pending->name.set ? pending->name.len : 0;
    event.server_tool = pending->server_tool;
    return acn_decoder_emit(d, &event);
}

acn_status acn_decoder_emit_pending_with(acn_decoder *d, acn_decode_emit_fn emit)
{
    size_t off;

    for (off = 0; off + sizeof(acn_decode_pending) <= d->pending.len; off += sizeof(acn_decode_pending)) {
        acn_decode_pending pending;
        acn_status status;

        memcpy(&pending, d->pending.ptr + off, sizeof(pending));
        if ((status = emit(d, &pending)) != ACN_OK)
            return status;
    }
    acn_buf_clear(&d->pending);
    return ACN_OK;
}

acn_status acn_decoder_emit_pending(acn_decoder *d)
{
    return acn_decoder_emit_pending_with(d, acn_decoder_emit_one);
}

size_t acn_decoder_pending_count(const acn_decoder *d)
{
    return d->pending.len / sizeof(acn_decode_pending);
}

void acn_decoder_pending_drop(acn_decoder *d, size_t count)
{
    if (count < acn_decoder_pending_count(d))
        d->pending.len = count * sizeof(acn_decode_pending);
}

acn_status acn_decoder_start(acn_decoder *d, int id_slot, int model_slot)
{
    acn_event event;

    /* Azure OpenAI opens with a chunk whose id and model are "": wait for real ones. */
    if (d->started || (d->str[id_slot].len == 0 && d->str[model_slot].len == 0))
        return ACN_OK;
    d->started = 1;
    acn_decoder_event_init(&event, ACN_EVENT_MESSAGE_START, -1);
    event.id = acn_decoder_str(d, d->str[id_slot]);
    event.id_len = d->str[id_slot].len;
    event.name = acn_decoder_str(d, d->str[model_slot]);
    event.name_len = d->str[model_slot].len;
    return acn_decoder_emit(d, &event);
}

long long acn_decoder_slot(const acn_decoder *d, int slot)
{
    return acn_decoder_has(d, slot) ? d->num[slot] : -1;
}

void acn_decoder_set_flag(acn_decoder *d, int slot)
{
    d->num[slot] = 1;
    d->num_set |= 1u << slot;
}

void acn_decoder_unset(acn_decoder *d, int slot)
{
    d->num_set &= ~(1u << slot);
}

acn_status acn_decoder_usage(acn_decoder *d, long long input, long long output, long long cache_read,
                             long long cache_write)
{
    acn_event event;

    /* A negative count is refused: it is treated as not sent (-1), in every dialect. */
    input = input < 0 ? -1 : input;
    output = output < 0 ? -1 : output;
    cache_read = cache_read < 0 ? -1 : cache_read;
    cache_write = cache_write < 0 ? -1 : cache_write;
    if (input < 0 && output < 0 && cache_read < 0 && cache_write < 0)
        return ACN_OK;
    acn_decoder_event_init(&event, ACN_EVENT_USAGE, -1);
    event.input_tokens = input;
    event.output_tokens = output;
    event.cache_read_tokens = cache_read;
    event.cache_write_tokens = cache_write;
    return acn_decoder_emit(d, &event);
}

acn_status acn_decoder_stop(acn_decoder *d, acn_stop_reason reason, int text_slot)
{
    acn_event event;

    d->stopped = 1;
    acn_decoder_event_init(&event, ACN_EVENT_STOP, -1);
    event.stop_reason = reason;
    acn_decoder_event_text(&event, d, d->str[text_slot]);
    return acn_decoder_emit(d, &event);
}

acn_status acn_decoder_terminal(acn_decoder *d)
{
    acn_event event;

    d->done = 1;
    acn_decoder_event_init(&event, ACN_EVENT_DONE, -1);
    return acn_decoder_emit(d, &event);
}

acn_status acn_decoder_error_event(acn_decoder *d, const acn_sse_event *sse, int type_slot, int message_slot)
{
    acn_event event;

    acn_decoder_event_init(&event, ACN_EVENT_ERROR, -1);
    event.name = acn_decoder_str(d, d->str[type_slot]);
    event.name_len = d->str[type_slot].len;
    acn_decoder_event_text(&event, d, d->str[message_slot]);
    event.raw = sse->data;
    event.raw_len = sse->data_len;
    d->done = 1;
    return acn_decoder_emit(d, &event);
}

int acn_decoder_block(const acn_decoder *d, long long index)
{
    if (index < 0 || (size_t)index >= d->blocks.len)
        return ACN_BLOCK_NONE;
    return (unsigned char)d->blocks.ptr[index];
}

acn_status acn_decoder_set_block(acn_decoder *d, long long index, int kind)
{
    if (index < 0 || index >= ACN_DECODER_MAX_BLOCKS)
        return acn_decoder_fail(d, ACN_ERR_LIMIT, "block index %lld is past the limit of %d", index,
                                ACN_DECODER_MAX_BLOCKS);
    while (d->blocks.len <= (size_t)index) {
        acn_status status = acn_buf_push(&d->blocks, (char)ACN_BLOCK_NONE);

        if (status != ACN_OK)
            return acn_decoder_fail(d, status, "out of memory recording block %lld", index);
    }
    d->blocks.ptr[index] = (char)kind;
    return ACN_OK;
}

acn_status acn_decoder_index(acn_decoder *d, long long value, int *out)
{
    if (value < 0 || value >= ACN_DECODER_MAX_BLOCKS)
        return acn_decoder_fail(d, ACN_ERR_LIMIT, "index %lld is outside 0..%d", value,
                                ACN_DECODER_MAX_BLOCKS - 1);
    *out = (int)value;
    return ACN_OK;
}

acn_stop_reason acn_decoder_stop_reason(acn_provider provider, const char *text, size_t len)
{
    const acn_dialect *dialect = acn_dialect_of(provider);

    return dialect != NULL ? dialect->stop_reason(text, len) : ACN_STOP_END_TURN;
}
