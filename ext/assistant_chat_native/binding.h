/*
 * binding.h: what the Ruby binding files share. Only files beside core/ include
 * Ruby headers; the core never does.
 *
 * Errors: every error the binding raises for a wrong use of the gem is in the
 * gem's tree (lib/assistant_chat_native/error.rb): acn_eConfigurationError for a
 * value the gem does not understand (an unknown provider, from every entry point),
 * acn_eError for a call out of order (a Stream run twice at once, a Decoder fed
 * after #finish). ArgumentError and TypeError stay what Ruby's own methods raise
 * for an argument of the wrong shape; NoMemoryError stays NoMemoryError.
 */
#ifndef ACN_BINDING_H
#define ACN_BINDING_H

#include <ruby.h>
#include <ruby/encoding.h>
#include <ruby/thread.h>

#include "acn.h"

#ifndef HAVE_RB_GC_MARK_MOVABLE
#define rb_gc_mark_movable rb_gc_mark
#endif

#ifndef HAVE_RB_GC_LOCATION
#define rb_gc_location(value) (value)
#endif

extern VALUE acn_mAssistantChatNative;

/*
 * Ruby code that runs beneath C frames (a core callback, a yajl callback, a
 * handler between two pauses of a transfer) runs under acn_protect, the one way
 * the binding handles a raise: rb_protect catches it and keeps its tag, the C side
 * is told to stop (a core callback returns non-zero) and frees what it holds, and
 * only then acn_reraise lets the exception go on, once. No raise ever longjmps
 * over a C frame that holds state, and no Ruby code runs between the two.
 *
 * acn_protect runs `func` unless an earlier call under the same `state` raised;
 * it returns the tag (0 when nothing raised).
 */
static inline int acn_protect(VALUE (*func)(VALUE), VALUE arg, int *state)
{
    if (*state == 0)
        rb_protect(func, arg, state);
    return *state;
}

static inline void acn_reraise(int state)
{
    if (state != 0)
        rb_jump_tag(state);
}

/* ruby_values.c: the gem's classes, looked up once; Symbols, Strings, providers. */
extern VALUE acn_eError;
extern VALUE acn_eConfigurationError;
extern VALUE acn_cResult;
extern VALUE acn_cToolCall;
void acn_init_ruby_values(void);
VALUE acn_failure_class(void); /* looked up on first use: defined after the extension loads */
VALUE acn_symbol(const char *name);
/* The Symbol for a literal name, interned once at its call site (rb_intern keeps a
 * literal's ID in a static there): a key is written once, where it is used, with
 * no table of Symbols to keep in step. */
#define ACN_SYM(literal) ID2SYM(rb_intern(literal))
/* klass.new(**kwargs): how the binding builds the gem's value objects. */
VALUE acn_new_with_keywords(VALUE klass, VALUE kwargs);
VALUE acn_utf8(const char *ptr, size_t len); /* ptr may be NULL when len is 0 */
VALUE acn_frozen_utf8(const char *text);
/* A Symbol or String naming a provider; raises ConfigurationError for any other value. */
acn_provider acn_provider_from_ruby(VALUE value);

/* failure_to_ruby.c: an acn_failure as an AssistantChatNative::Failure (nil for none). */
struct acn_failure;
VALUE acn_failure_to_ruby(const struct acn_failure *failure);

/* taxonomy_class.c: AssistantChatNative::Taxonomy.native_rows, the C core's failure taxonomy. */
void acn_init_taxonomy(void);

/* json_to_ruby.c: JSON text as Ruby objects, the way JSON.parse builds them. */
VALUE acn_json_to_ruby(const char *json, size_t len); /* Qundef when not JSON */

/* result_to_ruby.c: the Result of an accumulator, for Decoder#finish and Stream#run. */
struct acn_accum;
void acn_init_result_to_ruby(void);
VALUE acn_result_new(const struct acn_accum *accum, VALUE stats);
VALUE acn_stop_reason_to_ruby(int reason); /* acn_stop_reason to a Symbol or nil */

/* module_functions.c: AssistantChatNative.classify and AssistantChatNative.clean_text. */
void acn_init_module_functions(void);
/* sse_parser_class.c: AssistantChatNative::SSE::Parser. */
void acn_init_sse_parser(void);
/* stream_class.c: AssistantChatNative::Stream, libcurl off the GVL. */
void acn_init_stream(void);
/* decoder_class.c: AssistantChatNative::Decoder. */
void acn_init_decoder(void);

#endif
