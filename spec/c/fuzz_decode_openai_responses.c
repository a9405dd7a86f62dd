/*
 * fuzz_decode_openai_responses.c: the OpenAI Responses decoder on arbitrary bytes (see
 * fuzz_decode.h): no crash, no leak, bounded events, the same events however the input is split.
 */
#define FUZZ_PROVIDER ACN_PROVIDER_OPENAI_RESPONSES

#include "fuzz_decode.h"
