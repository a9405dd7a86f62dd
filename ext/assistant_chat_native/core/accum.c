/* accum.c: accumulates normalized events into a reply; see accum.h. */
#include "accum.h"
#include "dialect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

void acn_accum_init(acn_accum *accum, size_t max_reply_bytes)
{
    memset(accum, 0, sizeof(*accum));
    accum->max_reply_bytes = max_reply_bytes ? max_reply_bytes : ACN_ACCUM_DEFAULT_MAX_REPLY_BYTES;
    acn_buf_init(&accum->text, accum->max_reply_bytes);
    acn_buf_init(&accum->thinking, accum->max_reply_bytes);
    acn_buf_init(&accum->message_id, accum->max_reply_bytes);
    acn_buf_init(&accum->model, accum->max_reply_bytes);
    acn_buf_init(&accum->provider_stop_reason, accum->max_reply_bytes);
    acn_buf_init(&accum->error_type, accum->max_reply_bytes);
    acn_buf_init(&accum->error_message, accum->max_reply_bytes);
    acn_buf_init(&accum->error_payload, accum->max_reply_bytes);
    accum->input_tokens = -1;
    accum->output_tokens = -1;
    accum->cache_read_tokens = -1;
    accum->cache_write_tokens = -1;
    accum->stop_reason = ACN_STOP_NONE;
    accum->status = ACN_OK;
    accum->failure.kind = ACN_FAILURE_NONE;
    accum->failure.retry_after = -1;
}

static void call_free(acn_accum_tool_call *call)
{
    acn_buf_free(&call->id);
    acn_buf_free(&call->name);
    acn_buf_free(&call->arguments);
    acn_buf_free(&call->signature);
}

void acn_accum_free(acn_accum *accum)
{
    size_t i;

    for (i = 0; i < accum->call_count; i++)
        call_free(&accum->calls[i]);
    free(accum->calls);
    accum->calls = NULL;
    accum->call_count = accum->call_cap = 0;
    for (i = 0; i < accum->block_count; i++) {
        acn_buf_free(&accum->blocks[i].thinking);
        acn_buf_free(&accum->blocks[i].signature);
        acn_buf_free(&accum->blocks[i].id);
    }
    free(accum->blocks);
    accum->blocks = NULL;
    accum->block_count = accum->block_cap = 0;
    acn_buf_free(&accum->text);
    acn_buf_free(&accum->thinking);
    acn_buf_free(&accum->message_id);
    acn_buf_free(&accum->model);
    acn_buf_free(&accum->provider_stop_reason);
    acn_buf_free(&accum->error_type);
    acn_buf_free(&accum->error_message);
    acn_buf_free(&accum->error_payload);
}

/* Counts n bytes against the reply's bound; the first refusal sticks. */
static acn_status charge(acn_accum *accum, size_t n)
{
    if (accum->status != ACN_OK)
        return accum->status;
    if (n > accum->max_reply_bytes || accum->total > accum->max_reply_bytes - n) {
        accum->status = ACN_ERR_LIMIT;
        return accum->status;
    }
    accum->total += n;
    return ACN_OK;
}

static acn_status fail(acn_accum *accum, acn_status status)
{
    if (accum->status == ACN_OK)
        accum->status = status;
    return accum->status;
}

static acn_status append(acn_accum *accum, acn_buf *buf, const char *data, size_t len)
{
    acn_status status;

    if (len == 0)
        return accum->status;
    status = charge(accum, len);
    if (status != ACN_OK)
        return status;
    status = acn_buf_append(buf, data, len);
    return status == ACN_OK ? ACN_OK : fail(accum, status);
}

/* Replaces buf's content with data (message id, model, stop reason: last one wins). */
static acn_status replace(acn_accum *accum, acn_buf *buf, const char *data, size_t len)
{
    acn_buf_clear(buf);
    if (len == 0)
        return accum->status;
    if (buf->cap >= len + 1 && accum->status == ACN_OK) {
        memcpy(buf->ptr, data, len);
        buf->len = len;
        buf->ptr[len] = '\0';
        return ACN_OK;
    }
    return append(accum, buf, data, len);
}

/* Appends text with its NUL bytes left out; only the bytes kept count. */
static acn_status append_text(acn_accum *accum, acn_buf *buf, const char *data, size_t len)
{
    while (len > 0) {
        const char *nul = memchr(data, '\0', len);
        size_t run = nul != NULL ? (size_t)(nul - data) : len;
        acn_status status = append(accum, buf, data, run);

        if (status != ACN_OK)
            return status;
        if (nul == NULL)
            break;
        data += run + 1;
        len -= run + 1;
    }
    return accum->status;
}

