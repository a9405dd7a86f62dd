/*
 * result_class.c: builds AssistantChatNative::Result (lib/assistant_chat_native/result.rb)
 * from an accumulator, the one way both Decoder#finish and Stream#run make their
 * Result. Tool-call arguments (already checked as one JSON object by the accumulator)
 * are parsed here with yajl straight into Ruby objects, as JSON.parse would build them:
 * String keys, Integer (Bignum when large), Float, true/false/nil.
 */
#include "binding.h"
#include "accum.h"

#include <string.h>
#include <yajl/yajl_parse.h>

static ID id_new;
static ID id_Result;
static ID id_ToolCall;
static VALUE sym_text, sym_thinking, sym_thinking_blocks, sym_tool_calls, sym_stop_reason,
    sym_provider_stop_reason, sym_usage, sym_failure, sym_message_id, sym_model, sym_stats, sym_id, sym_name,
    sym_arguments, sym_server, sym_type, sym_signature, sym_data, sym_input_tokens, sym_output_tokens,
    sym_cache_read_tokens, sym_cache_write_tokens;
static VALUE str_thinking, str_redacted_thinking;

/* ---- JSON to Ruby ---- */

typedef struct json_builder {
    VALUE stack[ACN_JSON_MAX_DEPTH + 2]; /* open containers; on the C stack, so GC sees them */
    VALUE keys[ACN_JSON_MAX_DEPTH + 2];  /* the pending key of each open Hash */
    int depth;
    VALUE root;
} json_builder;

static int put(json_builder *b, VALUE value)
{
    VALUE top;

    if (b->depth == 0) {
        b->root = value;
        return 1;
    }
    top = b->stack[b->depth - 1];
    if (RB_TYPE_P(top, T_HASH))
        rb_hash_aset(top, b->keys[b->depth - 1], value);
    else
        rb_ary_push(top, value);
    return 1;
}

static int on_null(void *ctx)
{
    return put(ctx, Qnil);
}

static int on_boolean(void *ctx, int value)
{
    return put(ctx, value ? Qtrue : Qfalse);
}

static int on_number(void *ctx, const char *number, size_t len)
{
    VALUE str = rb_str_new(number, (long)len);
    int is_float = memchr(number, '.', len) || memchr(number, 'e', len) || memchr(number, 'E', len);

    return put(ctx, is_float ? DBL2NUM(rb_str_to_dbl(str, 0)) : rb_str_to_inum(str, 10, 0));
}

static int on_string(void *ctx, const unsigned char *string, size_t len)
{
    return put(ctx, rb_utf8_str_new((const char *)string, (long)len));
}

static int on_key(void *ctx, const unsigned char *key, size_t len)
{
    json_builder *b = ctx;

    b->keys[b->depth - 1] = rb_utf8_str_new((const char *)key, (long)len);
    return 1;
}

static int open_container(json_builder *b, VALUE container)
{
    if (b->depth > ACN_JSON_MAX_DEPTH)
        return 0;
    put(b, container);
    b->keys[b->depth] = Qnil;
    b->stack[b->depth++] = container;
    return 1;
}

static int on_start_map(void *ctx)
{
    return open_container(ctx, rb_hash_new());
}

