/*
 * stream_class.c: AssistantChatNative::Stream, one LLM request streamed by the
 * C core (core/stream.h) with the GVL released; Ruby is entered only for a
 * flush, a tool call's start, a heartbeat or a cancellation poll. Keyword
 * arguments, defaults and documentation are in
 * lib/assistant_chat_native/stream.rb.
 *
 * The GVL boundary follows redis-client's hiredis glue: an argument struct
 * (run_ctx), the function that runs without the GVL (run_without_gvl) and the
 * small loop that releases it (run_loop). The unblocking function sets a flag
 * and wakes the poll (curl_multi_wakeup), as patron does.
 *
 * Ruby is entered by returning from the GVL-free region rather than through
 * rb_thread_call_with_gvl: a core callback records what is due and pauses the
 * stream, the loop calls the handler with the GVL held, then resumes the
 * stream. The GVL changes hands exactly as often, but rb_thread_call_with_gvl
 * checks interrupts when it gives the GVL back and can longjmp over C frames
 * that hold libcurl state; here every raise (from a handler, Thread#raise,
 * Thread#kill, Ctrl-C) happens with no core frame live, inside the loop that
 * stream_run calls under acn_protect (binding.h). stream_run then tears the
 * transfer down, frees every C resource, and only then lets the exception go
 * on, once.
 */
#include "binding.h"
#include "stream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static VALUE cStream;
static ID id_on_text, id_on_thinking, id_on_tool_call, id_on_heartbeat, id_cancelled_p;
static VALUE sym_status, sym_ttfb, sym_ttft, sym_duration, sym_bytes, sym_events, sym_flushes,
    sym_new_connections;

typedef struct stream_obj {
    acn_provider provider;
    char *url;
    char *body;
    size_t body_len;
    char **headers; /* "Name: value" lines; secrets: never printed */
    size_t header_count;
    size_t header_bytes;
    uint64_t broadcast_interval_ns;
    uint64_t heartbeat_interval_ns;
    uint64_t cancel_poll_interval_ns;
    uint64_t stall_timeout_ns;
    uint64_t connect_timeout_ns;
    uint64_t timeout_ns;
    size_t max_error_body;
    size_t max_event_bytes;
    size_t max_reply_bytes;
    char *ca_file; /* trusted CA bundle / hashed directory; NULL: libcurl's default */
    char *ca_path;
    acn_stream *active; /* the running transfer, NULL between runs */
    size_t active_size; /* its memsize, published with the GVL held (see stream_memsize) */
    VALUE handler;      /* the running transfer's handler, Qnil between runs */
    int cancel_requested;
} stream_obj;

static void clear_request(stream_obj *obj)
{
    size_t i;

    for (i = 0; i < obj->header_count; i++) {
        /* Header values hold API keys: wipe them before the memory goes back. */
        acn_transport_wipe(obj->headers[i], strlen(obj->headers[i]));
        free(obj->headers[i]);
    }
    free(obj->headers);
    obj->headers = NULL;
    obj->header_count = 0;
    obj->header_bytes = 0;
    free(obj->url);
    obj->url = NULL;
    free(obj->body);
    obj->body = NULL;
    obj->body_len = 0;
    free(obj->ca_file);
    obj->ca_file = NULL;
    free(obj->ca_path);
    obj->ca_path = NULL;
}

static void stream_mark(void *ptr)
{
    stream_obj *obj = ptr;

    rb_gc_mark_movable(obj->handler);
}

static void stream_free(void *ptr)
{
    stream_obj *obj = ptr;

    clear_request(obj);
    xfree(obj);
}

static size_t stream_memsize(const void *ptr)
{
    const stream_obj *obj = ptr;
    size_t size = sizeof(*obj) + obj->body_len + obj->header_bytes + obj->header_count * sizeof(char *);

    if (obj->url != NULL)
        size += strlen(obj->url) + 1;
    /* Not acn_stream_memsize(obj->active): ObjectSpace.memsize_of, heap dumps and
     * profilers call this from another thread while the transfer runs without the
     * GVL and reallocates its buffers. The running thread publishes the size each
     * time it holds the GVL (at the start and at every pause to call Ruby), and
     * clears it at teardown, so this reads only a value written under the GVL. */
    return size + obj->active_size;
}

