/*
 * sse.c: the WHATWG "event stream interpretation" algorithm, fed in chunks.
 *
 * Bytes are scanned once: a line wholly inside one chunk is interpreted in place,
 * and only the unfinished tail of a chunk is copied into `line`, so the cost is
 * linear in the input however it is split.
 *
 * The budget decides the same however the input is split: a line interpreted in
 * place counts its length + 1 against the budget while it is interpreted, exactly
 * what a line completed in `line` holds once fitted, and `line` is freed after. So
 * every other buffer grows with the same room either way.
 */
#include "sse.h"

#include <string.h>

static const char bom[3] = {'\xEF', '\xBB', '\xBF'};

void acn_sse_init(acn_sse_parser *parser, size_t max_event_bytes, acn_sse_event_fn on_event, void *ctx)
{
    if (max_event_bytes == 0)
        max_event_bytes = ACN_DEFAULT_MAX_EVENT_BYTES;
    parser->on_event = on_event;
    parser->ctx = ctx;
    parser->max_event_bytes = max_event_bytes;
    acn_budget_init(&parser->own_budget, max_event_bytes);
    acn_buf_init(&parser->line, max_event_bytes);
    acn_buf_init(&parser->data, max_event_bytes);
    acn_buf_init(&parser->event_type, ACN_SSE_MAX_FIELD_BYTES);
    acn_buf_init(&parser->last_id, ACN_SSE_MAX_FIELD_BYTES);
    acn_sse_share_budget(parser, &parser->own_budget);
    parser->retry = -1;
    parser->bom_state = 0;
    parser->pending_cr = 0;
    parser->failed = ACN_OK;
}

void acn_sse_share_budget(acn_sse_parser *parser, acn_budget *budget)
{
    acn_buf_share(&parser->line, budget);
    acn_buf_share(&parser->data, budget);
    acn_buf_share(&parser->event_type, budget);
    acn_buf_share(&parser->last_id, budget);
}

void acn_sse_free(acn_sse_parser *parser)
{
    acn_buf_free(&parser->line);
    acn_buf_free(&parser->data);
    acn_buf_free(&parser->event_type);
    acn_buf_free(&parser->last_id);
}

static int field_is(const char *field, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(field, name, len) == 0;
}

static acn_status dispatch(acn_sse_parser *parser)
{
    acn_sse_event event;

    /* The last event ID buffer already persists in `last_id`; an empty data
     * buffer resets the event and dispatches nothing. */
    if (parser->data.len == 0) {
        acn_buf_clear(&parser->event_type);
        return ACN_OK;
    }
    parser->data.len--; /* every data line appended one LF: drop the last */
    event.type = parser->event_type.len ? parser->event_type.ptr : "message";
    event.type_len = parser->event_type.len ? parser->event_type.len : 7;
    event.data = parser->data.ptr;
    event.data_len = parser->data.len;
    event.id = parser->last_id.ptr ? parser->last_id.ptr : "";
    event.id_len = parser->last_id.len;
    event.retry = parser->retry;

    {
        int stop = parser->on_event(parser->ctx, &event);

        acn_buf_clear(&parser->data);
        acn_buf_clear(&parser->event_type);
        return stop ? ACN_ERR_ABORTED : ACN_OK;
    }
}

static void set_retry(acn_sse_parser *parser, const char *value, size_t len)
{
    long long retry = 0;
    size_t i;

    if (len == 0)
        return;
    for (i = 0; i < len; i++) {
        if (value[i] < '0' || value[i] > '9')
            return;
    }
    for (i = 0; i < len; i++) {
        /* Saturate rather than overflow: no reconnection time is that long. */
        if (retry > (INT64_MAX - 9) / 10)
            retry = INT64_MAX;
        else
            retry = retry * 10 + (value[i] - '0');
    }
    parser->retry = retry;
}

static acn_status process_field(acn_sse_parser *parser, const char *field, size_t field_len,
                                const char *value, size_t value_len)
{
    if (field_is(field, field_len, "data")) {
        acn_status status = acn_buf_append(&parser->data, value, value_len);

        return status == ACN_OK ? acn_buf_push(&parser->data, '\n') : status;
    }
    if (field_is(field, field_len, "event")) {
        if (value_len > ACN_SSE_MAX_FIELD_BYTES)
            return ACN_ERR_MALFORMED;
        acn_buf_clear(&parser->event_type);
        return acn_buf_append(&parser->event_type, value, value_len);
    }
    if (field_is(field, field_len, "id")) {
        if (value_len > ACN_SSE_MAX_FIELD_BYTES || memchr(value, '\0', value_len) != NULL)
            return ACN_OK;
        acn_buf_clear(&parser->last_id);
        return acn_buf_append(&parser->last_id, value, value_len);
    }
    if (field_is(field, field_len, "retry"))
        set_retry(parser, value, value_len);
    return ACN_OK; /* any other field is ignored */
}

