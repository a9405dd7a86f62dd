/*
 * decode_openai.c: the OpenAI Chat Completions streaming dialect (and the
 * OpenAI-compatible servers that speak it).
 *
 * Every payload is a chat.completion.chunk: choices[].delta.content, .refusal,
 * .tool_calls[] (index; id and function.name on a call's first fragment, argument
 * fragments after, calls possibly interleaved), .reasoning_content / .reasoning
 * (compatible servers' thinking), choices[].finish_reason, a top-level `usage`
 * (the chunk with empty choices when stream_options.include_usage is set), an
 * `error` object in place of a chunk, and the terminal `[DONE]`. Some compatible
 * servers send no [DONE]: a body that closes cleanly after the choice's
 * finish_reason is complete (close), with whatever usage came. Only the choice
 * with index 0 is read, wherever it stands in `choices` (a choice without an
 * index stands for its position); a negative index is malformed.
 *
 * A choice's `index` may follow its `delta` (Azure OpenAI sends it last), and JSON
 * key order means nothing, so what a choice says is only provisional until it
 * closes: its events wait in the pending list (and its finish_reason and refusal
 * in their own slots), and are kept or dropped then.
 * Tool-call fragments wait unresolved too (a TOOL_CALL_START record holding the
 * fragment's index, id, name and arguments) and become events at emission.
 */
#include "decode_dialect.h"

#include <string.h>

enum {
    S_ID = 0,
    S_MODEL,
    S_FINISH,
    S_ERROR_TYPE,
    S_ERROR_CODE,
    S_ERROR_MESSAGE,
    S_CALL_ID,
    S_CALL_NAME,
    S_CALL_ARGS,
    S_CHOICE_FINISH /* the open choice's finish_reason, S_FINISH once it counts */
};

enum {
    N_INPUT = 0,
    N_OUTPUT,
    N_CACHED,
    N_CHOICE,
    N_CALL_INDEX,
    N_ERROR,
    N_CHOICE_MARK,    /* pending events when the open choice began */
    N_CHOICE_REFUSAL, /* the open choice sent refusal text */
    N_CHOICE_TAKEN    /* the payload's choice with index 0 has been read */
};

/* Unknown reasons ("stop" among them) end the turn. */
static const acn_stop_name stop_names[] = {
    {"tool_calls", ACN_STOP_TOOL_USE}, {"function_call", ACN_STOP_TOOL_USE},
    {"length", ACN_STOP_MAX_TOKENS},   {"content_filter", ACN_STOP_REFUSAL},
    {NULL, ACN_STOP_END_TURN},
};

static acn_stop_reason stop_reason(const char *text, size_t len)
{
    return acn_decode_stop_reason(stop_names, text, len);
}

/* Inside a choice that may yet be index 0 (its `index`, so far, says nothing
 * else, and no earlier choice was): the index may still come, so what this choice
 * sends waits until it closes (choice_closed). */
static int first_choice(const acn_decoder *d)
{
    return !acn_decoder_has(d, N_CHOICE_TAKEN) && acn_decoder_slot(d, N_CHOICE) <= 0;
}

static int choice_index(acn_decoder *d, acn_json_kind kind, const char *text, size_t len)
{
    if (acn_decoder_keep_number(d, N_CHOICE, kind, text, len) != 0)
        return -1;
    if (acn_decoder_has(d, N_CHOICE) && d->num[N_CHOICE] < 0) {
        acn_decoder_fail(d, ACN_ERR_MALFORMED, "a choice's index is %lld", d->num[N_CHOICE]);
        return -1;
    }
    return 0;
}

static int push_text(acn_decoder *d, acn_event_type type, const char *text, size_t len)
{
    acn_decode_pending pending;

    if (len == 0)
        return 0;
    memset(&pending, 0, sizeof(pending));
    pending.type = type;
    pending.index = 0;
    if (acn_decoder_keep(d, text, len, &pending.text) != 0)
        return -1;
    return acn_decoder_push(d, &pending);
}

