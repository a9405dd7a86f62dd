/*
 * taxonomy_class.c: AssistantChatNative::Taxonomy.native_rows, the failure taxonomy
 * as the C core holds it (core/failure_kinds.def, compiled into core/failure.c,
 * core/error_phrases.c and core/classify.c), so Ruby's copy, actions, phrases and
 * transport kinds are C's own rows rather than a second reading of the file.
 * lib/assistant_chat_native/taxonomy.rb reads the file itself only when the
 * extension is not loaded.
 */
#include "binding.h"
#include "classify.h"
#include "error_phrases.h"
#include "failure.h"

static VALUE frozen_string(const char *text)
{
    return rb_obj_freeze(rb_utf8_str_new_cstr(text));
}

static VALUE symbol(const char *name)
{
    return ID2SYM(rb_intern(name));
}

static VALUE kind_rows(void)
{
    VALUE rows = rb_ary_new();
    int i;

    for (i = ACN_FAILURE_NONE + 1; i < ACN_FAILURE_KIND_COUNT; i++) {
        acn_failure_kind kind = (acn_failure_kind)i;
        VALUE row = rb_ary_new_from_args(4, symbol(acn_failure_kind_name(kind)),
                                         symbol(acn_failure_action_name(acn_failure_kind_action(kind))),
                                         acn_failure_kind_retryable(kind) ? Qtrue : Qfalse,
                                         frozen_string(acn_failure_copy(kind)));
        rb_ary_push(rows, rb_obj_freeze(row));
    }
    return rb_obj_freeze(rows);
}

static VALUE copy_rows(void)
{
    VALUE rows = rb_ary_new();
    int i;

    for (i = 0; i < ACN_COPY_COUNT; i++) {
        acn_failure_copy_id id = (acn_failure_copy_id)i;
        VALUE row = rb_ary_new_from_args(2, symbol(acn_failure_case_copy_name(id)),
                                         frozen_string(acn_failure_case_copy(id)));
        rb_ary_push(rows, rb_obj_freeze(row));
    }
    return rb_obj_freeze(rows);
}

static VALUE phrase_rows(void)
{
    VALUE rows = rb_ary_new();
    size_t i;

    for (i = 0; i < acn_error_phrase_count(); i++) {
        acn_failure_kind kind = ACN_FAILURE_NONE;
        const char *text = acn_error_phrase_at(i, &kind);
        VALUE row = rb_ary_new_from_args(2, symbol(acn_failure_kind_name(kind)), frozen_string(text));
        rb_ary_push(rows, rb_obj_freeze(row));
    }
    return rb_obj_freeze(rows);
}

static VALUE transport_rows(void)
{
    VALUE rows = rb_ary_new();
    int i;

    for (i = ACN_TRANSPORT_NONE + 1;; i++) {
        const char *what = "";
        acn_failure_kind kind = acn_classify_transport_kind((acn_transport_error)i, &what);
        VALUE row;

        if (kind == ACN_FAILURE_NONE)
            break;
        row = rb_ary_new_from_args(3, symbol(acn_transport_error_name((acn_transport_error)i)),
                                   symbol(acn_failure_kind_name(kind)), frozen_string(what));
        rb_ary_push(rows, rb_obj_freeze(row));
    }
    return rb_obj_freeze(rows);
}

/*
 * AssistantChatNative::Taxonomy.native_rows => {kinds:, copies:, phrases:}
 *
 * kinds:   [[name, action, retryable, copy], ...] in enum order (none left out)
 * copies:  [[name, copy], ...]
 * phrases: [[kind, phrase], ...]
 * transports: [[transport_error, kind, what], ...] in enum order (none left out)
 * Names, kinds and actions are Symbols; everything is frozen.
 */
static VALUE rb_native_rows(VALUE self)
{
    VALUE rows = rb_hash_new();

    (void)self;
    rb_hash_aset(rows, symbol("kinds"), kind_rows());
    rb_hash_aset(rows, symbol("copies"), copy_rows());
    rb_hash_aset(rows, symbol("phrases"), phrase_rows());
    rb_hash_aset(rows, symbol("transports"), transport_rows());
    return rb_obj_freeze(rows);
}

void acn_init_taxonomy(void)
{
    VALUE mTaxonomy = rb_define_module_under(acn_mAssistantChatNative, "Taxonomy");

    rb_define_singleton_method(mTaxonomy, "native_rows", rb_native_rows, 0);
}
