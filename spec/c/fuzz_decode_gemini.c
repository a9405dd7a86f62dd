/*
 * fuzz_decode_gemini.c: the Gemini decoder on arbitrary bytes (see fuzz_decode.h):
 * no crash, no leak, bounded events, the same events however the input is split.
 */
#define FUZZ_PROVIDER ACN_PROVIDER_GEMINI

#include "fuzz_decode.h"