static int choice_scalar(acn_decoder *d, const acn_json_walk *w, acn_json_kind kind, const char *text,
                         size_t len)
{
    /* choices[] . key */
    if (w->depth == 3) {
        if (acn_decode_key_is(w, 2, "index"))
            return choice_index(d, kind, text, len);
        if (acn_decode_key_is(w, 2, "finish_reason") && kind == ACN_JSON_STRING && first_choice(d))
            return acn_decoder_keep(d, text, len, &d->str[S_CHOICE_FINISH]);
        return 0;
    }
    if (!first_choice(d) || !acn_decode_key_is(w, 2, "delta"))
        return 0;
    /* choices[].delta.tool_calls[].index */
    if (w->depth == 6 && acn_decode_key_is(w, 3, "tool_calls") && acn_decode_key_is(w, 5, "index"))
        return acn_decoder_keep_number(d, N_CALL_INDEX, kind, text, len);
    if (kind != ACN_JSON_STRING)
        return 0;
    /* choices[].delta . key */
    if (w->depth == 4) {
        if (acn_decode_key_is(w, 3, "content"))
            return push_text(d, ACN_EVENT_TEXT_DELTA, text, len);
        if (acn_decode_key_is(w, 3, "refusal")) {
            if (len > 0) {
                acn_decoder_set_flag(d, N_CHOICE_REFUSAL);
            }
            return push_text(d, ACN_EVENT_TEXT_DELTA, text, len);
        }
        if (acn_decode_key_is(w, 3, "reasoning_content") || acn_decode_key_is(w, 3, "reasoning"))
            return push_text(d, ACN_EVENT_THINKING_DELTA, text, len);
        return 0;
    }
    /* choices[].delta.function_call . key (the legacy single call) */
    if (w->depth == 5 && acn_decode_key_is(w, 3, "function_call")) {
        if (acn_decode_key_is(w, 4, "name"))
            return acn_decoder_keep(d, text, len, &d->str[S_CALL_NAME]);
        if (acn_decode_key_is(w, 4, "arguments"))
            return acn_decoder_keep(d, text, len, &d->str[S_CALL_ARGS]);
        return 0;
    }
    if (!acn_decode_key_is(w, 3, "tool_calls"))
        return 0;
    /* choices[].delta.tool_calls[] . key */
    if (w->depth == 6 && acn_decode_key_is(w, 5, "id"))
        return acn_decoder_keep(d, text, len, &d->str[S_CALL_ID]);
    /* choices[].delta.tool_calls[].function . key */
    if (w->depth == 7 && acn_decode_key_is(w, 5, "function")) {
        if (acn_decode_key_is(w, 6, "name"))
            return acn_decoder_keep(d, text, len, &d->str[S_CALL_NAME]);
        if (acn_decode_key_is(w, 6, "arguments"))
            return acn_decoder_keep(d, text, len, &d->str[S_CALL_ARGS]);
    }
    return 0;
}

