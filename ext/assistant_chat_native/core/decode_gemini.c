/*
 * decode_gemini.c: the Gemini streamGenerateContent dialect (alt=sse).
 *
 * Every payload is a GenerateContentResponse: candidates[0].content.parts[] with
 * text parts (thought summaries when "thought": true, in either key order),
 * functionCall parts (name and args whole, optional id, the part's thoughtSignature),
 * candidates[0].finishReason,
 * usageMetadata, promptFeedback.blockReason, responseId and modelVersion (at the
 * end of the chunk, so parts wait until the chunk has parsed), or an `error`
 * object instead. A chunk with finishReason or blockReason is the terminal one.
 */
#include "decode_dialect.h"

#include <limits.h>
#include <string.h>

enum {
    S_RESPONSE_ID = 0,
    S_MODEL,
    S_FINISH,
    S_BLOCK_REASON,
    S_ERROR_STATUS,
    S_ERROR_MESSAGE,
    S_PART_TEXT,
    S_CALL_ID,
    S_CALL_NAME,
    S_CALL_ARGS,
    S_SIGNATURE
};

enum { N_PROMPT = 0, N_CANDIDATES, N_THOUGHTS, N_CACHED, N_THOUGHT, N_CALL, N_ERROR };

/* STOP ends the turn (end() makes it TOOL_USE after a function call); the model's
 * own tool-call failures are not content blocks. Any other reason (SAFETY,
 * RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII, OTHER, ...) is a refusal. */
static const acn_stop_name stop_names[] = {
    {"STOP", ACN_STOP_END_TURN},
    {"FINISH_REASON_UNSPECIFIED", ACN_STOP_END_TURN},
    {"MAX_TOKENS", ACN_STOP_MAX_TOKENS},
    {"MALFORMED_FUNCTION_CALL", ACN_STOP_END_TURN},
    {"UNEXPECTED_TOOL_CALL", ACN_STOP_END_TURN},
    {"TOO_MANY_TOOL_CALLS", ACN_STOP_END_TURN},
    {NULL, ACN_STOP_REFUSAL},
};

static acn_stop_reason stop_reason(const char *text, size_t len)
{
    return acn_decode_stop_reason(stop_names, text, len);
}

/* candidates[].content.parts[] . key (depth 6) and .functionCall . key (depth 7) */
static int part_scalar(acn_decoder *d, const acn_json_walk *w, acn_json_kind kind, const char *text,
                       size_t len)
{
    if (w->depth == 6) {
        if (kind == ACN_JSON_STRING && acn_decode_key_is(w, 5, "text"))
            return acn_decoder_keep(d, text, len, &d->str[S_PART_TEXT]);
        if (kind == ACN_JSON_TRUE && acn_decode_key_is(w, 5, "thought"))
            acn_decoder_set_flag(d, N_THOUGHT);
        if (kind == ACN_JSON_STRING && acn_decode_key_is(w, 5, "thoughtSignature"))
            return acn_decoder_keep(d, text, len, &d->str[S_SIGNATURE]);
        return 0;
    }
    if (w->depth == 7 && kind == ACN_JSON_STRING && acn_decode_key_is(w, 5, "functionCall")) {
        if (acn_decode_key_is(w, 6, "name"))
            return acn_decoder_keep(d, text, len, &d->str[S_CALL_NAME]);
        if (acn_decode_key_is(w, 6, "id"))
            return acn_decoder_keep(d, text, len, &d->str[S_CALL_ID]);
    }
    return 0;
}

