/*
 * assistant_chat_native.c: the extension's entry point. Each *_class.c file
 * defines one Ruby class and is named after it; *_to_ruby.c files turn core
 * structs into the gem's Ruby objects; ruby_values.c holds what they share. This
 * file only calls their init functions, shared values first.
 */
#include "binding.h"

VALUE acn_mAssistantChatNative;

RUBY_FUNC_EXPORTED void Init_assistant_chat_native(void)
{
    acn_mAssistantChatNative = rb_define_module("AssistantChatNative");
    acn_init_ruby_values();
    acn_init_result_to_ruby();
    acn_init_module_functions();
    acn_init_sse_parser();
    acn_init_taxonomy();
    acn_init_stream();
    acn_init_decoder();
}
