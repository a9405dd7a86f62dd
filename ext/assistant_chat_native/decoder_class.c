/*
 * decoder_class.c: AssistantChatNative::Decoder, a provider decoder (core/decoder.c)
 * and an accumulator (core/accum.c) for Ruby. #feed returns the normalized events the
 * bytes completed as Hashes; #consume only accumulates (no object per event, the way
 * Stream decodes); #finish returns the AssistantChatNative::Result.
 *
 * A stream the decoder cannot read (an event over max_event_bytes, bytes that are not
 * the provider's format, a reply over max_reply_bytes) is not an exception: later
 * bytes are ignored and #finish returns a Result with the failure.
 */
#include "binding.h"
#include "accum.h"
#include "decode.h"

static VALUE cDecoder;
static VALUE eError;
static ID id_max_event_bytes, id_max_reply_bytes;
static VALUE sym_type, sym_index, sym_text, sym_id, sym_name, sym_model, sym_server, sym_signature, sym_data,
    sym_citation, sym_input_tokens, sym_output_tokens, sym_cache_read_tokens, sym_cache_write_tokens,
    sym_stop_reason, sym_provider_stop_reason, sym_error_type, sym_message;
static VALUE event_types[ACN_EVENT_TYPE_COUNT];

typedef struct decoder_wrapper {
    acn_decoder decoder;
    acn_accum accum;
    acn_provider provider;
    int initialized;
    acn_status status; /* the first error the decoder returned; later bytes are ignored */
    int finished;
    VALUE events; /* the Array #feed fills; Qnil outside #feed and during #consume */
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

#ifdef HAVE_RB_GC_LOCATION
    wrapper->events = rb_gc_location(wrapper->events);
    wrapper->result = rb_gc_location(wrapper->result);
#else
    (void)wrapper;
#endif
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
        rb_raise(eError, "the Decoder was not initialized: create it with Decoder.new(provider)");
    return wrapper;
}

/* ---- events to Hashes ---- */

static VALUE string(const char *ptr, size_t len)
{
    return rb_utf8_str_new(ptr ? ptr : "", (long)len);
}

static VALUE tokens_or_nil(long long count)
{
    return count < 0 ? Qnil : LL2NUM(count);
}

static VALUE event_hash(const acn_event *event)
{
    VALUE hash = rb_hash_new();

    rb_hash_aset(hash, sym_type, event_types[event->type]);
    switch (event->type) {
    case ACN_EVENT_MESSAGE_START:
        rb_hash_aset(hash, sym_id, event->id_len ? string(event->id, event->id_len) : Qnil);
        rb_hash_aset(hash, sym_model, event->name_len ? string(event->name, event->name_len) : Qnil);
        break;
    case ACN_EVENT_TEXT_DELTA:
    case ACN_EVENT_THINKING_DELTA:
    case ACN_EVENT_TOOL_ARGS_DELTA:
        rb_hash_aset(hash, sym_index, INT2NUM(event->index));
        rb_hash_aset(hash, sym_text, string(event->text, event->text_len));
        break;
    case ACN_EVENT_SIGNATURE_DELTA:
        rb_hash_aset(hash, sym_index, INT2NUM(event->index));
        rb_hash_aset(hash, sym_signature, string(event->text, event->text_len));
        break;
    case ACN_EVENT_REDACTED_THINKING:
        rb_hash_aset(hash, sym_index, INT2NUM(event->index));
        rb_hash_aset(hash, sym_data, string(event->text, event->text_len));
        break;
    case ACN_EVENT_CITATION: {
        VALUE citation = acn_json_to_ruby(event->text, event->text_len);

        rb_hash_aset(hash, sym_index, INT2NUM(event->index));
        rb_hash_aset(hash, sym_citation,
                     citation == Qundef ? string(event->text, event->text_len) : citation);
        break;
    }
    case ACN_EVENT_TOOL_CALL_START:
        rb_hash_aset(hash, sym_index, INT2NUM(event->index));
        rb_hash_aset(hash, sym_id, string(event->id, event->id_len));
        rb_hash_aset(hash, sym_name, string(event->name, event->name_len));
        if (event->server_tool)
            rb_hash_aset(hash, sym_server, Qtrue);
        break;
    case ACN_EVENT_TOOL_CALL_END:
    case ACN_EVENT_BLOCK_END: rb_hash_aset(hash, sym_index, INT2NUM(event->index)); break;
    case ACN_EVENT_USAGE:
        rb_hash_aset(hash, sym_input_tokens, tokens_or_nil(event->input_tokens));
        rb_hash_aset(hash, sym_output_tokens, tokens_or_nil(event->output_tokens));
        if (event->cache_read_tokens >= 0)
            rb_hash_aset(hash, sym_cache_read_tokens, LL2NUM(event->cache_read_tokens));
        if (event->cache_write_tokens >= 0)
            rb_hash_aset(hash, sym_cache_write_tokens, LL2NUM(event->cache_write_tokens));
        break;
    case ACN_EVENT_STOP:
        rb_hash_aset(hash, sym_stop_reason, acn_stop_reason_to_ruby(event->stop_reason));
        rb_hash_aset(hash, sym_provider_stop_reason, string(event->text, event->text_len));
        break;
    case ACN_EVENT_ERROR:
        rb_hash_aset(hash, sym_error_type, event->name_len ? string(event->name, event->name_len) : Qnil);
        rb_hash_aset(hash, sym_message, string(event->text, event->text_len));
        break;
    case ACN_EVENT_DONE:
    case ACN_EVENT_PING: break;
    }
    return hash;
}