static void stream_compact(void *ptr)
{
    stream_obj *obj = ptr;

    obj->handler = rb_gc_location(obj->handler);
}

static const rb_data_type_t stream_type = {
    .wrap_struct_name = "AssistantChatNative::Stream",
    .function =
        {
            .dmark = stream_mark,
            .dfree = stream_free,
            .dsize = stream_memsize,
            .dcompact = stream_compact,
        },
    .flags = RUBY_TYPED_FREE_IMMEDIATELY,
};

static VALUE stream_alloc(VALUE klass)
{
    stream_obj *obj;
    VALUE self = TypedData_Make_Struct(klass, stream_obj, &stream_type, obj);

    obj->handler = Qnil;
    return self;
}

static stream_obj *get_stream(VALUE self)
{
    stream_obj *obj;

    TypedData_Get_Struct(self, stream_obj, &stream_type, obj);
    return obj;
}

static char *copy_string(VALUE string, size_t *len)
{
    char *copy = malloc((size_t)RSTRING_LEN(string) + 1);

    if (copy == NULL)
        rb_raise(rb_eNoMemError, "failed to copy the request for AssistantChatNative::Stream");
    memcpy(copy, RSTRING_PTR(string), (size_t)RSTRING_LEN(string));
    copy[RSTRING_LEN(string)] = '\0';
    if (len != NULL)
        *len = (size_t)RSTRING_LEN(string);
    return copy;
}

static uint64_t seconds_to_ns(VALUE seconds)
{
    double value = NUM2DBL(seconds);

    if (!(value >= 0) || value > 1e9)
        rb_raise(rb_eArgError, "intervals and timeouts must be between 0 and 1e9 seconds");
    return (uint64_t)(value * 1e9);
}

static size_t to_size(VALUE bytes)
{
    long long value = NUM2LL(bytes);

    if (value <= 0)
        rb_raise(rb_eArgError, "limits must be positive byte counts");
    return (size_t)value;
}

/* Stream#configure_native(provider, url, header_lines, body,
 * broadcast_interval, heartbeat_interval, cancel_poll_interval, stall_timeout,
 * connect_timeout, timeout, max_error_body, max_event_bytes, max_reply_bytes):
 * copies the request into C so nothing Ruby owns is touched once the GVL is
 * released. */
static VALUE stream_configure(int argc, VALUE *argv, VALUE self)
{
    stream_obj *obj = get_stream(self);
    VALUE provider, url, lines, body;
    long i;

    rb_check_arity(argc, 13, 13);
    provider = argv[0];
    url = argv[1];
    lines = argv[2];
    body = argv[3];
    StringValue(provider);
    StringValueCStr(url);
    Check_Type(lines, T_ARRAY);
    StringValue(body);
    if (obj->active != NULL)
        rb_raise(acn_eError, "cannot reconfigure a running AssistantChatNative::Stream");
    obj->provider = acn_provider_from_ruby(provider);
    for (i = 0; i < RARRAY_LEN(lines); i++) {
        VALUE line = RARRAY_AREF(lines, i);
        StringValueCStr(line);
    }

    obj->broadcast_interval_ns = seconds_to_ns(argv[4]);
    obj->heartbeat_interval_ns = seconds_to_ns(argv[5]);
    obj->cancel_poll_interval_ns = seconds_to_ns(argv[6]);
    obj->stall_timeout_ns = seconds_to_ns(argv[7]);
    obj->connect_timeout_ns = seconds_to_ns(argv[8]);
    obj->timeout_ns = seconds_to_ns(argv[9]);
    obj->max_error_body = to_size(argv[10]);
    obj->max_event_bytes = to_size(argv[11]);
    obj->max_reply_bytes = to_size(argv[12]);

    clear_request(obj);
    obj->url = copy_string(url, NULL);
    obj->body = copy_string(body, &obj->body_len);
    obj->headers = calloc((size_t)RARRAY_LEN(lines) + 1, sizeof(char *));
    if (obj->headers == NULL)
        rb_raise(rb_eNoMemError, "failed to copy the request headers for AssistantChatNative::Stream");
    for (i = 0; i < RARRAY_LEN(lines); i++) {
        size_t len;
        obj->headers[i] = copy_string(RARRAY_AREF(lines, i), &len);
        obj->header_count++;
        obj->header_bytes += len + 1;
    }
    return self;
}