static void mark_malformed(acn_accum *accum, const char *detail)
{
    if (accum->malformed)
        return;
    accum->malformed = 1;
    snprintf(accum->malformed_detail, sizeof(accum->malformed_detail), "%s", detail);
}

/* ---- tool-call arguments: one JSON object, bounded depth ---- */

typedef enum json_refusal { JSON_VALID = 0, JSON_TOO_DEEP, JSON_NUMBER_TOO_LONG } json_refusal;

typedef struct json_check {
    int depth;
    int top_is_map;
    int values; /* top-level values seen */
    json_refusal refusal;
} json_check;

static int check_scalar(void *ctx)
{
    json_check *check = ctx;

    if (check->depth == 0)
        check->values++;
    return 1;
}

static int check_null(void *ctx)
{
    return check_scalar(ctx);
}

static int check_boolean(void *ctx, int value)
{
    (void)value;
    return check_scalar(ctx);
}

static int check_number(void *ctx, const char *number, size_t len)
{
    json_check *check = ctx;

    (void)number;
    if (len > ACN_ACCUM_MAX_NUMBER_CHARS) {
        check->refusal = JSON_NUMBER_TOO_LONG;
        return 0;
    }
    return check_scalar(ctx);
}

static int check_string(void *ctx, const unsigned char *string, size_t len)
{
    (void)string;
    (void)len;
    return check_scalar(ctx);
}

static int check_map_key(void *ctx, const unsigned char *key, size_t len)
{
    (void)ctx;
    (void)key;
    (void)len;
    return 1;
}

static int check_open(json_check *check, int is_map)
{
    if (check->depth == 0) {
        check->values++;
        check->top_is_map = is_map;
    }
    check->depth++;
    if (check->depth > ACN_JSON_MAX_DEPTH) {
        check->refusal = JSON_TOO_DEEP;
        return 0;
    }
    return 1;
}

static int check_start_map(void *ctx)
{
    return check_open(ctx, 1);
}

static int check_start_array(void *ctx)
{
    return check_open(ctx, 0);
}

static int check_close(void *ctx)
{
    json_check *check = ctx;

    check->depth--;
    return 1;
}

static const yajl_callbacks json_check_callbacks = {
    check_null,   check_boolean,   NULL,          NULL,        check_number,
    check_string, check_start_map, check_map_key, check_close, check_start_array,
    check_close,
};

static int is_blank(const char *bytes, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (bytes[i] != ' ' && bytes[i] != '\t' && bytes[i] != '\n' && bytes[i] != '\r')
            return 0;
    }
    return 1;
}

/* 1 when bytes are exactly one JSON object (whitespace around it allowed); *refusal
 * says when a bound, not the syntax, refused them. */
static int is_json_object(const char *bytes, size_t len, int *nomem, json_refusal *refusal)
{
    json_check check = {0, 0, 0, JSON_VALID};
    yajl_handle handle = yajl_alloc(&json_check_callbacks, NULL, &check);
    yajl_status status;

    *nomem = 0;
    *refusal = JSON_VALID;
    if (handle == NULL) {
        *nomem = 1;
        return 0;
    }
    yajl_config(handle, yajl_allow_comments, 0); /* strict JSON, as Ruby reads it back */
    status = yajl_parse(handle, (const unsigned char *)bytes, len);
    if (status == yajl_status_ok)
        status = yajl_complete_parse(handle);
    yajl_free(handle);
    *refusal = check.refusal;
    return status == yajl_status_ok && check.values == 1 && check.top_is_map;
}

