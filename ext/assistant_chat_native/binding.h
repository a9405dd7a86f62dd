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

void acn_init_sse_parser(void);

/* failure_class.c: AssistantChatNative.classify, and an acn_failure as a Failure (nil for none). */
struct acn_failure;
void acn_init_failure(void);
VALUE acn_failure_to_ruby(const struct acn_failure *failure);

/* taxonomy_class.c: AssistantChatNative::Taxonomy.native_rows, the C core's failure taxonomy. */
void acn_init_taxonomy(void);

/* result_class.c: the Result of an accumulator, for Decoder#finish and Stream#run. */
struct acn_accum;
void acn_init_result(void);
VALUE acn_result_new(const struct acn_accum *accum, VALUE stats);
VALUE acn_json_to_ruby(const char *json, size_t len); /* Qundef when not JSON */
VALUE acn_stop_reason_to_ruby(int reason);            /* acn_stop_reason to a Symbol or nil */
/* stream_class.c: AssistantChatNative::Stream, libcurl off the GVL. */
void acn_init_stream(void);
/* decoder_class.c */
void acn_init_decoder(void);

#endif