static int on_scalar(void *ctx, const acn_json_walk *w, acn_json_kind kind, const char *text, size_t len)
{
    acn_decoder *d = ctx;

    if (w->depth == 1) {
        if (kind != ACN_JSON_STRING)
            return 0;
        if (acn_decode_key_is(w, 0, "error")) {
            /* some compatible servers send {"error": "message"} */
            acn_decoder_set_flag(d, N_ERROR);
            return acn_decoder_keep(d, text, len, &d->str[S_ERROR_MESSAGE]);
        }
        if (acn_decode_key_is(w, 0, "id"))
            return acn_decoder_keep(d, text, len, &d->str[S_ID]);
        if (acn_decode_key_is(w, 0, "model"))
            return acn_decoder_keep(d, text, len, &d->str[S_MODEL]);
        return 0;
    }
    if (acn_decode_key_is(w, 0, "choices"))
        return choice_scalar(d, w, kind, text, len);
    if (acn_decode_key_is(w, 0, "usage")) {
        if (acn_json_walk_at(w, "usage.prompt_tokens"))
            return acn_decoder_keep_number(d, N_INPUT, kind, text, len);
        if (acn_json_walk_at(w, "usage.completion_tokens"))
            return acn_decoder_keep_number(d, N_OUTPUT, kind, text, len);
        if (acn_json_walk_at(w, "usage.prompt_tokens_details.cached_tokens"))
            return acn_decoder_keep_number(d, N_CACHED, kind, text, len);
        return 0;
    }
    if (acn_decode_key_is(w, 0, "error") && w->depth == 2) {
        if (kind == ACN_JSON_STRING && acn_decode_key_is(w, 1, "message"))
            return acn_decoder_keep(d, text, len, &d->str[S_ERROR_MESSAGE]);
        if (kind == ACN_JSON_STRING && acn_decode_key_is(w, 1, "type"))
            return acn_decoder_keep(d, text, len, &d->str[S_ERROR_TYPE]);
        if ((kind == ACN_JSON_STRING || kind == ACN_JSON_NUMBER) && acn_decode_key_is(w, 1, "code"))
            return acn_decoder_keep(d, text, len, &d->str[S_ERROR_CODE]);
    }
    return 0;
}

static void clear_call(acn_decoder *d)
{
    d->str[S_CALL_ID].set = 0;
    d->str[S_CALL_NAME].set = 0;
    d->str[S_CALL_ARGS].set = 0;
    acn_decoder_unset(d, N_CALL_INDEX);
}

static int on_open(void *ctx, const acn_json_walk *w, int is_array)
{
    acn_decoder *d = ctx;

    switch (w->depth) {
    case 0: return ACN_JSON_DESCEND;
    case 1:
        if (is_array)
            return acn_decode_key_is(w, 0, "choices") ? ACN_JSON_DESCEND : ACN_JSON_SKIP;
        if (acn_decode_key_is(w, 0, "error")) {
            acn_decoder_set_flag(d, N_ERROR);
            return ACN_JSON_DESCEND;
        }
        return acn_decode_key_is(w, 0, "usage") ? ACN_JSON_DESCEND : ACN_JSON_SKIP;
    case 2:
        if (acn_json_walk_at(w, "choices[]") && !is_array) {
            acn_decoder_unset(d, N_CHOICE);
            acn_decoder_unset(d, N_CHOICE_REFUSAL);
            d->str[S_CHOICE_FINISH].set = 0;
            d->num[N_CHOICE_MARK] = (long long)acn_decoder_pending_count(d);
            return ACN_JSON_DESCEND;
        }
        return acn_json_walk_at(w, "usage.prompt_tokens_details") ? ACN_JSON_DESCEND : ACN_JSON_SKIP;
    case 3: return acn_json_walk_at(w, "choices[].delta") && !is_array ? ACN_JSON_DESCEND : ACN_JSON_SKIP;
    case 4:
        if (acn_json_walk_at(w, "choices[].delta.tool_calls") && is_array)
            return ACN_JSON_DESCEND;
        if (acn_json_walk_at(w, "choices[].delta.function_call") && !is_array) {
            clear_call(d);
            return ACN_JSON_DESCEND;
        }
        return ACN_JSON_SKIP;
    case 5:
        if (acn_json_walk_at(w, "choices[].delta.tool_calls[]") && !is_array) {
            clear_call(d);
            return ACN_JSON_DESCEND;
        }
        return ACN_JSON_SKIP;
    case 6:
        return acn_json_walk_at(w, "choices[].delta.tool_calls[].function") && !is_array ? ACN_JSON_DESCEND
                                                                                         : ACN_JSON_SKIP;
    case 7:
        /* Some compatible servers send the arguments as an object, not a string. */
        return !is_array && acn_json_walk_at(w, "choices[].delta.tool_calls[].function.arguments")
                   ? ACN_JSON_CAPTURE
                   : ACN_JSON_SKIP;
    default: return ACN_JSON_SKIP;
    }
}