/* Stream#configure_tls(ca_file, ca_path): each a path String, or nil for libcurl's
 * default. Called after configure_native, which clears them. */
static VALUE stream_configure_tls(VALUE self, VALUE ca_file, VALUE ca_path)
{
    stream_obj *obj = get_stream(self);

    if (!NIL_P(ca_file))
        StringValueCStr(ca_file);
    if (!NIL_P(ca_path))
        StringValueCStr(ca_path);
    if (obj->active != NULL)
        rb_raise(acn_eError, "cannot reconfigure a running AssistantChatNative::Stream");
    free(obj->ca_file);
    obj->ca_file = NIL_P(ca_file) ? NULL : copy_string(ca_file, NULL);
    free(obj->ca_path);
    obj->ca_path = NIL_P(ca_path) ? NULL : copy_string(ca_path, NULL);
    return self;
}

/* ---- one run ---- */

typedef enum pending_kind {
    PENDING_NONE = 0,
    PENDING_TEXT,
    PENDING_THINKING,
    PENDING_TOOL,
    PENDING_HEARTBEAT,
    PENDING_CANCEL_POLL
} pending_kind;

typedef struct run_ctx {
    VALUE handler;
    stream_obj *obj;
    acn_stream *stream;
    pending_kind pending;
    acn_accum_chunk chunk;           /* PENDING_TEXT / THINKING: points into the accumulator */
    const acn_accum_tool_call *call; /* PENDING_TOOL */
    double elapsed;                  /* PENDING_HEARTBEAT */
    VALUE result;                    /* the Result, once the transfer finished */
} run_ctx;

/* The core's callbacks run without the GVL: they only note what is due and
 * pause. */
static int note_text(void *arg, const acn_accum_chunk *chunk)
{
    run_ctx *ctx = arg;

    ctx->pending = PENDING_TEXT;
    ctx->chunk = *chunk;
    acn_stream_pause(ctx->stream);
    return 0;
}

static int note_thinking(void *arg, const acn_accum_chunk *chunk)
{
    run_ctx *ctx = arg;

    ctx->pending = PENDING_THINKING;
    ctx->chunk = *chunk;
    acn_stream_pause(ctx->stream);
    return 0;
}

static int note_tool_call(void *arg, const acn_accum_tool_call *call)
{
    run_ctx *ctx = arg;

    ctx->pending = PENDING_TOOL;
    ctx->call = call;
    acn_stream_pause(ctx->stream);
    return 0;
}

static int note_heartbeat(void *arg, double elapsed)
{
    run_ctx *ctx = arg;

    ctx->pending = PENDING_HEARTBEAT;
    ctx->elapsed = elapsed;
    acn_stream_pause(ctx->stream);
    return 0;
}

static int note_cancel_poll(void *arg)
{
    run_ctx *ctx = arg;

    ctx->pending = PENDING_CANCEL_POLL;
    acn_stream_pause(ctx->stream);
    return 0; /* the handler's answer is applied with acn_stream_cancel before
                 resuming */
}

static void *run_without_gvl(void *arg)
{
    run_ctx *ctx = arg;

    return (void *)(uintptr_t)acn_stream_run(ctx->stream);
}

/* The unblocking function: any thread, no GVL. Sets the flag and wakes the
 * poll. */
static void unblock_run(void *arg)
{
    run_ctx *ctx = arg;

    acn_stream_interrupt(ctx->stream);
}

/* With the GVL: hands what is due to the handler. May raise: stream_run then
 * tears the transfer down before the exception goes on. */
