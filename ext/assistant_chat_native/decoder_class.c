/*
 * decoder_class.c: AssistantChatNative::Decoder, a provider decoder (core/decoder.c)
 * and an accumulator (core/accum.c) for Ruby. #feed returns the normalized events the
 * bytes completed as Hashes; #consume only accumulates (no object per event, the way
 * Stream decodes); #finish returns the AssistantChatNative::Result.
 *
 * A stream the decoder cannot read (an event over max_event_bytes, bytes that are not
 * the provider's format, a reply over max_reply_bytes) is not an exception: later
 * bytes are ignored and #finish returns a Result with the failure.
 *
 * #feed turns events into Hashes under acn_protect (binding.h): a raise
 * (NoMemoryError) skips the Hashes of the rest of that call, the core still
 * accumulates the bytes it was given (no Ruby code runs for them), and the
 * exception goes on once the core has returned. The Decoder stays usable.
 */
#include "binding.h"
#include "accum.h"
#include "decode.h"

static VALUE cDecoder;
static ID id_max_event_bytes, id_max_reply_bytes;
static VALUE event_types[ACN_EVENT_TYPE_COUNT];

typedef struct decoder_wrapper {
    acn_decoder decoder;
    acn_accum accum;
    acn_provider provider;
    int initialized;
    acn_status status; /* the first error the decoder returned; later bytes are ignored */
    int finished;
    VALUE events; /* the Array #feed fills; Qnil outside #feed and during #consume */
    int raised;   /* acn_protect's tag while #feed fills events */
    long event_count;
    VALUE result;
} decoder_wrapper;

static void decoder_free(void *ptr)
{
    decoder_wrapper *wrapper = ptr;

    if (wrapper->initialized) {
        acn_decoder_free(&wrapper->decoder);
        acn_accum_free(&wrapper->accum);
    }
    xfree(wrapper);
}

/* The decoder's own buffers, all counted by its budget (its JSON walker's yajl
 * state is not counted). */
static size_t decoder_memsize(const acn_decoder *d)
{
    return d->budget.used;
}

static size_t decoder_size(const void *ptr)
{
    const decoder_wrapper *wrapper = ptr;

    if (!wrapper->initialized)
        return sizeof(*wrapper);
    return sizeof(*wrapper) + decoder_memsize(&wrapper->decoder) + acn_accum_memsize(&wrapper->accum);
}

static void decoder_mark(void *ptr)
{
    decoder_wrapper *wrapper = ptr;

    rb_gc_mark_movable(wrapper->events);
    rb_gc_mark_movable(wrapper->result);
}

static void decoder_compact(void *ptr)
{
    decoder_wrapper *wrapper = ptr;

    wrapper->events = rb_gc_location(wrapper->events);
    wrapper->result = rb_gc_location(wrapper->result);
}

static const rb_data_type_t decoder_type = {
    .wrap_struct_name = "AssistantChatNative::Decoder",
    .function = {.dmark = decoder_mark,
                 .dfree = decoder_free,
                 .dsize = decoder_size,
                 .dcompact = decoder_compact},
    .flags = RUBY_TYPED_FREE_IMMEDIATELY,
};

static VALUE decoder_alloc(VALUE klass)
{
    decoder_wrapper *wrapper;
    VALUE self = TypedData_Make_Struct(klass, decoder_wrapper, &decoder_type, wrapper);

    wrapper->events = Qnil;
    wrapper->result = Qnil;
    return self;
}

static decoder_wrapper *get_wrapper(VALUE self)
{
    decoder_wrapper *wrapper;

    TypedData_Get_Struct(self, decoder_wrapper, &decoder_type, wrapper);
    if (!wrapper->initialized)
        rb_raise(acn_eError, "the Decoder was not initialized: create it with Decoder.new(provider)");
    return wrapper;
}

/* ---- events to Hashes ---- */

static VALUE tokens_or_nil(long long count)
{
    return count < 0 ? Qnil : LL2NUM(count);
}

