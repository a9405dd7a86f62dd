/*
 * fuzz_decode.h: the body of the three decoder fuzzers (fuzz_decode_anthropic.c,
 * fuzz_decode_openai.c, fuzz_decode_gemini.c), which define FUZZ_PROVIDER and
 * include it.
 *
 * The first input byte picks a split point; the rest is fed as a response body,
 * whole and split there, with a small event bound: no crash, no leak, identical
 * events either way, every event within its bounds. The same bytes are also handed
 * to acn_decoder_feed_event as one data payload (under an event name the first byte
 * picks), which reaches the JSON dialects without needing SSE framing. With
 * FUZZ_FAST_TEXT_PATH (Anthropic), the bytes are also the string of a text delta,
 * decoded by the fast path and by the general walk, which must agree.
 */
#ifndef FUZZ_DECODE_H
#define FUZZ_DECODE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

#define MAX_EVENT 8192

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

static int on_event(void *ctx, const acn_event *e)
{
    digest *d = ctx;
    long long numbers[5];

    if ((unsigned)e->type >= ACN_EVENT_TYPE_COUNT || e->index < -1 || e->index >= ACN_DECODER_MAX_BLOCKS)
        abort();
    if (e->text == NULL || e->id == NULL || e->name == NULL || e->raw == NULL)
        abort();
    if (e->text_len > MAX_EVENT || e->id_len > MAX_EVENT || e->name_len > MAX_EVENT || e->raw_len > MAX_EVENT)
        abort();
    if (e->type == ACN_EVENT_STOP &&
        (e->stop_reason == ACN_STOP_NONE || e->stop_reason > ACN_STOP_PAUSE_TURN))
        abort();
    numbers[0] = e->type;
    numbers[1] = e->index;
    numbers[2] = e->input_tokens;
    numbers[3] = e->output_tokens;
    numbers[4] = e->stop_reason;
    d->hash = mix(d->hash, (const char *)numbers, sizeof numbers);
    d->hash = mix(d->hash, e->text, e->text_len);
    d->hash = mix(d->hash, e->id, e->id_len);
    d->hash = mix(d->hash, e->name, e->name_len);
    d->hash = mix(d->hash, e->raw, e->raw_len);
    d->events++;
    return 0;
}

static acn_status run(const char *bytes, size_t len, size_t cut, digest *d, int *done)
{
    acn_decoder decoder;
    acn_status status;

    d->hash = 14695981039346656037ULL;
    d->events = 0;
    acn_decoder_init(&decoder, FUZZ_PROVIDER, MAX_EVENT, on_event, d);
    status = acn_decoder_feed(&decoder, bytes, cut);
    if (status == ACN_OK)
        status = acn_decoder_feed(&decoder, bytes + cut, len - cut);
    if (status == ACN_OK)
        status = acn_decoder_finish(&decoder);
    if (status != ACN_OK && acn_decoder_error(&decoder)[0] == '\0')
        abort(); /* every failure says why */
    *done = acn_decoder_done(&decoder);
    acn_decoder_free(&decoder);
    return status;
}

static void run_payload(const char *bytes, size_t len, unsigned char pick)
{
    static const char *const names[] = {"message",
                                        "message_start",
                                        "content_block_start",
                                        "content_block_delta",
                                        "content_block_stop",
                                        "message_delta",
                                        "message_stop",
                                        "error",
                                        "ping"};
    const char *name = names[pick % (sizeof names / sizeof names[0])];
    acn_sse_event event;
    acn_decoder decoder;
    digest d = {0, 0};

    memset(&event, 0, sizeof event);
    event.type = name;
    event.type_len = strlen(name);
    event.data = bytes;
    event.data_len = len;
    event.id = "";
    event.retry = -1;
    acn_decoder_init(&decoder, FUZZ_PROVIDER, MAX_EVENT, on_event, &d);
    /* twice: the second payload runs on the state (and yajl parser) the first left */
    if (acn_decoder_feed_event(&decoder, &event) == ACN_OK)
        acn_decoder_feed_event(&decoder, &event);
    acn_decoder_free(&decoder);
}

#ifdef FUZZ_FAST_TEXT_PATH
static acn_status run_text_delta(const char *head, const char *body, size_t len, digest *d)
{
    static const char tail[] = "\"}}";
    char payload[MAX_EVENT + 128];
    size_t n = strlen(head);
    acn_sse_event event;
    acn_decoder decoder;
    acn_status status;

    memcpy(payload, head, n);
    memcpy(payload + n, body, len);
    memcpy(payload + n + len, tail, sizeof tail - 1);
    memset(&event, 0, sizeof event);
    event.type = "content_block_delta";
    event.type_len = strlen(event.type);
    event.data = payload;
    event.data_len = n + len + sizeof tail - 1;
    event.id = "";
    event.retry = -1;
    d->hash = 14695981039346656037ULL;
    d->events = 0;
    acn_decoder_init(&decoder, FUZZ_PROVIDER, MAX_EVENT * 2, on_event, d);
    status = acn_decoder_feed_event(&decoder, &event);
    acn_decoder_free(&decoder);
    return status;
}

/* The compact text delta (fast path) and the same payload with one space (general
 * JSON walk) must agree on any string body. */
static void compare_text_paths(const char *body, size_t len)
{
    digest fast;
    digest general;
    acn_status fast_status = run_text_delta(
        "{\"type\":\"content_block_delta\",\"index\":3,\"delta\":{\"type\":\"text_delta\",\"text\":\"", body,
        len, &fast);
    acn_status general_status = run_text_delta(
        "{\"type\": \"content_block_delta\",\"index\":3,\"delta\":{\"type\":\"text_delta\",\"text\":\"", body,
        len, &general);

    if (fast_status != general_status || fast.hash != general.hash || fast.events != general.events)
        abort();
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *bytes = (const char *)data + 1;
    size_t len;
    size_t cut;
    digest whole;
    digest split;
    int whole_done;
    int split_done;
    acn_status whole_status;
    acn_status split_status;

    if (size == 0)
        return 0;
    len = size - 1;
    cut = len == 0 ? 0 : data[0] % (len + 1);
    whole_status = run(bytes, len, len, &whole, &whole_done);
    split_status = run(bytes, len, cut, &split, &split_done);
    if ((whole_status == ACN_OK) != (split_status == ACN_OK))
        abort();
    if (whole_status == ACN_OK &&
        (whole.hash != split.hash || whole.events != split.events || whole_done != split_done))
        abort();
    if (len <= MAX_EVENT)
        run_payload(bytes, len, data[0]);
#ifdef FUZZ_FAST_TEXT_PATH
    if (len <= MAX_EVENT)
        compare_text_paths(bytes, len);
#endif
    return 0;
}

#endif