static void end_call(acn_accum *accum, acn_accum_tool_call *call)
{
    int nomem = 0;
    json_refusal refusal = JSON_VALID;
    char detail[200];
    char why[64];

    if (call->ended)
        return;
    call->ended = 1;
    if (is_blank(call->arguments.ptr, call->arguments.len)) {
        acn_buf_clear(&call->arguments);
        if (append(accum, &call->arguments, "{}", 2) != ACN_OK)
            call->invalid = 1;
        return;
    }
    if (is_json_object(call->arguments.ptr, call->arguments.len, &nomem, &refusal))
        return;
    if (nomem) {
        fail(accum, ACN_ERR_NOMEM);
        call->invalid = 1;
        return;
    }
    call->invalid = 1;
    if (refusal == JSON_TOO_DEEP)
        snprintf(why, sizeof(why), "nest deeper than %d levels", ACN_JSON_MAX_DEPTH);
    else if (refusal == JSON_NUMBER_TOO_LONG)
        snprintf(why, sizeof(why), "hold a number longer than %d characters", ACN_ACCUM_MAX_NUMBER_CHARS);
    else
        snprintf(why, sizeof(why), "are not a JSON object");
    snprintf(detail, sizeof(detail), "the arguments of tool call %.*s (%.*s) %s",
             (int)(call->name.len > 64 ? 64 : call->name.len), call->name.ptr ? call->name.ptr : "",
             (int)(call->id.len > 64 ? 64 : call->id.len), call->id.ptr ? call->id.ptr : "", why);
    mark_malformed(accum, detail);
}

/* The most recent call with this index that has not ended, or NULL. */
static acn_accum_tool_call *open_call(acn_accum *accum, int index)
{
    size_t i = accum->call_count;

    while (i > 0) {
        i--;
        if (accum->calls[i].index == index && !accum->calls[i].ended)
            return &accum->calls[i];
    }
    return NULL;
}

static acn_status start_call(acn_accum *accum, const acn_event *event)
{
    acn_accum_tool_call *call = open_call(accum, event->index);
    acn_status status;

    if (call != NULL)
        end_call(accum, call); /* a new call at an index ends the one before it */
    if (accum->call_count >= ACN_ACCUM_MAX_TOOL_CALLS) {
        /* Counted per call, not per index: indexes may be reused without end. Stopping
         * here also keeps open_call's backward scan within this many calls. */
        snprintf(accum->limit_detail, sizeof(accum->limit_detail), "the reply holds more than %d tool calls",
                 ACN_ACCUM_MAX_TOOL_CALLS);
        return fail(accum, ACN_ERR_LIMIT);
    }
    status = charge(accum, ACN_ACCUM_ENTRY_COST);
    if (status != ACN_OK)
        return status;
    if (accum->call_count == accum->call_cap) {
        size_t cap = accum->call_cap ? accum->call_cap * 2 : 4;
        acn_accum_tool_call *grown = realloc(accum->calls, cap * sizeof(*grown));

        if (grown == NULL)
            return fail(accum, ACN_ERR_NOMEM);
        accum->calls = grown;
        accum->call_cap = cap;
    }
    call = &accum->calls[accum->call_count++];
    memset(call, 0, sizeof(*call));
    call->index = event->index;
    call->server = event->server_tool ? 1 : 0;
    acn_buf_init(&call->id, accum->max_reply_bytes);
    acn_buf_init(&call->name, accum->max_reply_bytes);
    acn_buf_init(&call->arguments, accum->max_reply_bytes);
    acn_buf_init(&call->signature, accum->max_reply_bytes);
    status = append(accum, &call->id, event->id, event->id_len);
    if (status == ACN_OK)
        status = append(accum, &call->name, event->name, event->name_len);
    /* A start event's text is the call's signature (Gemini's thoughtSignature). */
    if (status == ACN_OK)
        status = append(accum, &call->signature, event->text, event->text_len);
    return status;
}

static acn_status add_args(acn_accum *accum, const acn_event *event)
{
    acn_accum_tool_call *call = open_call(accum, event->index);

    if (call == NULL) {
        if (event->text_len > 0)
            mark_malformed(accum, "tool-call arguments arrived for a call that was not started");
        return accum->status;
    }
    return append(accum, &call->arguments, event->text, event->text_len);
}

/* ---- thinking blocks ---- */

static acn_accum_block *open_block(acn_accum *accum, acn_accum_block_type type, int index)
{
    acn_accum_block *block;

    if (accum->block_count > 0) {
        block = &accum->blocks[accum->block_count - 1];
        if (!block->ended && block->type == type && block->index == index)
            return block;
        block->ended = 1;
    }
    if (charge(accum, ACN_ACCUM_ENTRY_COST) != ACN_OK)
        return NULL;
    if (accum->block_count == accum->block_cap) {
        size_t cap = accum->block_cap ? accum->block_cap * 2 : 4;
        acn_accum_block *grown = realloc(accum->blocks, cap * sizeof(*grown));

        if (grown == NULL) {
            fail(accum, ACN_ERR_NOMEM);
            return NULL;
        }
        accum->blocks = grown;
        accum->block_cap = cap;
    }
    block = &accum->blocks[accum->block_count++];
    memset(block, 0, sizeof(*block));
    block->type = type;
    block->index = index;
    acn_buf_init(&block->thinking, accum->max_reply_bytes);
    acn_buf_init(&block->signature, accum->max_reply_bytes);
    acn_buf_init(&block->id, accum->max_reply_bytes);
    return block;
}