static void deliver(run_ctx *ctx)
{
    pending_kind kind = ctx->pending;

    ctx->pending = PENDING_NONE;
    switch (kind) {
    case PENDING_TEXT:
        rb_funcall(ctx->handler, id_on_text, 2, acn_utf8(ctx->chunk.all, ctx->chunk.all_len),
                   acn_utf8(ctx->chunk.delta, ctx->chunk.delta_len));
        break;
    case PENDING_THINKING:
        rb_funcall(ctx->handler, id_on_thinking, 2, acn_utf8(ctx->chunk.all, ctx->chunk.all_len),
                   acn_utf8(ctx->chunk.delta, ctx->chunk.delta_len));
        break;
    case PENDING_TOOL:
        rb_funcall(ctx->handler, id_on_tool_call, 2, acn_utf8(ctx->call->name.ptr, ctx->call->name.len),
                   acn_utf8(ctx->call->id.ptr, ctx->call->id.len));
        break;
    case PENDING_HEARTBEAT: rb_funcall(ctx->handler, id_on_heartbeat, 1, DBL2NUM(ctx->elapsed)); break;
    case PENDING_CANCEL_POLL:
        if (RTEST(rb_funcall(ctx->handler, id_cancelled_p, 0)))
            acn_stream_cancel(ctx->stream);
        break;
    case PENDING_NONE: break;
    }
}

static VALUE seconds_or_nil(double seconds)
{
    return seconds < 0 ? Qnil : DBL2NUM(seconds);
}

static VALUE stats_hash(const acn_stream *stream)
{
    acn_stream_stats stats;
    VALUE hash = rb_hash_new();

    acn_stream_get_stats(stream, &stats);
    rb_hash_aset(hash, sym_status, stats.status > 0 ? INT2NUM(stats.status) : Qnil);
    rb_hash_aset(hash, sym_ttfb, seconds_or_nil(stats.time_to_first_byte));
    rb_hash_aset(hash, sym_ttft, seconds_or_nil(stats.time_to_first_token));
    rb_hash_aset(hash, sym_duration, DBL2NUM(stats.duration));
    rb_hash_aset(hash, sym_bytes, ULL2NUM(stats.bytes));
    rb_hash_aset(hash, sym_events, ULL2NUM(stats.events));
    rb_hash_aset(hash, sym_flushes, ULL2NUM(stats.flushes));
    rb_hash_aset(hash, sym_new_connections, LONG2NUM(stats.new_connections));
    return hash;
}

static VALUE run_loop(VALUE arg)
{
    run_ctx *ctx = (run_ctx *)arg;

    for (;;) {
        /* Checks interrupts before and after: a raise comes out of acn_protect. */
        acn_stream_state state =
            (acn_stream_state)(uintptr_t)rb_thread_call_without_gvl(run_without_gvl, ctx, unblock_run, ctx);
        ctx->obj->active_size = acn_stream_memsize(ctx->stream);
        if (state == ACN_STREAM_FINISHED)
            break;
        deliver(ctx);
    }
    ctx->result = acn_result_new(&ctx->stream->accum, stats_hash(ctx->stream));
    return Qnil;
}

/* No Ruby code runs here: it sits between a caught raise and its re-raise. */
static void run_teardown(run_ctx *ctx)
{
    ctx->obj->active = NULL;
    ctx->obj->active_size = 0;
    ctx->obj->handler = Qnil;
    acn_stream_free(ctx->stream);
    free(ctx->stream);
    ctx->stream = NULL;
}

