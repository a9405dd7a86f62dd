/*
 * result_to_ruby.c: builds AssistantChatNative::Result (lib/assistant_chat_native/result.rb)
 * from an accumulator, the one way both Decoder#finish and Stream#run make their
 * Result. Tool-call arguments (already checked as one JSON object by the accumulator)
 * become Ruby objects through json_to_ruby.c.
 */
#include "binding.h"
#include "accum.h"

static VALUE str_thinking, str_redacted_thinking;

static VALUE buf_string(const acn_buf *buf)
{
    return acn_utf8(buf->ptr, buf->len);
}

static VALUE buf_string_or_nil(const acn_buf *buf)
{
    return buf->len > 0 ? buf_string(buf) : Qnil;
}

static VALUE tool_call_new(const acn_accum_tool_call *call)
{
    VALUE kwargs = rb_hash_new();
    VALUE arguments = Qundef;

    if (!call->invalid && call->arguments.len > 0)
        arguments = acn_json_to_ruby(call->arguments.ptr, call->arguments.len);
    if (arguments == Qundef || !RB_TYPE_P(arguments, T_HASH))
        arguments = rb_hash_new();
    rb_hash_aset(kwargs, ACN_SYM("id"), buf_string(&call->id));
    rb_hash_aset(kwargs, ACN_SYM("name"), buf_string(&call->name));
    rb_hash_aset(kwargs, ACN_SYM("arguments"), arguments);
    rb_hash_aset(kwargs, ACN_SYM("server"), call->server ? Qtrue : Qfalse);
    if (call->signature.len > 0)
        rb_hash_aset(kwargs, ACN_SYM("signature"), buf_string(&call->signature));
    return acn_new_with_keywords(acn_cToolCall, kwargs);
}

static VALUE thinking_block(const acn_accum_block *block)
{
    VALUE hash = rb_hash_new();

    if (block->type == ACN_ACCUM_BLOCK_REDACTED) {
        rb_hash_aset(hash, ACN_SYM("type"), str_redacted_thinking);
        rb_hash_aset(hash, ACN_SYM("data"), buf_string(&block->thinking));
    } else {
        rb_hash_aset(hash, ACN_SYM("type"), str_thinking);
        rb_hash_aset(hash, ACN_SYM("thinking"), buf_string(&block->thinking));
        rb_hash_aset(hash, ACN_SYM("signature"), buf_string(&block->signature));
        if (block->id.len > 0)
            rb_hash_aset(hash, ACN_SYM("id"), buf_string(&block->id));
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

    rb_hash_aset(usage, ACN_SYM("input_tokens"), tokens(accum->input_tokens));
    rb_hash_aset(usage, ACN_SYM("output_tokens"), tokens(accum->output_tokens));
    if (accum->cache_read_tokens >= 0)
        rb_hash_aset(usage, ACN_SYM("cache_read_tokens"), tokens(accum->cache_read_tokens));
    if (accum->cache_write_tokens >= 0)
        rb_hash_aset(usage, ACN_SYM("cache_write_tokens"), tokens(accum->cache_write_tokens));
    return usage;
}

VALUE acn_stop_reason_to_ruby(int reason)
{
    const char *name = acn_stop_reason_name((acn_stop_reason)reason);

    return name ? acn_symbol(name) : Qnil;
}

VALUE acn_result_new(const acn_accum *accum, VALUE stats)
{
    VALUE kwargs = rb_hash_new();
    VALUE calls = rb_ary_new_capa((long)accum->call_count);
    VALUE blocks = rb_ary_new_capa((long)accum->block_count);
    size_t i;

    for (i = 0; i < accum->call_count; i++)
        rb_ary_push(calls, tool_call_new(&accum->calls[i]));
    for (i = 0; i < accum->block_count; i++)
        rb_ary_push(blocks, thinking_block(&accum->blocks[i]));
    rb_hash_aset(kwargs, ACN_SYM("text"), buf_string(&accum->text));
    rb_hash_aset(kwargs, ACN_SYM("thinking"), buf_string(&accum->thinking));
    rb_hash_aset(kwargs, ACN_SYM("thinking_blocks"), blocks);
    rb_hash_aset(kwargs, ACN_SYM("tool_calls"), calls);
    rb_hash_aset(kwargs, ACN_SYM("stop_reason"), acn_stop_reason_to_ruby(accum->stop_reason));
    /* A provider that sends an empty reason ("finish_reason": "") named none. */
    rb_hash_aset(kwargs, ACN_SYM("provider_stop_reason"),
                 accum->has_stop && accum->provider_stop_reason.len > 0
                     ? buf_string(&accum->provider_stop_reason)
                     : Qnil);
    rb_hash_aset(kwargs, ACN_SYM("usage"), usage_hash(accum));
    rb_hash_aset(kwargs, ACN_SYM("failure"),
                 accum->failure.kind == ACN_FAILURE_NONE ? Qnil : acn_failure_to_ruby(&accum->failure));
    rb_hash_aset(kwargs, ACN_SYM("message_id"), buf_string_or_nil(&accum->message_id));
    rb_hash_aset(kwargs, ACN_SYM("model"), buf_string_or_nil(&accum->model));
    rb_hash_aset(kwargs, ACN_SYM("stats"), NIL_P(stats) ? rb_hash_new() : stats);
    return acn_new_with_keywords(acn_cResult, kwargs);
}

static void keep_string(VALUE *slot, const char *text)
{
    *slot = acn_frozen_utf8(text);
    rb_global_variable(slot);
}

void acn_init_result_to_ruby(void)
{
    keep_string(&str_thinking, "thinking");
    keep_string(&str_redacted_thinking, "redacted_thinking");
}