/* The first id an event names for the block is the block's. */
static acn_status name_block(acn_accum *accum, acn_accum_block *block, const acn_event *event)
{
    if (event->id_len == 0 || block->id.len > 0)
        return ACN_OK;
    return append(accum, &block->id, event->id, event->id_len);
}

static acn_status add_thinking(acn_accum *accum, const acn_event *event)
{
    acn_accum_block *block = open_block(accum, ACN_ACCUM_BLOCK_THINKING, event->index);
    acn_status status;

    if (block == NULL)
        return accum->status;
    status = append_text(accum, &accum->thinking, event->text, event->text_len);
    if (status == ACN_OK)
        status = append(accum, &block->thinking, event->text, event->text_len);
    if (status == ACN_OK)
        status = name_block(accum, block, event);
    return status;
}

static acn_status add_signature(acn_accum *accum, const acn_event *event)
{
    acn_accum_block *block = open_block(accum, ACN_ACCUM_BLOCK_THINKING, event->index);

    if (block == NULL)
        return accum->status;
    if (name_block(accum, block, event) != ACN_OK)
        return accum->status;
    return append(accum, &block->signature, event->text, event->text_len);
}

static acn_status add_redacted(acn_accum *accum, const acn_event *event)
{
    acn_accum_block *block = open_block(accum, ACN_ACCUM_BLOCK_REDACTED, event->index);

    if (block == NULL)
        return accum->status;
    return append(accum, &block->thinking, event->text, event->text_len);
}

static void end_block(acn_accum *accum, int index)
{
    acn_accum_tool_call *call = open_call(accum, index);

    if (accum->block_count > 0 && accum->blocks[accum->block_count - 1].index == index)
        accum->blocks[accum->block_count - 1].ended = 1;
    if (call != NULL)
        end_call(accum, call);
}

/* ---- events ---- */

static acn_status add_usage(acn_accum *accum, const acn_event *event)
{
    if (event->input_tokens >= 0)
        accum->input_tokens = event->input_tokens;
    if (event->output_tokens >= 0)
        accum->output_tokens = event->output_tokens;
    if (event->cache_read_tokens >= 0)
        accum->cache_read_tokens = event->cache_read_tokens;
    if (event->cache_write_tokens >= 0)
        accum->cache_write_tokens = event->cache_write_tokens;
    return accum->status;
}

static acn_status add_error(acn_accum *accum, const acn_event *event)
{
    acn_status status;

    if (accum->has_error)
        return accum->status;
    accum->has_error = 1;
    status = append(accum, &accum->error_type, event->name, event->name_len);
    if (status == ACN_OK)
        status = append(accum, &accum->error_message, event->text, event->text_len);
    if (status == ACN_OK)
        status = append(accum, &accum->error_payload, event->raw, event->raw_len);
    return status;
}

acn_status acn_accum_add(acn_accum *accum, const acn_event *event)
{
    if (accum->status != ACN_OK)
        return accum->status;
    switch (event->type) {
    case ACN_EVENT_MESSAGE_START:
        if (event->id_len > 0 && replace(accum, &accum->message_id, event->id, event->id_len) != ACN_OK)
            return accum->status;
        if (event->name_len > 0)
            return replace(accum, &accum->model, event->name, event->name_len);
        return ACN_OK;
    case ACN_EVENT_TEXT_DELTA: return append_text(accum, &accum->text, event->text, event->text_len);
    case ACN_EVENT_THINKING_DELTA: return add_thinking(accum, event);
    case ACN_EVENT_SIGNATURE_DELTA: return add_signature(accum, event);
    case ACN_EVENT_REDACTED_THINKING: return add_redacted(accum, event);
    case ACN_EVENT_TOOL_CALL_START: return start_call(accum, event);
    case ACN_EVENT_TOOL_ARGS_DELTA: return add_args(accum, event);
    case ACN_EVENT_TOOL_CALL_END: {
        acn_accum_tool_call *call = open_call(accum, event->index);

        if (call != NULL)
            end_call(accum, call);
        return accum->status;
    }
    case ACN_EVENT_BLOCK_END: end_block(accum, event->index); return accum->status;
    case ACN_EVENT_USAGE: return add_usage(accum, event);
    case ACN_EVENT_STOP:
        accum->stop_reason = event->stop_reason;
        accum->has_stop = 1;
        return replace(accum, &accum->provider_stop_reason, event->text, event->text_len);
    case ACN_EVENT_DONE: accum->done = 1; return ACN_OK;
    case ACN_EVENT_ERROR: return add_error(accum, event);
    case ACN_EVENT_CITATION:
    case ACN_EVENT_PING: return ACN_OK;
    }
    return ACN_OK;
}

