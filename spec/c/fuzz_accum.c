/*
 * fuzz_accum.c: the accumulator fed two ways, chosen by the input's first byte.
 *
 * Events: arbitrary event sequences, with flushes in between and a small reply
 * bound. Each event is read from the input as [type][index][flags][length][length
 * bytes of text]; flags pick server_tool, the stop reason and which flushes run.
 * Bytes: the rest of the input is a response body for one provider's decoder, fed in
 * chunks whose sizes the input also picks, into the accumulator, as Decoder does.
 *
 * Checks that flushes hand out every byte of text exactly once, whole characters
 * before the final flush, and that nothing crashes, leaks or grows past its bound.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "accum.h"
#include "decode.h"

#define FUZZ_MAX_REPLY 4096

static void check_chunk(const acn_accum_chunk *chunk, size_t previous_len)
{
    if (chunk->all_len < previous_len || chunk->delta != chunk->all + previous_len ||
        chunk->delta_len != chunk->all_len - previous_len)
        abort();
}

/* A response body through a decoder into the accumulator, cut into chunks of 1 to
 * 64 bytes as the first byte's low bits and each chunk's first byte decide. */
static void fuzz_bytes(const uint8_t *data, size_t size)
{
    acn_decoder decoder;
    acn_accum accum;
    acn_accum_chunk chunk;
    acn_provider provider = (acn_provider)(data[0] % ACN_PROVIDER_COUNT);
    acn_status status = ACN_OK;
    size_t pos = 1;
    size_t text_seen = 0;

    acn_accum_init(&accum, FUZZ_MAX_REPLY * 4);
    acn_decoder_init(&decoder, provider, 2048, acn_accum_on_event, &accum);
    while (pos < size && status == ACN_OK) {
        size_t len = 1 + (data[pos] & 63);

        if (len > size - pos)
            len = size - pos;
        status = acn_decoder_feed(&decoder, (const char *)data + pos, len);
        pos += len;
        if (acn_accum_flush_text(&accum, 0, &chunk)) {
            check_chunk(&chunk, text_seen);
            text_seen = chunk.all_len;
        }
    }
    if (status == ACN_OK)
        status = acn_decoder_finish(&decoder);
    acn_accum_finish(&accum, provider, acn_decoder_done(&decoder),
                     status == ACN_ERR_ABORTED ? ACN_OK : status, acn_decoder_error(&decoder), 1);
    if (accum.total > FUZZ_MAX_REPLY * 4)
        abort();
    acn_accum_flush_text(&accum, 1, &chunk);
    if (chunk.all_len != accum.text.len)
        abort();
    acn_decoder_free(&decoder);
    acn_accum_free(&accum);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acn_accum accum;
    acn_accum_chunk chunk;
    size_t pos = 0;
    size_t text_seen = 0;
    size_t thinking_seen = 0;
    acn_provider provider = (acn_provider)(size > 0 ? data[0] % ACN_PROVIDER_COUNT : 0);

    if (size > 0 && (data[0] & 0x80)) {
        fuzz_bytes(data, size);
        return 0;
    }
    acn_accum_init(&accum, FUZZ_MAX_REPLY);
    if (size > 0)
        pos = 1;
    while (pos + 4 <= size) {
        acn_event event;
        uint8_t flags = data[pos + 2];
        size_t len = data[pos + 3];

        memset(&event, 0, sizeof(event));
        event.type = (acn_event_type)(data[pos] % ACN_EVENT_TYPE_COUNT);
        event.index = (int)(data[pos + 1] % 8) - 1;
        event.server_tool = flags & 1;
        event.stop_reason = (acn_stop_reason)((flags >> 1) % 7);
        event.input_tokens = (flags & 0x10) ? (long long)len : -1;
        event.output_tokens = (flags & 0x20) ? (long long)len * 3 : -1;
        event.cache_read_tokens = -1;
        event.cache_write_tokens = (flags & 0x40) ? 7 : -1;
        pos += 4;
        if (len > size - pos)
            len = size - pos;
        event.text = (const char *)data + pos;
        event.text_len = len;
        event.id = event.text;
        event.id_len = len / 2;
        event.name = event.text + len / 2;
        event.name_len = len - len / 2;
        event.raw = event.text;
        event.raw_len = len;
        pos += len;
        acn_accum_add(&accum, &event);
        if (accum.total > FUZZ_MAX_REPLY)
            abort();
        if (flags & 0x80) {
            if (acn_accum_flush_text(&accum, 0, &chunk)) {
                check_chunk(&chunk, text_seen);
                text_seen = chunk.all_len;
            }
            if (acn_accum_flush_thinking(&accum, 0, &chunk)) {
                check_chunk(&chunk, thinking_seen);
                thinking_seen = chunk.all_len;
            }
            if (acn_utf8_complete_prefix(accum.text.ptr, accum.text.len) != text_seen)
                abort();
        }
    }
    acn_accum_finish(&accum, provider, size % 2, (acn_status)(size % 5), size % 3 ? "detail" : NULL, 0);
    acn_accum_flush_text(&accum, 1, &chunk);
    if (chunk.all_len != accum.text.len)
        abort();
    acn_accum_flush_thinking(&accum, 1, &chunk);
    if (chunk.all_len != accum.thinking.len)
        abort();
    acn_accum_free(&accum);
    return 0;
}