/* One tool-call fragment, kept unresolved until emission (emit_call): its choice
 * may still turn out not to be the first. An index past an int is kept as one
 * acn_decoder_index refuses. */
static int push_fragment(acn_decoder *d, long long position)
{
    acn_decode_pending pending;
    long long value = acn_decoder_has(d, N_CALL_INDEX) ? d->num[N_CALL_INDEX] : position;

    memset(&pending, 0, sizeof(pending));
    pending.type = ACN_EVENT_TOOL_CALL_START;
    pending.index = value < 0 ? -1 : value > ACN_DECODER_MAX_BLOCKS ? ACN_DECODER_MAX_BLOCKS : (int)value;
    pending.id = d->str[S_CALL_ID];
    pending.name = d->str[S_CALL_NAME];
    pending.text = d->str[S_CALL_ARGS];
    return acn_decoder_push(d, &pending);
}

/* A fragment as events: the call's start when it is new, then its arguments. */
static acn_status emit_call(acn_decoder *d, const acn_decode_pending *fragment)
{
    acn_decode_pending pending;
    acn_status status;
    int index = 0;

    if ((status = acn_decoder_index(d, fragment->index, &index)) != ACN_OK)
        return status;
    if (acn_decoder_block(d, index) == ACN_BLOCK_NONE && (fragment->id.set || fragment->name.set)) {
        memset(&pending, 0, sizeof(pending));
        pending.type = ACN_EVENT_TOOL_CALL_START;
        pending.index = index;
        pending.id = fragment->id;
        pending.name = fragment->name;
        if (acn_decoder_keep_call_id(d, index, &pending.id) != 0)
            return d->status;
        if ((status = acn_decoder_set_block(d, index, ACN_BLOCK_TOOL)) != ACN_OK ||
            (status = acn_decoder_emit_one(d, &pending)) != ACN_OK)
            return status;
        d->tool_calls++;
    }
    if (fragment->text.set && fragment->text.len > 0) {
        memset(&pending, 0, sizeof(pending));
        pending.type = ACN_EVENT_TOOL_ARGS_DELTA;
        pending.index = index;
        pending.text = fragment->text;
        return acn_decoder_emit_one(d, &pending);
    }
    return ACN_OK;
}

static acn_status emit_pending(acn_decoder *d, const acn_decode_pending *pending)
{
    return pending->type == ACN_EVENT_TOOL_CALL_START ? emit_call(d, pending)
                                                      : acn_decoder_emit_one(d, pending);
}

/* A choice closed: now its index is known. The first with index 0 keeps what it
 * sent; any other's events are dropped. */
static int choice_closed(acn_decoder *d, const acn_json_walk *w)
{
    long long index = acn_decoder_has(d, N_CHOICE) ? d->num[N_CHOICE] : (long long)acn_json_walk_index(w, 1);

    if (acn_decoder_has(d, N_CHOICE_TAKEN) || index != 0) {
        acn_decoder_pending_drop(d, (size_t)d->num[N_CHOICE_MARK]);
        return 0;
    }
    acn_decoder_set_flag(d, N_CHOICE_TAKEN);
    if (d->str[S_CHOICE_FINISH].set)
        d->str[S_FINISH] = d->str[S_CHOICE_FINISH];
    if (acn_decoder_has(d, N_CHOICE_REFUSAL))
        d->refusal = 1;
    return 0;
}

static int on_close(void *ctx, const acn_json_walk *w, int is_array)
{
    acn_decoder *d = ctx;

    if (is_array)
        return 0;
    if (w->depth == 2 && acn_json_walk_at(w, "choices[]"))
        return choice_closed(d, w);
    if (w->depth == 5 && acn_json_walk_at(w, "choices[].delta.tool_calls[]") && first_choice(d))
        return push_fragment(d, acn_json_walk_index(w, 4));
    if (w->depth == 4 && acn_json_walk_at(w, "choices[].delta.function_call") && first_choice(d))
        return push_fragment(d, 0);
    return 0;
}

