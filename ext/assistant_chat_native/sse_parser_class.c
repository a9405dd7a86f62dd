/*
 * sse_parser_class.c: AssistantChatNative::SSE::Parser, the SSE parser of core/sse.c
 * for Ruby. Events are yielded as AssistantChatNative::SSE::Event structs with
 * UTF-8 strings (invalid bytes replaced with U+FFFD, as the standard's decoding does).
 *
 * Both places Ruby code runs follow acn_protect (binding.h). feed first lets the
 * core parse the whole chunk, turning each event into Ruby under acn_protect, so no
 * raise (NoMemoryError included) ever jumps over the core's frames; only then, with
 * no C parser state live, are the events yielded, also under acn_protect, and `busy`
 * is cleared before the block's exception goes on. A block that raises leaves the
 * parser usable: the events after the one it raised on stay queued and come first
 * from the next feed.
 */
#include "binding.h"
#include "sse.h"

static VALUE cParser;
static VALUE cEvent;
static VALUE eLimitError;
static VALUE eSSEError;
static VALUE replacement_character;
static ID id_scrub, id_max_event_bytes;

typedef struct sse_parser_wrapper {
    acn_sse_parser parser;
    VALUE events; /* parsed, not yet handed out: filled by the core, emptied by feed */
    int busy;
    int state; /* acn_protect's tag when turning an event into Ruby raised */
} sse_parser_wrapper;

static void parser_free(void *ptr)
{
    sse_parser_wrapper *wrapper = ptr;

    acn_sse_free(&wrapper->parser);
    xfree(wrapper);
}

static size_t parser_size(const void *ptr)
{
    const sse_parser_wrapper *wrapper = ptr;

    return sizeof(*wrapper) + wrapper->parser.own_budget.used;
}

static void parser_mark(void *ptr)
{
    sse_parser_wrapper *wrapper = ptr;

    rb_gc_mark_movable(wrapper->events);
}

static void parser_compact(void *ptr)
{
    sse_parser_wrapper *wrapper = ptr;

    wrapper->events = rb_gc_location(wrapper->events);
}

static const rb_data_type_t parser_type = {
    .wrap_struct_name = "AssistantChatNative::SSE::Parser",
    .function = {.dmark = parser_mark,
                 .dfree = parser_free,
                 .dsize = parser_size,
                 .dcompact = parser_compact},
    .flags = RUBY_TYPED_FREE_IMMEDIATELY,
};

static VALUE parser_alloc(VALUE klass)
{
    sse_parser_wrapper *wrapper;
    VALUE self = TypedData_Make_Struct(klass, sse_parser_wrapper, &parser_type, wrapper);

    acn_sse_init(&wrapper->parser, ACN_DEFAULT_MAX_EVENT_BYTES, NULL, wrapper);
    wrapper->events = Qnil;
    return self;
}

static VALUE utf8_string(const char *ptr, size_t len)
{
    VALUE str = rb_utf8_str_new(ptr, (long)len);

    /* Through rb_funcall, which passes no block: rb_str_scrub would see the block
     * feed was given and call it for each invalid byte. */
    if (rb_enc_str_coderange(str) == ENC_CODERANGE_BROKEN)
        str = rb_funcall(str, id_scrub, 1, replacement_character);
    return str;
}

static VALUE event_to_ruby(const acn_sse_event *event)
{
    VALUE retry = event->retry < 0 ? Qnil : LL2NUM(event->retry);

    return rb_struct_new(cEvent, utf8_string(event->type, event->type_len),
                         utf8_string(event->data, event->data_len), utf8_string(event->id, event->id_len),
                         retry);
}

typedef struct convert_args {
    sse_parser_wrapper *wrapper;
    const acn_sse_event *event;
} convert_args;

static VALUE convert_event(VALUE arg)
{
    convert_args *args = (convert_args *)arg;

    rb_ary_push(args->wrapper->events, event_to_ruby(args->event));
    return Qnil;
}

/* Called by the core for each event. Allocation (and so NoMemoryError) happens under
 * acn_protect: a raise stops the core (non-zero), and feed re-raises once the core has
 * returned, so no C frame is skipped. */
static int on_event(void *ctx, const acn_sse_event *event)
{
    sse_parser_wrapper *wrapper = ctx;
    convert_args args;

    args.wrapper = wrapper;
    args.event = event;
    return acn_protect(convert_event, (VALUE)&args, &wrapper->state) != 0;
}

static sse_parser_wrapper *get_parser(VALUE self)
{
    sse_parser_wrapper *wrapper;

    TypedData_Get_Struct(self, sse_parser_wrapper, &parser_type, wrapper);
    return wrapper;
}

