/*
 * ruby_values.c: the Ruby values every binding file shares, made once at Init:
 * the gem's classes (looked up once and registered with the GC, never by name per
 * call), Symbols and UTF-8 Strings from C text, and the one mapping from a provider
 * name to the core's acn_provider.
 *
 * The classes are defined in Ruby (lib/assistant_chat_native/), which
 * lib/assistant_chat_native.rb requires before the extension; Failure comes after
 * it (its kinds are the extension's taxonomy), so it is looked up on first use.
 */
#include "binding.h"

VALUE acn_eError;
VALUE acn_eConfigurationError;
static VALUE failure_class = Qnil;
VALUE acn_cResult;
VALUE acn_cToolCall;
static VALUE provider_choices; /* ":anthropic, :openai or :gemini", from the core's dialect table */

VALUE acn_symbol(const char *name)
{
    return ID2SYM(rb_intern(name));
}

VALUE acn_utf8(const char *ptr, size_t len)
{
    return rb_utf8_str_new(ptr != NULL ? ptr : "", (long)len);
}

VALUE acn_frozen_utf8(const char *text)
{
    return rb_obj_freeze(rb_utf8_str_new_cstr(text));
}

acn_provider acn_provider_from_ruby(VALUE value)
{
    VALUE name = SYMBOL_P(value) ? rb_sym2str(value) : value;
    acn_provider provider;

    if (!RB_TYPE_P(name, T_STRING) ||
        acn_provider_parse(RSTRING_PTR(name), (size_t)RSTRING_LEN(name), &provider) != 0)
        rb_raise(acn_eConfigurationError, "unknown provider %" PRIsVALUE ": use %" PRIsVALUE,
                 rb_inspect(value), provider_choices);
    return provider;
}

VALUE acn_new_with_keywords(VALUE klass, VALUE kwargs)
{
    return rb_funcallv_kw(klass, rb_intern("new"), 1, &kwargs, RB_PASS_KEYWORDS);
}

/* The gem's class `name`, kept for the life of the process. */
static void keep_class(VALUE *slot, const char *name)
{
    *slot = rb_const_get(acn_mAssistantChatNative, rb_intern(name));
    rb_global_variable(slot);
}

VALUE acn_failure_class(void)
{
    if (NIL_P(failure_class))
        failure_class = rb_const_get(acn_mAssistantChatNative, rb_intern("Failure"));
    return failure_class;
}

static VALUE list_providers(void)
{
    VALUE list = rb_utf8_str_new_cstr("");
    int i;

    for (i = 0; i < ACN_PROVIDER_COUNT; i++) {
        if (i > 0)
            rb_str_cat_cstr(list, i == ACN_PROVIDER_COUNT - 1 ? " or " : ", ");
        rb_str_cat_cstr(list, ":");
        rb_str_cat_cstr(list, acn_provider_name((acn_provider)i));
    }
    return rb_obj_freeze(list);
}

void acn_init_ruby_values(void)
{
    keep_class(&acn_eError, "Error");
    keep_class(&acn_eConfigurationError, "ConfigurationError");
    rb_global_variable(&failure_class);
    keep_class(&acn_cResult, "Result");
    keep_class(&acn_cToolCall, "ToolCall");
    provider_choices = list_providers();
    rb_global_variable(&provider_choices);
}