static int on_event(void *ctx, const acn_event *event)
{
    decoder_wrapper *wrapper = ctx;
    acn_status status = acn_accum_add(&wrapper->accum, event);

    wrapper->event_count++;
    if (wrapper->events != Qnil && (unsigned)event->type < ACN_EVENT_TYPE_COUNT)
        rb_ary_push(wrapper->events, event_hash(event));
    return status != ACN_OK; /* past the reply's bound: stop decoding */
}

/* ---- methods ---- */

static acn_provider parse_provider(VALUE provider)
{
    acn_provider out;
    VALUE name = provider;

    if (SYMBOL_P(name))
        name = rb_sym2str(name);
    if (!RB_TYPE_P(name, T_STRING) ||
        acn_provider_parse(RSTRING_PTR(name), (size_t)RSTRING_LEN(name), &out) != 0)
        rb_raise(rb_eArgError, "unknown provider %" PRIsVALUE ": use :anthropic, :openai or :gemini",
                 rb_inspect(provider));
    return out;
}

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
        rb_raise(eError, "the Decoder is already initialized");
    rb_scan_args(argc, argv, "1:", &provider, &options);
    keys[0] = id_max_event_bytes;
    keys[1] = id_max_reply_bytes;
    values[0] = values[1] = Qundef;
    if (!NIL_P(options))
        rb_get_kwargs(options, keys, 0, 2, values);
    parsed = parse_provider(provider);
    max_event_bytes = size_option(values[0], "max_event_bytes", ACN_DEFAULT_MAX_EVENT_BYTES);
    max_reply_bytes = size_option(values[1], "max_reply_bytes", ACN_ACCUM_DEFAULT_MAX_REPLY_BYTES);

    acn_accum_init(&wrapper->accum, max_reply_bytes);
    acn_decoder_init(&wrapper->decoder, parsed, max_event_bytes, on_event, wrapper);
    wrapper->provider = parsed;
    wrapper->status = ACN_OK;
    wrapper->initialized = 1;
    return self;
}

static void decode(decoder_wrapper *wrapper, VALUE bytes)
{
    acn_status status;

    if (wrapper->finished)
        rb_raise(eError,
                 "Decoder#feed after #finish: the stream is over; create a new Decoder for the next one");
    StringValue(bytes);
    if (wrapper->status != ACN_OK)
        return; /* the stream already failed: #finish reports why */
    status = acn_decoder_feed(&wrapper->decoder, RSTRING_PTR(bytes), (size_t)RSTRING_LEN(bytes));
    if (status != ACN_OK)
        wrapper->status = status;
    RB_GC_GUARD(bytes);
}

static VALUE clear_events(VALUE self)
{
    decoder_wrapper *wrapper;

    TypedData_Get_Struct(self, decoder_wrapper, &decoder_type, wrapper);
    wrapper->events = Qnil;
    return Qnil;
}

static VALUE feed_body(VALUE args)
{
    VALUE *argv = (VALUE *)args;

    decode(get_wrapper(argv[0]), argv[1]);
    return Qnil;
}

/*
 * feed(bytes) -> Array of event Hashes that these bytes completed.
 */
static VALUE decoder_feed(VALUE self, VALUE bytes)
{
    decoder_wrapper *wrapper = get_wrapper(self);
    VALUE events = rb_ary_new();
    VALUE args[2];

    args[0] = self;
    args[1] = bytes;
    wrapper->events = events;
    rb_ensure(feed_body, (VALUE)args, clear_events, self);
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
    return ID2SYM(rb_intern(acn_provider_name(get_wrapper(self)->provider)));
}

static VALUE decoder_finished_p(VALUE self)
{
    return get_wrapper(self)->finished ? Qtrue : Qfalse;
}

static VALUE symbol(const char *name)
{
    return ID2SYM(rb_intern(name));
}

void acn_init_decoder(void)
{
    int i;

    eError = rb_const_get(acn_mAssistantChatNative, rb_intern("Error"));
    rb_global_variable(&eError); /* kept up to date by the GC when compaction moves the class */
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
    sym_type = symbol("type");
    sym_index = symbol("index");
    sym_text = symbol("text");
    sym_id = symbol("id");
    sym_name = symbol("name");
    sym_model = symbol("model");
    sym_server = symbol("server");
    sym_signature = symbol("signature");
    sym_data = symbol("data");
    sym_citation = symbol("citation");
    sym_input_tokens = symbol("input_tokens");
    sym_output_tokens = symbol("output_tokens");
    sym_cache_read_tokens = symbol("cache_read_tokens");
    sym_cache_write_tokens = symbol("cache_write_tokens");
    sym_stop_reason = symbol("stop_reason");
    sym_provider_stop_reason = symbol("provider_stop_reason");
    sym_error_type = symbol("error_type");
    sym_message = symbol("message");
    for (i = 0; i < ACN_EVENT_TYPE_COUNT; i++)
        event_types[i] = symbol(acn_event_type_name((acn_event_type)i));
}