static int on_scalar(void *ctx, const acn_json_walk *w, acn_json_kind kind, const char *text, size_t len)
{
    acn_decoder *d = ctx;

    switch (w->depth) {
    case 1:
        if (kind != ACN_JSON_STRING)
            return 0;
        if (acn_decode_key_is(w, 0, "responseId"))
            return acn_decoder_keep(d, text, len, &d->str[S_RESPONSE_ID]);
        if (acn_decode_key_is(w, 0, "modelVersion"))
            return acn_decoder_keep(d, text, len, &d->str[S_MODEL]);
        return 0;
    case 2:
        if (acn_decode_key_is(w, 0, "usageMetadata")) {
            if (acn_decode_key_is(w, 1, "promptTokenCount"))
                return acn_decoder_keep_number(d, N_PROMPT, kind, text, len);
            if (acn_decode_key_is(w, 1, "candidatesTokenCount"))
                return acn_decoder_keep_number(d, N_CANDIDATES, kind, text, len);
            if (acn_decode_key_is(w, 1, "thoughtsTokenCount"))
                return acn_decoder_keep_number(d, N_THOUGHTS, kind, text, len);
            if (acn_decode_key_is(w, 1, "cachedContentTokenCount"))
                return acn_decoder_keep_number(d, N_CACHED, kind, text, len);
            return 0;
        }
        if (kind != ACN_JSON_STRING)
            return 0;
        if (acn_decode_key_is(w, 0, "promptFeedback") && acn_decode_key_is(w, 1, "blockReason"))
            return acn_decoder_keep(d, text, len, &d->str[S_BLOCK_REASON]);
        if (acn_decode_key_is(w, 0, "error") && acn_decode_key_is(w, 1, "status"))
            return acn_decoder_keep(d, text, len, &d->str[S_ERROR_STATUS]);
        if (acn_decode_key_is(w, 0, "error") && acn_decode_key_is(w, 1, "message"))
            return acn_decoder_keep(d, text, len, &d->str[S_ERROR_MESSAGE]);
        return 0;
    case 3:
        if (kind == ACN_JSON_STRING && acn_json_walk_at(w, "candidates[].finishReason"))
            return acn_decoder_keep(d, text, len, &d->str[S_FINISH]);
        return 0;
    case 6:
    case 7:
        /* on_open descends into candidates[0].content.parts[] only */
        return part_scalar(d, w, kind, text, len);
    default: return 0;
    }
}

static void clear_part(acn_decoder *d)
{
    d->str[S_PART_TEXT].set = 0;
    d->str[S_CALL_ID].set = 0;
    d->str[S_CALL_NAME].set = 0;
    d->str[S_CALL_ARGS].set = 0;
    d->str[S_SIGNATURE].set = 0;
    acn_decoder_unset(d, N_THOUGHT);
    acn_decoder_unset(d, N_CALL);
}

static int on_open(void *ctx, const acn_json_walk *w, int is_array)
{
    acn_decoder *d = ctx;

    switch (w->depth) {
    case 0: return ACN_JSON_DESCEND;
    case 1:
        if (is_array)
            return acn_decode_key_is(w, 0, "candidates") ? ACN_JSON_DESCEND : ACN_JSON_SKIP;
        if (acn_decode_key_is(w, 0, "error")) {
            acn_decoder_set_flag(d, N_ERROR);
            return ACN_JSON_DESCEND;
        }
        return acn_decode_key_is(w, 0, "usageMetadata") || acn_decode_key_is(w, 0, "promptFeedback")
                   ? ACN_JSON_DESCEND
                   : ACN_JSON_SKIP;
    case 2:
        /* Only the first candidate: Gemini streams one. */
        return !is_array && acn_json_walk_index(w, 1) == 0 ? ACN_JSON_DESCEND : ACN_JSON_SKIP;
    case 3: return !is_array && acn_decode_key_is(w, 2, "content") ? ACN_JSON_DESCEND : ACN_JSON_SKIP;
    case 4: return is_array && acn_decode_key_is(w, 3, "parts") ? ACN_JSON_DESCEND : ACN_JSON_SKIP;
    case 5:
        if (is_array)
            return ACN_JSON_SKIP;
        clear_part(d);
        return ACN_JSON_DESCEND;
    case 6:
        if (!is_array && acn_decode_key_is(w, 5, "functionCall")) {
            acn_decoder_set_flag(d, N_CALL);
            return ACN_JSON_DESCEND;
        }
        return ACN_JSON_SKIP;
    case 7:
        return acn_decode_key_is(w, 5, "functionCall") && acn_decode_key_is(w, 6, "args") ? ACN_JSON_CAPTURE
                                                                                          : ACN_JSON_SKIP;
    default: return ACN_JSON_SKIP;
    }
}

static int on_capture(void *ctx, const acn_json_walk *w, const char *json, size_t len)
{
    acn_decoder *d = ctx;

    (void)w; /* only functionCall.args is captured */
    return acn_decoder_keep(d, json, len, &d->str[S_CALL_ARGS]);
}

