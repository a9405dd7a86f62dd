/*
 * json_to_ruby.c: JSON text parsed with yajl straight into Ruby objects, as
 * JSON.parse would build them: String keys, Integer (Bignum when large), Float,
 * true/false/nil. Tool-call arguments (result_to_ruby.c) and citations
 * (decoder_class.c) come through here.
 *
 * Each value is made under acn_protect (binding.h): a raise (NoMemoryError) makes
 * the callback cancel the parse, yajl returns, its handle is freed, and only then
 * the exception goes on. No raise jumps over yajl's frames.
 */
#include "binding.h"

#include <string.h>
#include <yajl/yajl_parse.h>

typedef struct json_builder {
    VALUE stack[ACN_JSON_MAX_DEPTH + 2]; /* open containers; on the C stack, so GC sees them */
    VALUE keys[ACN_JSON_MAX_DEPTH + 2];  /* the pending key of each open Hash */
    int depth;
    VALUE root;
    int raised; /* acn_protect's tag */
} json_builder;

/* One value to make, and where it goes. */
typedef enum value_kind {
    VALUE_READY,
    VALUE_NUMBER,
    VALUE_STRING,
    VALUE_KEY,
    VALUE_HASH,
    VALUE_ARRAY
} value_kind;

typedef struct value_args {
    json_builder *builder;
    value_kind kind;
    VALUE ready; /* VALUE_READY: nil, true or false */
    const char *text;
    size_t len;
} value_args;

static void put(json_builder *b, VALUE value)
{
    VALUE top;

    if (b->depth == 0) {
        b->root = value;
        return;
    }
    top = b->stack[b->depth - 1];
    if (RB_TYPE_P(top, T_HASH))
        rb_hash_aset(top, b->keys[b->depth - 1], value);
    else
        rb_ary_push(top, value);
}

static VALUE number(const char *text, size_t len)
{
    VALUE str = rb_str_new(text, (long)len);
    int is_float = memchr(text, '.', len) || memchr(text, 'e', len) || memchr(text, 'E', len);

    return is_float ? DBL2NUM(rb_str_to_dbl(str, 0)) : rb_str_to_inum(str, 10, 0);
}

static VALUE make_value(VALUE arg)
{
    value_args *args = (value_args *)arg;
    json_builder *b = args->builder;
    VALUE container;

    switch (args->kind) {
    case VALUE_READY: put(b, args->ready); break;
    case VALUE_NUMBER: put(b, number(args->text, args->len)); break;
    case VALUE_STRING: put(b, rb_utf8_str_new(args->text, (long)args->len)); break;
    case VALUE_KEY: b->keys[b->depth - 1] = rb_utf8_str_new(args->text, (long)args->len); break;
    case VALUE_HASH:
    case VALUE_ARRAY:
        container = args->kind == VALUE_HASH ? rb_hash_new() : rb_ary_new();
        put(b, container);
        b->keys[b->depth] = Qnil;
        b->stack[b->depth++] = container;
        break;
    }
    return Qnil;
}

/* 1 to go on, 0 to cancel the parse (yajl's convention). */
static int build(json_builder *b, value_kind kind, VALUE ready, const char *text, size_t len)
{
    value_args args;

    args.builder = b;
    args.kind = kind;
    args.ready = ready;
    args.text = text;
    args.len = len;
    return acn_protect(make_value, (VALUE)&args, &b->raised) == 0;
}

static int on_null(void *ctx)
{
    return build(ctx, VALUE_READY, Qnil, NULL, 0);
}

static int on_boolean(void *ctx, int value)
{
    return build(ctx, VALUE_READY, value ? Qtrue : Qfalse, NULL, 0);
}

static int on_number(void *ctx, const char *text, size_t len)
{
    return build(ctx, VALUE_NUMBER, Qnil, text, len);
}

static int on_string(void *ctx, const unsigned char *text, size_t len)
{
    return build(ctx, VALUE_STRING, Qnil, (const char *)text, len);
}

static int on_key(void *ctx, const unsigned char *text, size_t len)
{
    return build(ctx, VALUE_KEY, Qnil, (const char *)text, len);
}

static int open_container(json_builder *b, value_kind kind)
{
    if (b->depth > ACN_JSON_MAX_DEPTH)
        return 0;
    return build(b, kind, Qnil, NULL, 0);
}

static int on_start_map(void *ctx)
{
    return open_container(ctx, VALUE_HASH);
}

static int on_start_array(void *ctx)
{
    return open_container(ctx, VALUE_ARRAY);
}

static int on_close(void *ctx)
{
    json_builder *b = ctx;

    b->depth--;
    return 1;
}

static const yajl_callbacks builder_callbacks = {
    on_null,      on_boolean, NULL,     NULL,           on_number, on_string,
    on_start_map, on_key,     on_close, on_start_array, on_close,
};

VALUE acn_json_to_ruby(const char *json, size_t len)
{
    json_builder builder;
    yajl_handle handle;
    yajl_status status;

    builder.depth = 0;
    builder.root = Qundef;
    builder.raised = 0;
    handle = yajl_alloc(&builder_callbacks, NULL, &builder);
    if (handle == NULL)
        rb_raise(rb_eNoMemError, "out of memory starting a JSON parser");
    status = yajl_parse(handle, (const unsigned char *)json, len);
    if (status == yajl_status_ok)
        status = yajl_complete_parse(handle);
    yajl_free(handle);
    acn_reraise(builder.raised);
    return status == yajl_status_ok ? builder.root : Qundef;
}
