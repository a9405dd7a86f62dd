/*
 * dialect.h: everything particular to one provider, in one acn_dialect entry per
 * provider: its name, how its stream decodes, how its stop reasons map, and what
 * the accumulator keeps for it. decode_<name>.c defines the entry
 * acn_dialect_<name>; acn.h's ACN_PROVIDERS lists the providers, and
 * acn_dialect_of finds a provider's entry. No other module tests which provider
 * it is working for: it asks the entry.
 *
 * Owns: nothing; entries are constants. Borrows: nothing. Limits: none of its own.
 */
#ifndef ACN_DIALECT_H
#define ACN_DIALECT_H

#include "acn.h"
#include "event.h"
#include "json_walk.h"
#include "sse.h"

struct acn_decoder;

typedef struct acn_dialect {
    const char *name; /* as Ruby and the configuration spell it: "anthropic" */

    /* Decoding (decoder.c). For each SSE event the decoder clears the payload
     * state, calls `begin` (which may handle a non-JSON payload such as OpenAI's
     * [DONE] and set *handled), parses the data with `listener` (ctx = the
     * decoder), then calls `end`, which emits the events. */
    const acn_json_listener *listener;
    acn_status (*begin)(struct acn_decoder *d, const acn_sse_event *event, int *handled);
    acn_status (*end)(struct acn_decoder *d, const acn_sse_event *event);
    /* The body ended cleanly with no terminal event: may end the stream from what
     * came (acn_decoder_terminal), or leave it incomplete. NULL: always incomplete. */
    acn_status (*close)(struct acn_decoder *d);

    /* The provider's own stop reason to the normalized one, from the string
     * alone; `end` adds what the stream itself says (Gemini's STOP after a
     * function call is TOOL_USE). */
    acn_stop_reason (*stop_reason)(const char *text, size_t len);

    /* Accumulation (accum.c): the provider wants its thinking blocks (with their
     * signatures) sent back in the next request, so the Result keeps them. */
    int keeps_thinking_blocks;
} acn_dialect;

#define ACN_DIALECT_DECLARE_(ID, name) extern const acn_dialect acn_dialect_##name;
ACN_PROVIDERS(ACN_DIALECT_DECLARE_)
#undef ACN_DIALECT_DECLARE_

/* The provider's entry; NULL for a value that is no provider. */
const acn_dialect *acn_dialect_of(acn_provider provider);

#endif