int acn_accum_on_event(void *ctx, const acn_event *event)
{
    return acn_accum_add(ctx, event) != ACN_OK;
}

/* ---- flushing ---- */

static int flush(acn_buf *buf, size_t *flushed, int final, acn_accum_chunk *out)
{
    size_t end = final ? buf->len : acn_utf8_complete_prefix(buf->ptr, buf->len);
    size_t start = *flushed;

    if (end < start)
        end = start;
    *flushed = end;
    out->all = buf->ptr ? buf->ptr : "";
    out->all_len = end;
    out->delta = out->all + start;
    out->delta_len = end - start;
    return end > start;
}

static int pending(const acn_buf *buf, size_t flushed)
{
    return buf->len > flushed && acn_utf8_complete_prefix(buf->ptr, buf->len) > flushed;
}

int acn_accum_flush_text(acn_accum *accum, int final, acn_accum_chunk *out)
{
    return flush(&accum->text, &accum->text_flushed, final, out);
}

int acn_accum_flush_thinking(acn_accum *accum, int final, acn_accum_chunk *out)
{
    return flush(&accum->thinking, &accum->thinking_flushed, final, out);
}

int acn_accum_text_pending(const acn_accum *accum)
{
    return pending(&accum->text, accum->text_flushed);
}

int acn_accum_thinking_pending(const acn_accum *accum)
{
    return pending(&accum->thinking, accum->thinking_flushed);
}

/* ---- the end ---- */

static void classify_transport(acn_accum *accum, acn_provider provider, acn_transport_error error,
                               const char *detail, int streamed)
{
    acn_classify_input input;

    memset(&input, 0, sizeof(input));
    input.provider = provider;
    input.status = 200;
    input.transport_error = error;
    input.transport_detail = detail;
    input.streamed = streamed;
    acn_classify(&input, &accum->failure);
}

static void classify_error_event(acn_accum *accum, acn_provider provider, int streamed)
{
    acn_classify_input input;

    memset(&input, 0, sizeof(input));
    input.provider = provider;
    input.status = 200;
    input.mid_stream = 1;
    input.body = accum->error_payload.ptr;
    input.body_len = accum->error_payload.len;
    if (input.body_len == 0) {
        /* The decoder gave no payload: the message is all there is. */
        input.body = accum->error_message.ptr;
        input.body_len = accum->error_message.len;
    }
    if (input.body == NULL)
        input.body = "";
    input.streamed = streamed;
    acn_classify(&input, &accum->failure);
}

/* The detail's words are failure_kinds.def's REFUSAL_WITHOUT_TEXT row, which RubyStream writes too. */
static void refusal(acn_accum *accum)
{
    char reason[201];
    char detail[256];
    size_t len;

    snprintf(reason, sizeof(reason), "%.*s",
             (int)(accum->provider_stop_reason.len > 200 ? 200 : accum->provider_stop_reason.len),
             accum->provider_stop_reason.ptr ? accum->provider_stop_reason.ptr : "refusal");
    len = acn_failure_case_copy_fill(detail, sizeof(detail), ACN_COPY_REFUSAL_WITHOUT_TEXT, reason);
    acn_failure_init(&accum->failure, ACN_FAILURE_REFUSAL, 200);
    acn_failure_set_detail(&accum->failure, detail, len);
}

/* A call whose end never came may have its arguments cut: it is not part of the reply. */
/* Calls already announced stay a prefix: `announced` then counts the kept ones among
 * them, so every kept call after them is still announced exactly once. */
