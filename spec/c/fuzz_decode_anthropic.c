/*
 * fuzz_decode_anthropic.c: the Anthropic decoder on arbitrary bytes (see fuzz_decode.h):
 * no crash, no leak, bounded events, the same events however the input is split.
 */
#define FUZZ_PROVIDER ACN_PROVIDER_ANTHROPIC
#define FUZZ_FAST_TEXT_PATH

#include "fuzz_decode.h"