/* A function call arrives whole: its start, its arguments, its end. */
static int push_call(acn_decoder *d)
{
    acn_decode_pending pending;
    int index = 0;

    if (acn_decoder_index(d, d->tool_calls, &index) != ACN_OK)
        return -1;
    d->tool_calls++;
    memset(&pending, 0, sizeof(pending));
    pending.type = ACN_EVENT_TOOL_CALL_START;
    pending.index = index;
    pending.name = d->str[S_CALL_NAME];
    pending.id = d->str[S_CALL_ID];
    pending.text = d->str[S_SIGNATURE]; /* the part's thoughtSignature, to send back with the call */
    if (acn_decoder_keep_call_id(d, index, &pending.id) != 0 || acn_decoder_push(d, &pending) != 0)
        return -1;
    if (d->str[S_CALL_ARGS].set && d->str[S_CALL_ARGS].len > 0) {
        memset(&pending, 0, sizeof(pending));
        pending.type = ACN_EVENT_TOOL_ARGS_DELTA;
        pending.index = index;
        pending.text = d->str[S_CALL_ARGS];
        if (acn_decoder_push(d, &pending) != 0)
            return -1;
    }
    memset(&pending, 0, sizeof(pending));
    pending.type = ACN_EVENT_TOOL_CALL_END;
    pending.index = index;
    return acn_decoder_push(d, &pending);
}

static int on_close(void *ctx, const acn_json_walk *w, int is_array)
{
    acn_decoder *d = ctx;
    acn_decode_pending pending;

    if (is_array || w->depth != 5)
        return 0; /* candidates[].content.parts[] closes at depth 5 */
    if (acn_decoder_has(d, N_CALL))
        return push_call(d);
    if (!d->str[S_PART_TEXT].set || d->str[S_PART_TEXT].len == 0)
        return 0;
    memset(&pending, 0, sizeof(pending));
    pending.type = acn_decoder_has(d, N_THOUGHT) ? ACN_EVENT_THINKING_DELTA : ACN_EVENT_TEXT_DELTA;
    pending.index = 0;
    pending.text = d->str[S_PART_TEXT];
    return acn_decoder_push(d, &pending);
}

static const acn_json_listener listener = {on_scalar, on_open, on_close, on_capture};

static acn_status begin(acn_decoder *d, const acn_sse_event *event, int *handled)
{
    (void)d;
    (void)event;
    *handled = 0;
    return ACN_OK;
}

static acn_status end(acn_decoder *d, const acn_sse_event *sse)
{
    acn_status status;
    long long output = -1;
    acn_stop_reason reason;

    if (acn_decoder_has(d, N_ERROR))
        return acn_decoder_error_event(d, sse, S_ERROR_STATUS, S_ERROR_MESSAGE);
    if ((status = acn_decoder_start(d, S_RESPONSE_ID, S_MODEL)) != ACN_OK)
        return status;
    if ((status = acn_decoder_emit_pending(d)) != ACN_OK)
        return status;
    {
        /* A negative count is no count; the sum saturates rather than overflow. */
        long long candidates = acn_decoder_slot(d, N_CANDIDATES);
        long long thoughts = acn_decoder_slot(d, N_THOUGHTS);

        if (candidates >= 0 || thoughts >= 0) {
            candidates = candidates < 0 ? 0 : candidates;
            thoughts = thoughts < 0 ? 0 : thoughts;
            output = candidates > LLONG_MAX - thoughts ? LLONG_MAX : candidates + thoughts;
        }
    }
    status = acn_decoder_usage(d, acn_decoder_slot(d, N_PROMPT), output, acn_decoder_slot(d, N_CACHED), -1);
    if (status != ACN_OK)
        return status;
    if (d->str[S_BLOCK_REASON].set) {
        if ((status = acn_decoder_stop(d, ACN_STOP_REFUSAL, S_BLOCK_REASON)) != ACN_OK)
            return status;
        return acn_decoder_terminal(d);
    }
    if (!d->str[S_FINISH].set)
        return ACN_OK;
    reason = stop_reason(acn_decoder_str(d, d->str[S_FINISH]), d->str[S_FINISH].len);
    /* Gemini finishes a turn that calls functions with STOP. This is the one place
     * that rule lives: the accumulator and Ruby take the STOP event as it is. */
    if (reason == ACN_STOP_END_TURN && d->tool_calls > 0)
        reason = ACN_STOP_TOOL_USE;
    if ((status = acn_decoder_stop(d, reason, S_FINISH)) != ACN_OK)
        return status;
    return acn_decoder_terminal(d);
}

const acn_dialect acn_dialect_gemini = {
    .name = "gemini",
    .listener = &listener,
    .begin = begin,
    .end = end,
    .stop_reason = stop_reason,
    .keeps_thinking_blocks = 0, /* thought summaries are not sent back; signatures ride on calls */
};
