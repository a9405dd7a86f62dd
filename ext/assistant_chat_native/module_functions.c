/*
 * module_functions.c: the functions the extension defines on AssistantChatNative
 * itself: classify, the classifier (core/classify.c) reachable from Ruby, and
 * clean_text. The Failure classify returns is built by failure_to_ruby.c.
 *
 * classify runs with the GVL held: its work is bounded (classify.h) and short.
 * AssistantChatNative.clean_text hands Ruby the same cleaning the classifier gives
 * provider text (core/failure.h), so an exception message is redacted the same way.
 */
#include "binding.h"
#include "classify.h"

#include <time.h>

static ID kwarg_ids[7];

static int status_arg(VALUE value)
{
    int status;

    if (value == Qundef || NIL_P(value))
        return 0;
    if (!RB_INTEGER_TYPE_P(value))
        rb_raise(rb_eTypeError, "status must be an Integer HTTP status or nil, not %" PRIsVALUE,
                 rb_inspect(value));
    status = NUM2INT(value);
    if (status < 0 || status > 999)
        rb_raise(rb_eArgError, "status %d is not an HTTP status", status);
    return status;
}

static VALUE header_string(VALUE value)
{
    if (SYMBOL_P(value))
        return rb_sym2str(value);
    if (RB_TYPE_P(value, T_ARRAY))
        value = RARRAY_LEN(value) > 0 ? rb_ary_entry(value, 0) : rb_str_new(NULL, 0);
    if (NIL_P(value))
        return rb_str_new(NULL, 0);
    return rb_obj_as_string(value);
}

static int collect_header(VALUE name, VALUE value, VALUE pairs)
{
    rb_ary_push(pairs, header_string(name));
    rb_ary_push(pairs, header_string(value));
    return ST_CONTINUE;
}

/* Headers as a flat Array [name, value, name, value, ...] of Strings. */
static VALUE headers_arg(VALUE headers)
{
    VALUE pairs = rb_ary_new();
    long i;

    if (headers == Qundef || NIL_P(headers))
        return pairs;
    if (RB_TYPE_P(headers, T_HASH)) {
        rb_hash_foreach(headers, collect_header, pairs);
        return pairs;
    }
    if (!RB_TYPE_P(headers, T_ARRAY))
        rb_raise(rb_eTypeError, "headers must be a Hash or an Array of [name, value] pairs, not %" PRIsVALUE,
                 rb_obj_class(headers));
    for (i = 0; i < RARRAY_LEN(headers); i++) {
        VALUE pair = rb_ary_entry(headers, i);
        if (!RB_TYPE_P(pair, T_ARRAY) || RARRAY_LEN(pair) != 2)
            rb_raise(rb_eArgError, "each header must be a [name, value] pair, got %" PRIsVALUE,
                     rb_inspect(pair));
        collect_header(rb_ary_entry(pair, 0), rb_ary_entry(pair, 1), pairs);
    }
    return pairs;
}

/* ":connect, :timeout, ... or :cancelled", from the core's names, made once. */
static VALUE transport_choices;

static VALUE list_transport_errors(void)
{
    VALUE list = rb_utf8_str_new_cstr("");
    int i;

    for (i = ACN_TRANSPORT_NONE + 1; i < ACN_TRANSPORT_ERROR_COUNT; i++) {
        if (i > ACN_TRANSPORT_NONE + 1)
            rb_str_cat_cstr(list, i == ACN_TRANSPORT_ERROR_COUNT - 1 ? " or " : ", ");
        rb_str_cat_cstr(list, ":");
        rb_str_cat_cstr(list, acn_transport_error_name((acn_transport_error)i));
    }
    return rb_obj_freeze(list);
}

/* As binding.h maps errors: a Symbol the gem does not know is a ConfigurationError,
 * like an unknown provider; a value of another type is a TypeError. */
static void transport_arg(VALUE value, acn_classify_input *in)
{
    VALUE name;

    if (value == Qundef || NIL_P(value))
        return;
    if (RB_INTEGER_TYPE_P(value)) {
        in->curl_code = NUM2INT(value);
        return;
    }
    if (!SYMBOL_P(value))
        rb_raise(rb_eTypeError,
                 "transport_error must be nil, a libcurl code (Integer) or a Symbol, not %" PRIsVALUE,
                 rb_obj_class(value));
    name = rb_sym2str(value);
    if (acn_transport_error_parse(RSTRING_PTR(name), (size_t)RSTRING_LEN(name), &in->transport_error) != 0 ||
        in->transport_error == ACN_TRANSPORT_NONE)
        rb_raise(acn_eConfigurationError,
                 "unknown transport_error %" PRIsVALUE ": use nil, a libcurl code or %" PRIsVALUE,
                 rb_inspect(value), transport_choices);
}