static VALUE event_hash(const acn_event *event)
{
    VALUE hash = rb_hash_new();

    rb_hash_aset(hash, ACN_SYM("type"), event_types[event->type]);
    switch (event->type) {
    case ACN_EVENT_MESSAGE_START:
        rb_hash_aset(hash, ACN_SYM("id"), event->id_len ? acn_utf8(event->id, event->id_len) : Qnil);
        rb_hash_aset(hash, ACN_SYM("model"), event->name_len ? acn_utf8(event->name, event->name_len) : Qnil);
        break;
    case ACN_EVENT_TEXT_DELTA:
    case ACN_EVENT_THINKING_DELTA:
    case ACN_EVENT_TOOL_ARGS_DELTA:
        rb_hash_aset(hash, ACN_SYM("index"), INT2NUM(event->index));
        rb_hash_aset(hash, ACN_SYM("text"), acn_utf8(event->text, event->text_len));
        break;
    case ACN_EVENT_SIGNATURE_DELTA:
        rb_hash_aset(hash, ACN_SYM("index"), INT2NUM(event->index));
        rb_hash_aset(hash, ACN_SYM("signature"), acn_utf8(event->text, event->text_len));
        break;
    case ACN_EVENT_REDACTED_THINKING:
        rb_hash_aset(hash, ACN_SYM("index"), INT2NUM(event->index));
        rb_hash_aset(hash, ACN_SYM("data"), acn_utf8(event->text, event->text_len));
        break;
    case ACN_EVENT_CITATION: {
        VALUE citation = acn_json_to_ruby(event->text, event->text_len);

        rb_hash_aset(hash, ACN_SYM("index"), INT2NUM(event->index));
        rb_hash_aset(hash, ACN_SYM("citation"),
                     citation == Qundef ? acn_utf8(event->text, event->text_len) : citation);
        break;
    }
    case ACN_EVENT_TOOL_CALL_START:
        rb_hash_aset(hash, ACN_SYM("index"), INT2NUM(event->index));
        rb_hash_aset(hash, ACN_SYM("id"), acn_utf8(event->id, event->id_len));
        rb_hash_aset(hash, ACN_SYM("name"), acn_utf8(event->name, event->name_len));
        if (event->server_tool)
            rb_hash_aset(hash, ACN_SYM("server"), Qtrue);
        break;
    case ACN_EVENT_TOOL_CALL_END:
    case ACN_EVENT_BLOCK_END: rb_hash_aset(hash, ACN_SYM("index"), INT2NUM(event->index)); break;
    case ACN_EVENT_USAGE:
        rb_hash_aset(hash, ACN_SYM("input_tokens"), tokens_or_nil(event->input_tokens));
        rb_hash_aset(hash, ACN_SYM("output_tokens"), tokens_or_nil(event->output_tokens));
        if (event->cache_read_tokens >= 0)
            rb_hash_aset(hash, ACN_SYM("cache_read_tokens"), LL2NUM(event->cache_read_tokens));
        if (event->cache_write_tokens >= 0)
            rb_hash_aset(hash, ACN_SYM("cache_write_tokens"), LL2NUM(event->cache_write_tokens));
        break;
    case ACN_EVENT_STOP:
        rb_hash_aset(hash, ACN_SYM("stop_reason"), acn_stop_reason_to_ruby(event->stop_reason));
        rb_hash_aset(hash, ACN_SYM("provider_stop_reason"), acn_utf8(event->text, event->text_len));
        break;
    case ACN_EVENT_ERROR:
        rb_hash_aset(hash, ACN_SYM("error_type"),
                     event->name_len ? acn_utf8(event->name, event->name_len) : Qnil);
        rb_hash_aset(hash, ACN_SYM("message"), acn_utf8(event->text, event->text_len));
        break;
    case ACN_EVENT_DONE:
    case ACN_EVENT_PING: break;
    }
    return hash;
}

typedef struct push_args {
    decoder_wrapper *wrapper;
    const acn_event *event;
} push_args;

static VALUE push_event(VALUE arg)
{
    push_args *args = (push_args *)arg;

    rb_ary_push(args->wrapper->events, event_hash(args->event));
    return Qnil;
}

static int on_event(void *ctx, const acn_event *event)
{
    decoder_wrapper *wrapper = ctx;
    acn_status status = acn_accum_add(&wrapper->accum, event);

    wrapper->event_count++;
    if (wrapper->events != Qnil && (unsigned)event->type < ACN_EVENT_TYPE_COUNT) {
        push_args args;

        args.wrapper = wrapper;
        args.event = event;
        acn_protect(push_event, (VALUE)&args, &wrapper->raised);
    }
    return status != ACN_OK; /* past the reply's bound: stop decoding */
}

/* ---- methods ---- */

static size_t size_option(VALUE value, const char *name, size_t fallback)
{
    long long n;

    if (value == Qundef || NIL_P(value))
        return fallback;
    n = NUM2LL(value);
    if (n <= 0)
        rb_raise(rb_eArgError, "%s must be a positive number of bytes, got %lld", name, n);
    return (size_t)n;
}

/*
 * Decoder.new(provider, max_event_bytes: 16 MiB, max_reply_bytes: 8 MiB)
 */
static VALUE decoder_initialize(int argc, VALUE *argv, VALUE self)
{
    decoder_wrapper *wrapper;
    VALUE provider, options;
    ID keys[2];
    VALUE values[2];
    size_t max_event_bytes, max_reply_bytes;
    acn_provider parsed;

    TypedData_Get_Struct(self, decoder_wrapper, &decoder_type, wrapper);
    if (wrapper->initialized)
        rb_raise(acn_eError, "the Decoder is already initialized");
    rb_scan_args(argc, argv, "1:", &provider, &options);
    keys[0] = id_max_event_bytes;
    keys[1] = id_max_reply_bytes;
    values[0] = values[1] = Qundef;
    if (!NIL_P(options))
        rb_get_kwargs(options, keys, 0, 2, values);
    parsed = acn_provider_from_ruby(provider);
    max_event_bytes = size_option(values[0], "max_event_bytes", ACN_DEFAULT_MAX_EVENT_BYTES);
    max_reply_bytes = size_option(values[1], "max_reply_bytes", ACN_ACCUM_DEFAULT_MAX_REPLY_BYTES);

    acn_accum_init(&wrapper->accum, max_reply_bytes);
    acn_decoder_init(&wrapper->decoder, parsed, max_event_bytes, on_event, wrapper);
    wrapper->provider = parsed;
    wrapper->status = ACN_OK;
    wrapper->initialized = 1;
    return self;
}

