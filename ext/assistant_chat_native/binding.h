/*
 * binding.h: what the Ruby binding files share. Only files beside core/ include
 * Ruby headers; the core never does.
 */
#ifndef ACN_BINDING_H
#define ACN_BINDING_H

#include <ruby.h>
#include <ruby/encoding.h>
#include <ruby/thread.h>

#ifndef HAVE_RB_GC_MARK_MOVABLE
#define rb_gc_mark_movable rb_gc_mark
#endif

extern VALUE acn_mAssistantChatNative;

/* failure_class.c: AssistantChatNative.classify, and an acn_failure as a Failure (nil for none). */
struct acn_failure;
void acn_init_failure(void);
VALUE acn_failure_to_ruby(const struct acn_failure *failure);

#endif
