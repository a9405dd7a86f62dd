/*
 * fuzz_decode_openai.c: the OpenAI decoder on arbitrary bytes (see fuzz_decode.h):
 * no crash, no leak, bounded events, the same events however the input is split.
 */
#define FUZZ_PROVIDER ACN_PROVIDER_OPENAI

#include "fuzz_decode.h"
