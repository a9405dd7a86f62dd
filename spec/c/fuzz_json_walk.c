/*
 * fuzz_json_walk.c: libFuzzer target for the JSON walker, the parser every piece
 * of untrusted JSON goes through (provider events, error bodies, mid-stream error
 * payloads). The input chooses what the listener asks for, and the rest is the text:
 *
 *   byte 0      bits 0-1 what on_open answers at the chosen depth (descend,
 *               capture, skip, stop), bits 2-4 that depth (0-7), bit 5 stop at
 *               the 3rd scalar, bit 6 a small capture bound (64 bytes, else 64 KiB)
 *   rest        the JSON text, in a buffer of exactly its size (no NUL after it)
 *
 * Every parse runs on a thread with a small machine stack (fuzz_stack.h), so work
 * that recurses once per nesting level, in the walker or in yajl, overflows
 * and is reported whatever depth fits in the input.
 *
 * Checked on every input: the status is one the header promises, with an error
 * text exactly when it is not ACN_OK; a successful parse opens and closes every
 * container and ends at depth 0; a listener that stops gets ACN_ERR_ABORTED;
 * a text that begins with a comment is refused; the same walk, reused, gives the
 * same answer and the same events twice; and a captured value is JSON the walker
 * accepts, which captured again reads the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_stack.h"
#include "json_walk.h"

#define SMALL_CAPTURE 64
#define LARGE_CAPTURE (64 * 1024)

typedef struct seen {
    int decision;     /* on_open's answer at `at_depth` */
    size_t at_depth;  /* the depth (of the opened container's parent) it applies at */
    int stop_scalars; /* stop after this many scalars; 0 never */
    size_t scalars, opens, closes, captures;
    uint64_t hash;  /* of every event, in order */
    char *captured; /* the first capture, copied */
    size_t captured_len;
} seen;

static void mix(seen *s, uint64_t value)
{
    s->hash = (s->hash ^ value) * 1099511628211ULL;
}

static void mix_bytes(seen *s, const char *text, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
        mix(s, (unsigned char)text[i]);
    mix(s, len);
}

static int on_scalar(void *ctx, const acn_json_walk *walk, acn_json_kind kind, const char *text, size_t len)
{
    seen *s = ctx;

    if (kind > ACN_JSON_NULL || (len > 0 && text == NULL))
        abort();
    s->scalars++;
    mix(s, 1000 + (uint64_t)kind);
    mix(s, acn_json_walk_depth(walk));
    mix_bytes(s, text, len);
    return s->stop_scalars > 0 && s->scalars >= (size_t)s->stop_scalars;
}

static int on_open(void *ctx, const acn_json_walk *walk, int is_array)
{
    seen *s = ctx;
    int decision = acn_json_walk_depth(walk) == s->at_depth ? s->decision : 0;

    mix(s, 2000 + (uint64_t)is_array * 10 + (uint64_t)decision);
    switch (decision) {
    case 1: return ACN_JSON_CAPTURE;
    case 2: return ACN_JSON_SKIP;
    case 3: return -1;
    default:
        s->opens++; /* only a container walked into is closed through on_close */
        return ACN_JSON_DESCEND;
    }
}

static int on_close(void *ctx, const acn_json_walk *walk, int is_array)
{
    seen *s = ctx;

    (void)walk;
    s->closes++;
    mix(s, 3000 + (uint64_t)is_array);
    return 0;
}

static int on_capture(void *ctx, const acn_json_walk *walk, const char *json, size_t len)
{
    seen *s = ctx;

    (void)walk;
    s->captures++;
    mix(s, 4000);
    mix_bytes(s, json, len);
    if (s->captured == NULL) {
        s->captured = malloc(len ? len : 1);
        memcpy(s->captured, json, len);
        s->captured_len = len;
    }
    return 0;
}

static const acn_json_listener listener = {on_scalar, on_open, on_close, on_capture};

static int status_known(acn_status status)
{
    return status == ACN_OK || status == ACN_ERR_MALFORMED || status == ACN_ERR_LIMIT ||
           status == ACN_ERR_NOMEM || status == ACN_ERR_ABORTED;
}

static void check(const acn_json_walk *walk, acn_status status, const seen *s)
{
    const char *error = acn_json_walk_error(walk);

    if (!status_known(status))
        abort();
    if (strnlen(error, sizeof(walk->error)) == sizeof(walk->error))
        abort(); /* the error text lacks its NUL */
    if ((status == ACN_OK) != (error[0] == '\0'))
        abort();
    if (status == ACN_OK && (s->opens != s->closes || acn_json_walk_depth(walk) != 0))
        abort();
    if (s->stop_scalars > 0 && s->scalars >= (size_t)s->stop_scalars && status != ACN_ERR_ABORTED)
        abort();
}

/* Whether the text's first byte after JSON whitespace opens a comment. */
static int starts_with_comment(const char *text, size_t len)
{
    size_t i = 0;

    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    return i < len && text[i] == '/';
}

static void run(void *arg)
{
    const fuzz_input *in = arg;
    const uint8_t mode = in->data[0];
    size_t len = in->size - 1;
    char *text = malloc(len ? len : 1);
    acn_json_walk walk;
    seen first, second;
    acn_status status, again;

    memcpy(text, in->data + 1, len);
    memset(&first, 0, sizeof(first));
    first.decision = mode & 3;
    first.at_depth = (mode >> 2) & 7;
    first.stop_scalars = (mode & 0x20) ? 3 : 0;
    second = first;

    acn_json_walk_init(&walk, (mode & 0x40) ? SMALL_CAPTURE : LARGE_CAPTURE);
    status = acn_json_walk_parse(&walk, text, len, &listener, &first);
    check(&walk, status, &first);
    if (starts_with_comment(text, len) && status == ACN_OK)
        abort();

    /* The walk is reused, after an error too: same answer, same events. */
    again = acn_json_walk_parse(&walk, text, len, &listener, &second);
    check(&walk, again, &second);
    if (again != status || second.hash != first.hash || second.scalars != first.scalars ||
        second.opens != first.opens || second.captures != first.captures)
        abort();

    /* What a capture hands out is JSON the walker reads back as itself. */
    if (first.captured != NULL) {
        seen copy;
        acn_json_walk other;

        memset(&copy, 0, sizeof(copy));
        copy.decision = 1;
        copy.at_depth = 0;
        acn_json_walk_init(&other, LARGE_CAPTURE);
        if (acn_json_walk_parse(&other, first.captured, first.captured_len, &listener, &copy) != ACN_OK)
            abort();
        if (copy.captured_len != first.captured_len ||
            memcmp(copy.captured, first.captured, copy.captured_len) != 0)
            abort();
        free(copy.captured);
        acn_json_walk_free(&other);
    }

    free(first.captured);
    free(second.captured);
    acn_json_walk_free(&walk);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_input_on_small_stack(run, data, size);
}