static double now_seconds(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (double)time(NULL);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * AssistantChatNative.classify(provider:, status:, body: "", headers: {},
 *                              transport_error: nil, streamed: false, mid_stream: false) => Failure
 */
static VALUE rb_classify(int argc, VALUE *argv, VALUE self)
{
    VALUE opts = Qnil, values[7], body, pairs, buffer = 0;
    acn_classify_input in;
    acn_header *headers;
    acn_failure failure;
    long i, count;

    (void)self;
    rb_scan_args(argc, argv, "0:", &opts);
    if (NIL_P(opts))
        opts = rb_hash_new();
    rb_get_kwargs(opts, kwarg_ids, 2, 5, values);

    memset(&in, 0, sizeof(in));
    in.provider = acn_provider_from_ruby(values[0]);
    in.status = status_arg(values[1]);
    body = (values[2] == Qundef || NIL_P(values[2])) ? rb_str_new(NULL, 0) : values[2];
    StringValue(body);
    pairs = headers_arg(values[3]);
    transport_arg(values[4], &in);
    in.streamed = values[5] != Qundef && RTEST(values[5]);
    in.mid_stream = values[6] != Qundef && RTEST(values[6]);
    in.now = now_seconds();

    /* Every Ruby string is final now: no Ruby code runs between here and acn_classify. */
    count = RARRAY_LEN(pairs) / 2;
    headers = ALLOCV_N(acn_header, buffer, count > 0 ? count : 1);
    for (i = 0; i < count; i++) {
        VALUE name = rb_ary_entry(pairs, 2 * i), value = rb_ary_entry(pairs, 2 * i + 1);
        headers[i].name = RSTRING_PTR(name);
        headers[i].name_len = (size_t)RSTRING_LEN(name);
        headers[i].value = RSTRING_PTR(value);
        headers[i].value_len = (size_t)RSTRING_LEN(value);
    }
    in.headers = headers;
    in.header_count = (size_t)count;
    in.body = RSTRING_PTR(body);
    in.body_len = (size_t)RSTRING_LEN(body);
    acn_classify(&in, &failure);
    ALLOCV_END(buffer);
    RB_GC_GUARD(body);
    RB_GC_GUARD(pairs);

    return acn_failure_to_ruby(&failure);
}

/* The largest bound clean_text takes: more is never shown or logged in one piece. */
#define CLEAN_TEXT_MAX (64 * 1024)

/*
 * AssistantChatNative.clean_text(text, max_bytes) => String
 *
 * text (any bytes) with API keys and bearer tokens replaced by "[redacted]", control
 * characters and runs of spaces folded, invalid UTF-8 replaced, cut at a character
 * boundary to at most max_bytes bytes (1 to 65536) of UTF-8.
 */
static VALUE rb_clean_text(VALUE self, VALUE text, VALUE max_bytes)
{
    VALUE out, buffer = 0;
    long max = NUM2LONG(max_bytes);
    char *dst;
    size_t len;

    (void)self;
    if (max < 1 || max > CLEAN_TEXT_MAX)
        rb_raise(rb_eArgError, "max_bytes must be between 1 and %d, got %ld", CLEAN_TEXT_MAX, max);
    text = rb_obj_as_string(text);
    dst = ALLOCV_N(char, buffer, (size_t)max + 1);
    len = acn_failure_clean_text(dst, (size_t)max + 1, RSTRING_PTR(text), (size_t)RSTRING_LEN(text));
    RB_GC_GUARD(text);
    out = rb_utf8_str_new(dst, (long)len);
    ALLOCV_END(buffer);
    return out;
}

void acn_init_module_functions(void)
{
    static const char *const names[7] = {"provider",        "status",   "body",      "headers",
                                         "transport_error", "streamed", "mid_stream"};
    int i;

    for (i = 0; i < 7; i++)
        kwarg_ids[i] = rb_intern(names[i]);
    transport_choices = list_transport_errors();
    rb_global_variable(&transport_choices);
    rb_define_module_function(acn_mAssistantChatNative, "classify", rb_classify, -1);
    rb_define_module_function(acn_mAssistantChatNative, "clean_text", rb_clean_text, 2);
}