static int on_start_array(void *ctx)
{
    return open_container(ctx, rb_ary_new());
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

typedef struct parse_args {
    yajl_handle handle;
    const char *json;
    size_t len;
    int ok;
} parse_args;

static VALUE parse_body(VALUE arg)
{
    parse_args *args = (parse_args *)arg;
    yajl_status status = yajl_parse(args->handle, (const unsigned char *)args->json, args->len);

    if (status == yajl_status_ok)
        status = yajl_complete_parse(args->handle);
    args->ok = status == yajl_status_ok;
    return Qnil;
}

static VALUE parse_ensure(VALUE arg)
{
    yajl_free(((parse_args *)arg)->handle);
    return Qnil;
}

/* JSON text to Ruby objects; Qundef when it does not parse. */
VALUE acn_json_to_ruby(const char *json, size_t len)
{
    json_builder builder;
    parse_args args;

    builder.depth = 0;
    builder.root = Qundef;
    args.handle = yajl_alloc(&builder_callbacks, NULL, &builder);
    if (args.handle == NULL)
        rb_raise(rb_eNoMemError, "yajl_alloc failed");
    args.json = json;
    args.len = len;
    args.ok = 0;
    rb_ensure(parse_body, (VALUE)&args, parse_ensure, (VALUE)&args);
    return args.ok ? builder.root : Qundef;
}

/* ---- Result ---- */

static VALUE buf_string(const acn_buf *buf)
{
    return rb_utf8_str_new(buf->ptr ? buf->ptr : "", (long)buf->len);
}

static VALUE buf_string_or_nil(const acn_buf *buf)
{
    return buf->len > 0 ? buf_string(buf) : Qnil;
}

static VALUE tool_call_new(VALUE klass, const acn_accum_tool_call *call)
{
    VALUE kwargs = rb_hash_new();
    VALUE arguments = Qundef;

    if (!call->invalid && call->arguments.len > 0)
        arguments = acn_json_to_ruby(call->arguments.ptr, call->arguments.len);
    if (arguments == Qundef || !RB_TYPE_P(arguments, T_HASH))
        arguments = rb_hash_new();
    rb_hash_aset(kwargs, sym_id, buf_string(&call->id));
    rb_hash_aset(kwargs, sym_name, buf_string(&call->name));
    rb_hash_aset(kwargs, sym_arguments, arguments);
    rb_hash_aset(kwargs, sym_server, call->server ? Qtrue : Qfalse);
    if (call->signature.len > 0)
        rb_hash_aset(kwargs, sym_signature, buf_string(&call->signature));
    return rb_funcallv_kw(klass, id_new, 1, &kwargs, RB_PASS_KEYWORDS);
}

static VALUE thinking_block(const acn_accum_block *block)
{
    VALUE hash = rb_hash_new();

    if (block->type == ACN_ACCUM_BLOCK_REDACTED) {
        rb_hash_aset(hash, sym_type, str_redacted_thinking);
        rb_hash_aset(hash, sym_data, buf_string(&block->thinking));
    } else {
        rb_hash_aset(hash, sym_type, str_thinking);
        rb_hash_aset(hash, sym_thinking, buf_string(&block->thinking));
        rb_hash_aset(hash, sym_signature, buf_string(&block->signature));
    }
    return hash;
}

static VALUE tokens(long long count)
{
    return LL2NUM(count < 0 ? 0 : count);
}

static VALUE usage_hash(const acn_accum *accum)
{
    VALUE usage = rb_hash_new();

    rb_hash_aset(usage, sym_input_tokens, tokens(accum->input_tokens));
    rb_hash_aset(usage, sym_output_tokens, tokens(accum->output_tokens));
    if (accum->cache_read_tokens >= 0)
        rb_hash_aset(usage, sym_cache_read_tokens, tokens(accum->cache_read_tokens));
    if (accum->cache_write_tokens >= 0)
        rb_hash_aset(usage, sym_cache_write_tokens, tokens(accum->cache_write_tokens));
    return usage;
}

VALUE acn_stop_reason_to_ruby(int reason)
{
    const char *name = acn_stop_reason_name((acn_stop_reason)reason);

    return name ? ID2SYM(rb_intern(name)) : Qnil;
}

VALUE acn_result_new(const acn_accum *accum, VALUE stats)
{
    VALUE cResult = rb_const_get(acn_mAssistantChatNative, id_Result);
    VALUE cToolCall = rb_const_get(acn_mAssistantChatNative, id_ToolCall);
    VALUE kwargs = rb_hash_new();
    VALUE calls = rb_ary_new_capa((long)accum->call_count);
    VALUE blocks = rb_ary_new_capa((long)accum->block_count);
    size_t i;

    for (i = 0; i < accum->call_count; i++)
        rb_ary_push(calls, tool_call_new(cToolCall, &accum->calls[i]));
    for (i = 0; i < accum->block_count; i++)
        rb_ary_push(blocks, thinking_block(&accum->blocks[i]));
    rb_hash_aset(kwargs, sym_text, buf_string(&accum->text));
    rb_hash_aset(kwargs, sym_thinking, buf_string(&accum->thinking));
    rb_hash_aset(kwargs, sym_thinking_blocks, blocks);
    rb_hash_aset(kwargs, sym_tool_calls, calls);
    rb_hash_aset(kwargs, sym_stop_reason, acn_stop_reason_to_ruby(accum->stop_reason));
    rb_hash_aset(kwargs, sym_provider_stop_reason,
                 accum->has_stop ? buf_string(&accum->provider_stop_reason) : Qnil);
    rb_hash_aset(kwargs, sym_usage, usage_hash(accum));
    rb_hash_aset(kwargs, sym_failure,
                 accum->failure.kind == ACN_FAILURE_NONE ? Qnil : acn_failure_to_ruby(&accum->failure));
    rb_hash_aset(kwargs, sym_message_id, buf_string_or_nil(&accum->message_id));
    rb_hash_aset(kwargs, sym_model, buf_string_or_nil(&accum->model));
    rb_hash_aset(kwargs, sym_stats, NIL_P(stats) ? rb_hash_new() : stats);
    return rb_funcallv_kw(cResult, id_new, 1, &kwargs, RB_PASS_KEYWORDS);
}

static VALUE symbol(const char *name)
{
    return ID2SYM(rb_intern(name));
}

static VALUE frozen_string(const char *text)
{
    VALUE str = rb_obj_freeze(rb_utf8_str_new_cstr(text));

    rb_gc_register_mark_object(str);
    return str;
}

void acn_init_result(void)
{
    id_new = rb_intern("new");
    id_Result = rb_intern("Result");
    id_ToolCall = rb_intern("ToolCall");
    sym_text = symbol("text");
    sym_thinking = symbol("thinking");
    sym_thinking_blocks = symbol("thinking_blocks");
    sym_tool_calls = symbol("tool_calls");
    sym_stop_reason = symbol("stop_reason");
    sym_provider_stop_reason = symbol("provider_stop_reason");
    sym_usage = symbol("usage");
    sym_failure = symbol("failure");
    sym_message_id = symbol("message_id");
    sym_model = symbol("model");
    sym_stats = symbol("stats");
    sym_id = symbol("id");
    sym_name = symbol("name");
    sym_arguments = symbol("arguments");
    sym_server = symbol("server");
    sym_type = symbol("type");
    sym_signature = symbol("signature");
    sym_data = symbol("data");
    sym_input_tokens = symbol("input_tokens");
    sym_output_tokens = symbol("output_tokens");
    sym_cache_read_tokens = symbol("cache_read_tokens");
    sym_cache_write_tokens = symbol("cache_write_tokens");
    str_thinking = frozen_string("thinking");
    str_redacted_thinking = frozen_string("redacted_thinking");
}
