/*
 * failure_to_ruby.c: acn_failure_to_ruby, the one place an acn_failure becomes an
 * AssistantChatNative::Failure (lib/assistant_chat_native/failure.rb). The Decoder,
 * Stream and AssistantChatNative.classify all build their Failures here.
 */
#include "binding.h"
#include "failure.h"

VALUE acn_failure_to_ruby(const acn_failure *failure)
{
    VALUE kwargs;

    if (failure == NULL || failure->kind == ACN_FAILURE_NONE)
        return Qnil;
    kwargs = rb_hash_new();
    rb_hash_aset(kwargs, ACN_SYM("kind"), acn_symbol(acn_failure_kind_name(failure->kind)));
    rb_hash_aset(kwargs, ACN_SYM("retryable"), failure->retryable ? Qtrue : Qfalse);
    rb_hash_aset(kwargs, ACN_SYM("action"), acn_symbol(acn_failure_action_name(failure->action)));
    rb_hash_aset(kwargs, ACN_SYM("message"), acn_frozen_utf8(failure->message));
    rb_hash_aset(kwargs, ACN_SYM("detail"),
                 failure->detail[0] != '\0' ? acn_frozen_utf8(failure->detail) : Qnil);
    rb_hash_aset(kwargs, ACN_SYM("retry_after"),
                 failure->retry_after >= 0 ? DBL2NUM(failure->retry_after) : Qnil);
    rb_hash_aset(kwargs, ACN_SYM("status"), failure->status > 0 ? INT2NUM(failure->status) : Qnil);
    return acn_new_with_keywords(acn_failure_class(), kwargs);
}