static acn_status process_line(acn_sse_parser *parser, const char *line, size_t len)
{
    const char *colon;
    const char *value;
    size_t value_len;

    if (len == 0)
        return dispatch(parser);
    if (line[0] == ':')
        return ACN_OK; /* a comment */
    colon = memchr(line, ':', len);
    if (colon == NULL)
        return process_field(parser, line, len, "", 0);
    value = colon + 1;
    value_len = len - (size_t)(value - line);
    if (value_len > 0 && value[0] == ' ') {
        value++;
        value_len--;
    }
    return process_field(parser, line, (size_t)(colon - line), value, value_len);
}

/* Finds the first CR or LF in [p, end): memchr for LF, then for CR only in the
 * span before it, so no byte is looked at twice. */
static const char *find_line_end(const char *p, const char *end)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));
    const char *limit = lf ? lf : end;
    const char *cr = memchr(p, '\r', (size_t)(limit - p));

    return cr ? cr : lf;
}

static acn_status feed_lines(acn_sse_parser *parser, const char *p, const char *end)
{
    acn_status status;

    while (p < end) {
        const char *eol;

        if (parser->pending_cr) {
            parser->pending_cr = 0;
            if (*p == '\n') {
                p++;
                continue;
            }
        }
        eol = find_line_end(p, end);
        if (eol == NULL) {
            /* An unfinished line: keep it, bounded, until its end arrives. */
            return acn_buf_append(&parser->line, p, (size_t)(end - p));
        }
        if (parser->line.len > 0) {
            status = acn_buf_append(&parser->line, p, (size_t)(eol - p));
            if (status == ACN_OK) {
                acn_buf_fit(&parser->line);
                status = process_line(parser, parser->line.ptr, parser->line.len);
            }
            acn_buf_free(&parser->line);
        } else {
            size_t len = (size_t)(eol - p);

            if (len > parser->max_event_bytes)
                return ACN_ERR_LIMIT;
            status = len > 0 ? acn_budget_take(parser->line.budget, len + 1) : ACN_OK;
            if (status == ACN_OK) {
                status = process_line(parser, p, len);
                if (len > 0)
                    acn_budget_give(parser->line.budget, len + 1);
            }
        }
        if (status != ACN_OK)
            return status;
        if (*eol == '\r') {
            if (eol + 1 == end)
                parser->pending_cr = 1;
            else if (eol[1] == '\n')
                eol++;
        }
        p = eol + 1;
    }
    return ACN_OK;
}

/* Strips one leading UTF-8 BOM, even when its three bytes arrive in separate
 * chunks. Returns how many bytes of `bytes` it consumed. */
static acn_status skip_bom(acn_sse_parser *parser, const char *bytes, size_t len, size_t *consumed)
{
    size_t i = 0;

    *consumed = 0;
    while (parser->bom_state >= 0 && parser->bom_state < 3 && i < len) {
        if (bytes[i] != bom[parser->bom_state]) {
            /* Not a BOM after all: the bytes matched so far are ordinary input. */
            int matched = parser->bom_state;

            parser->bom_state = -1;
            *consumed = i;
            return feed_lines(parser, bom, bom + matched);
        }
        parser->bom_state++;
        i++;
    }
    if (parser->bom_state == 3)
        parser->bom_state = -1;
    *consumed = i;
    return ACN_OK;
}

acn_status acn_sse_feed(acn_sse_parser *parser, const char *bytes, size_t len)
{
    acn_status status;
    size_t consumed = 0;

    if (parser->failed != ACN_OK)
        return (acn_status)parser->failed;
    if (parser->bom_state >= 0) {
        status = skip_bom(parser, bytes, len, &consumed);
        if (status != ACN_OK) {
            parser->failed = status;
            return status;
        }
    }
    status = feed_lines(parser, bytes + consumed, bytes + len);
    if (status != ACN_OK)
        parser->failed = status;
    return status;
}

acn_status acn_sse_finish(acn_sse_parser *parser)
{
    acn_status status = (acn_status)parser->failed;

    /* A stream that ends mid-event discards the event, and an unterminated last
     * line with it; a BOM prefix that never completed was never data either way. */
    acn_buf_clear(&parser->line);
    acn_buf_clear(&parser->data);
    acn_buf_clear(&parser->event_type);
    parser->pending_cr = 0;
    return status;
}