static int on_capture(void *ctx, const acn_json_walk *w, const char *json, size_t len)
{
    acn_decoder *d = ctx;

    (void)w; /* only choices[].delta.tool_calls[].function.arguments is captured */
    if (!first_choice(d))
        return 0;
    return acn_decoder_keep(d, json, len, &d->str[S_CALL_ARGS]);
}

static const acn_json_listener listener = {on_scalar, on_open, on_close, on_capture};

/* Calls end when the choice finishes: OpenAI sends no per-call end. */
static acn_status end_calls(acn_decoder *d)
{
    size_t index;

    for (index = 0; index < d->blocks.len; index++) {
        if (acn_decoder_block(d, (long long)index) == ACN_BLOCK_TOOL) {
            acn_event event;
            acn_status status = acn_decoder_set_block(d, (long long)index, ACN_BLOCK_TOOL_DONE);

            if (status != ACN_OK)
                return status;
            acn_decoder_event_init(&event, ACN_EVENT_TOOL_CALL_END, (int)index);
            if ((status = acn_decoder_emit(d, &event)) != ACN_OK)
                return status;
        }
    }
    return ACN_OK;
}

static acn_status begin(acn_decoder *d, const acn_sse_event *event, int *handled)
{
    acn_status status;

    *handled = acn_decode_is(event->data, event->data_len, "[DONE]");
    if (!*handled)
        return ACN_OK;
    if ((status = end_calls(d)) != ACN_OK)
        return status;
    return acn_decoder_terminal(d);
}

static acn_status end(acn_decoder *d, const acn_sse_event *sse)
{
    acn_status status;
    acn_stop_reason reason;

    if (acn_decoder_has(d, N_ERROR))
        return acn_decoder_error_event(d, sse, d->str[S_ERROR_TYPE].set ? S_ERROR_TYPE : S_ERROR_CODE,
                                       S_ERROR_MESSAGE);
    if ((status = acn_decoder_start(d, S_ID, S_MODEL)) != ACN_OK)
        return status;
    if ((status = acn_decoder_emit_pending_with(d, emit_pending)) != ACN_OK)
        return status;
    status = acn_decoder_usage(d, acn_decoder_slot(d, N_INPUT), acn_decoder_slot(d, N_OUTPUT),
                               acn_decoder_slot(d, N_CACHED), -1);
    if (status != ACN_OK || !d->str[S_FINISH].set)
        return status;
    if ((status = end_calls(d)) != ACN_OK)
        return status;
    reason = stop_reason(acn_decoder_str(d, d->str[S_FINISH]), d->str[S_FINISH].len);
    /* Refusal text arrives with finish_reason "stop"; some compatible servers also
     * finish tool calls with "stop". */
    if (reason == ACN_STOP_END_TURN && d->refusal)
        reason = ACN_STOP_REFUSAL;
    else if (reason == ACN_STOP_END_TURN && d->tool_calls > 0)
        reason = ACN_STOP_TOOL_USE;
    return acn_decoder_stop(d, reason, S_FINISH);
}

/* A clean close after the choice finished ends the reply as [DONE] would; a usage
 * chunk that [DONE] would have waited for may never come. Before a finish_reason, a
 * close is a cut-off reply and stays incomplete. */
static acn_status close_body(acn_decoder *d)
{
    if (!d->stopped)
        return ACN_OK;
    return acn_decoder_terminal(d);
}

const acn_dialect acn_dialect_openai = {
    .name = "openai",
    .listener = &listener,
    .begin = begin,
    .end = end,
    .close = close_body,
    .stop_reason = stop_reason,
    .keeps_thinking_blocks = 0,
};
