/*
 * fuzz_sse.c: arbitrary bytes, split at a point the input chooses, with a small
 * event bound. The parser must never crash or leak, must give the same events (and
 * cross its budget or not) however the input is split, must never hand out an event
 * over its bound or a type or id over ACN_SSE_MAX_FIELD_BYTES, and its buffers must
 * never hold more than the budget together.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

#define MAX_EVENT 4096

typedef struct digest {
    uint64_t hash;
    size_t events;
} digest;

static uint64_t mix(uint64_t hash, const char *bytes, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        hash = (hash ^ (unsigned char)bytes[i]) * 1099511628211ULL;
    return (hash ^ len) * 1099511628211ULL;
}

static int on_event(void *ctx, const acn_sse_event *event)
{
    digest *d = ctx;

    if (event->data_len > MAX_EVENT || event->type_len > ACN_SSE_MAX_FIELD_BYTES ||
        event->id_len > ACN_SSE_MAX_FIELD_BYTES)
        abort();
    d->hash = mix(d->hash, event->type, event->type_len);
    d->hash = mix(d->hash, event->data, event->data_len);
    d->hash = mix(d->hash, event->id, event->id_len);
    d->hash = mix(d->hash, (const char *)&event->retry, sizeof event->retry);
    d->events++;
    return 0;
}

static acn_status run(const char *bytes, size_t len, size_t cut, digest *d)
{
    acn_sse_parser parser;
    acn_status status;

    d->hash = 14695981039346656037ULL;
    d->events = 0;
    acn_sse_init(&parser, MAX_EVENT, on_event, d);
    status = acn_sse_feed(&parser, bytes, cut);
    if (parser.own_budget.used > MAX_EVENT)
        abort();
    if (status == ACN_OK)
        status = acn_sse_feed(&parser, bytes + cut, len - cut);
    if (parser.own_budget.used > MAX_EVENT)
        abort();
    if (status == ACN_OK)
        status = acn_sse_finish(&parser);
    acn_sse_free(&parser);
    if (parser.own_budget.used != 0)
        abort();
    return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    digest whole;
    digest split;
    acn_status whole_status;
    acn_status split_status;
    size_t cut;

    if (size == 0)
        return 0;
    cut = data[0] % size;
    whole_status = run((const char *)data + 1, size - 1, 0, &whole);
    split_status = run((const char *)data + 1, size - 1, cut > size - 1 ? size - 1 : cut, &split);
    /* A bound can be crossed at a different event depending on the split, but an
     * input parsed whole both ways must give identical events. */
    if (whole_status == ACN_OK && split_status == ACN_OK &&
        (whole.hash != split.hash || whole.events != split.events))
        abort();
    if ((whole_status == ACN_OK) != (split_status == ACN_OK))
        abort();
    return 0;
}