static void raise_for(sse_parser_wrapper *wrapper, acn_status status)
{
    if (status == ACN_ERR_LIMIT)
        rb_raise(eLimitError,
                 "an SSE line or event exceeded max_event_bytes (%zu bytes, all of the parser's buffers "
                 "together); "
                 "raise the limit or check the stream",
                 wrapper->parser.max_event_bytes);
    if (status == ACN_ERR_NOMEM)
        rb_raise(rb_eNoMemError, "out of memory while parsing server-sent events");
    if (status == ACN_ERR_MALFORMED)
        rb_raise(eSSEError, "an SSE event type is longer than %d bytes; the parser is unusable",
                 ACN_SSE_MAX_FIELD_BYTES);
    rb_raise(eSSEError, "the SSE parser stopped earlier (%s); start a new parser", acn_status_name(status));
}

/* call-seq: Parser.new(max_event_bytes: 16 MiB) */
static VALUE parser_initialize(int argc, VALUE *argv, VALUE self)
{
    sse_parser_wrapper *wrapper = get_parser(self);
    VALUE opts = Qnil;
    VALUE max = Qnil;
    size_t max_bytes = ACN_DEFAULT_MAX_EVENT_BYTES;
    ID keys[1];

    rb_scan_args(argc, argv, ":", &opts);
    if (!NIL_P(opts)) {
        keys[0] = id_max_event_bytes;
        rb_get_kwargs(opts, keys, 0, 1, &max);
        if (max == Qundef)
            max = Qnil;
    }
    if (!NIL_P(max)) {
        long long value = NUM2LL(max);

        if (value <= 0)
            rb_raise(rb_eArgError, "max_event_bytes must be positive, got %lld", value);
        max_bytes = (size_t)value;
    }
    acn_sse_free(&wrapper->parser);
    acn_sse_init(&wrapper->parser, max_bytes, on_event, wrapper);
    wrapper->events = Qnil;
    return self;
}

/* Hands the queued events to the block, oldest first, each removed before its
 * yield: one the block raised on is not handed out again. */
static VALUE yield_queued(VALUE arg)
{
    sse_parser_wrapper *wrapper = (sse_parser_wrapper *)arg;

    while (RARRAY_LEN(wrapper->events) > 0)
        rb_yield(rb_ary_shift(wrapper->events));
    return Qnil;
}

/* call-seq: feed(bytes) { |event| ... } -> nil;  feed(bytes) -> [event, ...] */
static VALUE parser_feed(VALUE self, VALUE bytes)
{
    sse_parser_wrapper *wrapper = get_parser(self);
    acn_status status;
    VALUE events;
    int state;

    StringValue(bytes);
    if (wrapper->busy)
        rb_raise(eSSEError, "feed was called again from inside its own block");
    if (NIL_P(wrapper->events))
        wrapper->events = rb_ary_new();
    wrapper->state = 0;
    wrapper->busy = 1;
    /* No Ruby code runs in here but the protected conversions. */
    status = acn_sse_feed(&wrapper->parser, RSTRING_PTR(bytes), (size_t)RSTRING_LEN(bytes));
    RB_GC_GUARD(bytes);
    state = wrapper->state;
    if (state) {
        wrapper->busy = 0;
        acn_reraise(state);
    }
    if (rb_block_given_p()) {
        acn_protect(yield_queued, (VALUE)wrapper, &state);
        wrapper->busy = 0;
        acn_reraise(state);
        events = Qnil;
    } else {
        wrapper->busy = 0;
        events = wrapper->events;
        wrapper->events = Qnil;
    }
    if (status != ACN_OK)
        raise_for(wrapper, status);
    return events;
}

/* call-seq: finish -> nil. The stream ended: an unterminated event is discarded. */
static VALUE parser_finish(VALUE self)
{
    sse_parser_wrapper *wrapper = get_parser(self);
    acn_status status = acn_sse_finish(&wrapper->parser);

    if (status != ACN_OK)
        raise_for(wrapper, status);
    return Qnil;
}

void acn_init_sse_parser(void)
{
    VALUE mSSE = rb_define_module_under(acn_mAssistantChatNative, "SSE");

    cEvent = rb_const_get(mSSE, rb_intern("Event"));
    eSSEError = rb_const_get(mSSE, rb_intern("Error"));
    eLimitError = rb_const_get(mSSE, rb_intern("LimitError"));
    rb_global_variable(&cEvent);
    rb_global_variable(&eSSEError);
    rb_global_variable(&eLimitError);
    replacement_character = acn_frozen_utf8("\xEF\xBF\xBD"); /* U+FFFD */
    rb_global_variable(&replacement_character);
    id_scrub = rb_intern("scrub");
    id_max_event_bytes = rb_intern("max_event_bytes");

    cParser = rb_define_class_under(mSSE, "Parser", rb_cObject);
    rb_define_alloc_func(cParser, parser_alloc);
    rb_define_method(cParser, "initialize", parser_initialize, -1);
    rb_define_method(cParser, "feed", parser_feed, 1);
    rb_define_method(cParser, "finish", parser_finish, 0);
}