static void drop_unended_calls(acn_accum *accum)
{
    size_t i;
    size_t kept = 0;
    size_t announced = 0;

    for (i = 0; i < accum->call_count; i++) {
        acn_accum_tool_call *call = &accum->calls[i];

        if (call->ended) {
            if (i < accum->announced)
                announced++;
            accum->calls[kept++] = *call;
            continue;
        }
        call_free(call);
    }
    accum->call_count = kept;
    accum->announced = announced;
}

static void drop_blocks(acn_accum *accum)
{
    size_t i;

    for (i = 0; i < accum->block_count; i++) {
        acn_buf_free(&accum->blocks[i].thinking);
        acn_buf_free(&accum->blocks[i].signature);
        acn_buf_free(&accum->blocks[i].id);
    }
    accum->block_count = 0;
}

const acn_failure *acn_accum_finish(acn_accum *accum, acn_provider provider, int decoder_done,
                                    acn_status decoder_status, const char *decoder_detail, int streamed)
{
    const acn_dialect *dialect = acn_dialect_of(provider);
    size_t i;
    char detail[320];

    if (accum->finished)
        return &accum->failure;
    accum->finished = 1;
    drop_unended_calls(accum);
    if (dialect == NULL || !dialect->keeps_thinking_blocks)
        drop_blocks(accum); /* the provider does not ask for its thinking blocks back */
    for (i = 0; i < accum->block_count; i++)
        accum->blocks[i].ended = 1;
    if (accum->failure.kind != ACN_FAILURE_NONE) {
        /* decided elsewhere (acn_accum_set_failure) */
    } else if (accum->has_error) {
        classify_error_event(accum, provider, streamed);
    } else if (accum->status != ACN_OK || decoder_status == ACN_ERR_LIMIT ||
               decoder_status == ACN_ERR_NOMEM) {
        if (accum->status == ACN_ERR_LIMIT && accum->limit_detail[0] != '\0')
            snprintf(detail, sizeof(detail), "%s", accum->limit_detail);
        else if (accum->status != ACN_OK)
            snprintf(detail, sizeof(detail), "the reply is larger than its bound of %zu bytes (%s)",
                     accum->max_reply_bytes, acn_status_name(accum->status));
        else
            snprintf(detail, sizeof(detail), "%s",
                     decoder_detail ? decoder_detail : acn_status_name(decoder_status));
        classify_transport(accum, provider, ACN_TRANSPORT_TOO_LARGE, detail, streamed);
    } else if (decoder_status == ACN_ERR_MALFORMED || accum->malformed) {
        snprintf(detail, sizeof(detail), "%s",
                 decoder_status == ACN_ERR_MALFORMED ? (decoder_detail ? decoder_detail : "malformed stream")
                                                     : accum->malformed_detail);
        classify_transport(accum, provider, ACN_TRANSPORT_MALFORMED, detail, streamed);
    } else if (!decoder_done && !accum->done) {
        classify_transport(accum, provider, ACN_TRANSPORT_INCOMPLETE,
                           "the stream ended before its terminal event", streamed);
    } else if (accum->stop_reason == ACN_STOP_REFUSAL && accum->text.len == 0) {
        refusal(accum);
    }
    if (accum->failure.kind != ACN_FAILURE_NONE && accum->failure.kind != ACN_FAILURE_REFUSAL) {
        /* A reply cut short or failed has no stop reason. */
        accum->stop_reason = ACN_STOP_NONE;
        accum->has_stop = 0;
        acn_buf_clear(&accum->provider_stop_reason);
    }
    return &accum->failure;
}

void acn_accum_set_failure(acn_accum *accum, const acn_failure *failure)
{
    accum->failure = *failure;
}

size_t acn_accum_memsize(const acn_accum *accum)
{
    size_t size = accum->text.cap + accum->thinking.cap + accum->message_id.cap + accum->model.cap +
                  accum->provider_stop_reason.cap + accum->error_type.cap + accum->error_message.cap +
                  accum->error_payload.cap;
    size_t i;

    size += accum->call_cap * sizeof(acn_accum_tool_call) + accum->block_cap * sizeof(acn_accum_block);
    for (i = 0; i < accum->call_count; i++)
        size += accum->calls[i].id.cap + accum->calls[i].name.cap + accum->calls[i].arguments.cap +
                accum->calls[i].signature.cap;
    for (i = 0; i < accum->block_count; i++)
        size += accum->blocks[i].thinking.cap + accum->blocks[i].signature.cap + accum->blocks[i].id.cap;
    return size;
}
