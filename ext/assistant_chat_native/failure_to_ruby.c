/*
 * failure_to_ruby.c: acn_failure_to_ruby, the one place an acn_failure becomes an
 * AssistantChatNative::Failure (lib/assistant_chat_native/failure.rb). The Decoder,
 * Stream and AssistantChatNative.classify all build their Failures here.
 */
#include "binding.h"
#include "failure.h"

static ID id_new;
static VALUE sym_kind, sym_retryable, sym_action, sym_message, sym_detail, sym_retry_after, sym_status;

VALUE acn_failure_to_ruby(const acn_failure *failure)
{
    VALUE kwargs;

    if (failure == NULL || failure->kind == ACN_FAILURE_NONE)
        return Qnil;
    kwargs = rb_hash_new();
    rb_hash_aset(kwargs, sym_kind, acn_symbol(acn_failure_kind_name(failure->kind)));
    rb_hash_aset(kwargs, sym_retryable, failure->retryable ? Qtrue : Qfalse);
    rb_hash_aset(kwargs, sym_action, acn_symbol(acn_failure_action_name(failure->action)));
    rb_hash_aset(kwargs, sym_message, acn_frozen_utf8(failure->message));
    rb_hash_aset(kwargs, sym_detail, failure->detail[0] != '\0' ? acn_frozen_utf8(failure->detail) : Qnil);
    rb_hash_aset(kwargs, sym_retry_after, failure->retry_after >= 0 ? DBL2NUM(failure->retry_after) : Qnil);
    rb_hash_aset(kwargs, sym_status, failure->status > 0 ? INT2NUM(failure->status) : Qnil);
    return rb_funcallv_kw(acn_failure_class(), id_new, 1, &kwargs, RB_PASS_KEYWORDS);
}

void acn_init_failure_to_ruby(void)
{
    id_new = rb_intern("new");
    sym_kind = acn_symbol("kind");
    sym_retryable = acn_symbol("retryable");
    sym_action = acn_symbol("action");
    sym_message = acn_symbol("message");
    sym_detail = acn_symbol("detail");
    sym_retry_after = acn_symbol("retry_after");
    sym_status = acn_symbol("status");
}