static VALUE stream_run(VALUE self, VALUE handler)
{
    stream_obj *obj = get_stream(self);
    acn_stream_callbacks callbacks;
    acn_stream_config config;
    run_ctx ctx;
    acn_status status;
    VALUE result = Qnil;
    int raised = 0;

    if (obj->url == NULL)
        rb_raise(acn_eError, "AssistantChatNative::Stream was not configured; build it with Stream.new");
    if (obj->active != NULL)
        rb_raise(acn_eError, "this AssistantChatNative::Stream is already running; build one per request");

    /* Which handler methods exist is asked once, before the GVL is released. */
    memset(&callbacks, 0, sizeof(callbacks));
    if (rb_respond_to(handler, id_on_text))
        callbacks.on_text = note_text;
    if (rb_respond_to(handler, id_on_thinking))
        callbacks.on_thinking = note_thinking;
    if (rb_respond_to(handler, id_on_tool_call))
        callbacks.on_tool_call = note_tool_call;
    if (rb_respond_to(handler, id_on_heartbeat))
        callbacks.on_heartbeat = note_heartbeat;
    if (rb_respond_to(handler, id_cancelled_p))
        callbacks.on_cancel_poll = note_cancel_poll;

    memset(&config, 0, sizeof(config));
    config.provider = obj->provider;
    config.request.url = obj->url;
    config.request.body = obj->body;
    config.request.body_len = obj->body_len;
    config.request.headers = (const char *const *)obj->headers;
    config.request.header_count = obj->header_count;
    config.request.connect_timeout_ns = obj->connect_timeout_ns;
    config.request.timeout_ns = obj->timeout_ns;
    config.request.stall_timeout_ns = obj->stall_timeout_ns;
    config.request.max_error_body = obj->max_error_body;
    config.request.ca_file = obj->ca_file;
    config.request.ca_path = obj->ca_path;
    config.broadcast_interval_ns = obj->broadcast_interval_ns;
    config.heartbeat_interval_ns = obj->heartbeat_interval_ns;
    config.cancel_poll_interval_ns = obj->cancel_poll_interval_ns;
    config.max_event_bytes = obj->max_event_bytes;
    config.max_reply_bytes = obj->max_reply_bytes;

    memset(&ctx, 0, sizeof(ctx));
    ctx.result = Qnil;
    ctx.handler = handler;
    ctx.obj = obj;
    ctx.stream = calloc(1, sizeof(acn_stream));
    if (ctx.stream == NULL)
        rb_raise(rb_eNoMemError, "failed to allocate an AssistantChatNative::Stream transfer");
    status = acn_stream_init(ctx.stream, &config, &callbacks, &ctx);
    if (status != ACN_OK) {
        free(ctx.stream);
        if (status == ACN_ERR_NOMEM)
            rb_raise(rb_eNoMemError, "failed to prepare an AssistantChatNative::Stream transfer");
        rb_raise(acn_eConfigurationError, "libcurl cannot use this URL; pass an http:// or https:// URL");
    }
    if (obj->cancel_requested) {
        obj->cancel_requested = 0;
        ctx.stream->cancelled = 1;
    }
    obj->active = ctx.stream;
    obj->active_size = acn_stream_memsize(ctx.stream);
    obj->handler = handler;
    acn_protect(run_loop, (VALUE)&ctx, &raised);
    result = ctx.result;
    run_teardown(&ctx);
    acn_reraise(raised);
    return result;
}

/* Stream#cancel: from any thread. The running transfer (or the next one) ends
 * with a failure of kind :cancelled. */
static VALUE stream_cancel(VALUE self)
{
    stream_obj *obj = get_stream(self);

    if (obj->active != NULL)
        acn_stream_cancel(obj->active);
    else
        obj->cancel_requested = 1;
    return Qnil;
}

static VALUE stream_running_p(VALUE self)
{
    return get_stream(self)->active != NULL ? Qtrue : Qfalse;
}

void acn_init_stream(void)
{
    cStream = rb_define_class_under(acn_mAssistantChatNative, "Stream", rb_cObject);
    rb_define_alloc_func(cStream, stream_alloc);
    rb_define_private_method(cStream, "configure_native", stream_configure, -1);
    rb_define_private_method(cStream, "configure_tls", stream_configure_tls, 2);
    rb_define_method(cStream, "run", stream_run, 1);
    rb_define_method(cStream, "cancel", stream_cancel, 0);
    rb_define_method(cStream, "running?", stream_running_p, 0);

    id_on_text = rb_intern("on_text");
    id_on_thinking = rb_intern("on_thinking");
    id_on_tool_call = rb_intern("on_tool_call");
    id_on_heartbeat = rb_intern("on_heartbeat");
    id_cancelled_p = rb_intern("cancelled?");
    sym_status = acn_symbol("status");
    sym_ttfb = acn_symbol("time_to_first_byte");
    sym_ttft = acn_symbol("time_to_first_token");
    sym_duration = acn_symbol("duration");
    sym_bytes = acn_symbol("bytes");
    sym_events = acn_symbol("events");
    sym_flushes = acn_symbol("flushes");
    sym_new_connections = acn_symbol("new_connections");
}