/* Raises before any decoding, never during it. */
static void check_feedable(decoder_wrapper *wrapper, VALUE *bytes)
{
    if (wrapper->finished)
        rb_raise(acn_eError,
                 "Decoder#feed after #finish: the stream is over; create a new Decoder for the next one");
    StringValue(*bytes);
}

/* Runs no Ruby code but #feed's protected Hashes. */
static void decode(decoder_wrapper *wrapper, VALUE bytes)
{
    acn_status status;

    if (wrapper->status != ACN_OK)
        return; /* the stream already failed: #finish reports why */
    status = acn_decoder_feed(&wrapper->decoder, RSTRING_PTR(bytes), (size_t)RSTRING_LEN(bytes));
    if (status != ACN_OK)
        wrapper->status = status;
    RB_GC_GUARD(bytes);
}

/*
 * feed(bytes) -> Array of event Hashes that these bytes completed.
 */
static VALUE decoder_feed(VALUE self, VALUE bytes)
{
    decoder_wrapper *wrapper = get_wrapper(self);
    VALUE events = rb_ary_new();
    int raised;

    check_feedable(wrapper, &bytes);
    wrapper->events = events;
    wrapper->raised = 0;
    decode(wrapper, bytes);
    raised = wrapper->raised;
    wrapper->events = Qnil;
    wrapper->raised = 0;
    acn_reraise(raised);
    return events;
}

/*
 * consume(bytes) -> Integer: accumulates without building event Hashes (the way
 * Stream decodes) and returns how many events the bytes completed.
 */
static VALUE decoder_consume(VALUE self, VALUE bytes)
{
    decoder_wrapper *wrapper = get_wrapper(self);
    long before = wrapper->event_count;

    check_feedable(wrapper, &bytes);
    decode(wrapper, bytes);
    return LONG2NUM(wrapper->event_count - before);
}

/*
 * finish -> AssistantChatNative::Result. Later calls return the same Result.
 */
static VALUE decoder_finish(VALUE self)
{
    decoder_wrapper *wrapper = get_wrapper(self);
    acn_status status = wrapper->status;

    if (wrapper->finished)
        return wrapper->result;
    wrapper->finished = 1;
    if (status == ACN_OK)
        status = acn_decoder_finish(&wrapper->decoder);
    if (status == ACN_ERR_ABORTED)
        status = ACN_OK; /* the accumulator stopped the decoder; it knows why */
    acn_accum_finish(&wrapper->accum, wrapper->provider, acn_decoder_done(&wrapper->decoder), status,
                     acn_decoder_error(&wrapper->decoder), 0);
    RB_OBJ_WRITE(self, &wrapper->result, acn_result_new(&wrapper->accum, rb_hash_new()));
    return wrapper->result;
}

/* events -> Integer: normalized events decoded so far. */
static VALUE decoder_event_count(VALUE self)
{
    return LONG2NUM(get_wrapper(self)->event_count);
}

static VALUE decoder_provider(VALUE self)
{
    return acn_symbol(acn_provider_name(get_wrapper(self)->provider));
}

static VALUE decoder_finished_p(VALUE self)
{
    return get_wrapper(self)->finished ? Qtrue : Qfalse;
}

void acn_init_decoder(void)
{
    int i;

    cDecoder = rb_define_class_under(acn_mAssistantChatNative, "Decoder", rb_cObject);
    rb_define_alloc_func(cDecoder, decoder_alloc);
    rb_define_method(cDecoder, "initialize", decoder_initialize, -1);
    rb_define_method(cDecoder, "feed", decoder_feed, 1);
    rb_define_method(cDecoder, "consume", decoder_consume, 1);
    rb_define_method(cDecoder, "finish", decoder_finish, 0);
    rb_define_method(cDecoder, "finished?", decoder_finished_p, 0);
    rb_define_method(cDecoder, "events", decoder_event_count, 0);
    rb_define_method(cDecoder, "provider", decoder_provider, 0);
    rb_define_const(cDecoder, "DEFAULT_MAX_EVENT_BYTES", SIZET2NUM(ACN_DEFAULT_MAX_EVENT_BYTES));
    rb_define_const(cDecoder, "DEFAULT_MAX_REPLY_BYTES", SIZET2NUM(ACN_ACCUM_DEFAULT_MAX_REPLY_BYTES));

    id_max_event_bytes = rb_intern("max_event_bytes");
    id_max_reply_bytes = rb_intern("max_reply_bytes");
    for (i = 0; i < ACN_EVENT_TYPE_COUNT; i++)
        event_types[i] = acn_symbol(acn_event_type_name((acn_event_type)i));
}
