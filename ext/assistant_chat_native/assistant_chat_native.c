/*
 * assistant_chat_native.c: the extension's entry point. Each binding file defines
 * one Ruby class and is named after it; this file only calls their init functions.
 */
#include "binding.h"

VALUE acn_mAssistantChatNative;

RUBY_FUNC_EXPORTED void Init_assistant_chat_native(void)
{
    acn_mAssistantChatNative = rb_define_module("AssistantChatNative");
    acn_init_sse_parser();
    acn_init_failure();
    acn_init_taxonomy();
    acn_init_stream();
    acn_init_result();
    acn_init_decoder();
}
