/*
 * fuzz_error_body.c: libFuzzer target for untrusted error bodies through the
 * classifier, on the stack a worker thread has. fuzz_classify.c varies every input
 * of the classifier; this target keeps all but the body plain and reads the body
 * the two ways it arrives:
 *
 *   byte 0      bits 0-2 HTTP status of the error response: 400, 401, 404, 413,
 *               429, 500, 503 or 529; bits 3-4 provider (mod 3); bit 5 the body is
 *               the payload of a mid-stream error event (after HTTP 200) instead
 *   rest        the body, in a buffer of exactly its size (no NUL after it)
 *
 * The classification runs on a thread with a small machine stack (fuzz_stack.h):
 * a parser or a free that recurses once per nesting level (JSON comments hiding
 * brackets from a depth pre-check, 30,000 nested arrays) overflows it within
 * -max_len, and AddressSanitizer reports it.
 *
 * Checked on every input: the failure is one of the taxonomy's kinds with a valid
 * action, its message (never empty) and detail are NUL-terminated valid UTF-8
 * without control characters, retry_after is absent or finite and not negative,
 * the status is the one given, and the same input classifies the same way twice.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "clean_text_check.h"
#include "fuzz_stack.h"

static int valid_text(const char *s, size_t cap)
{
    return strnlen(s, cap) < cap && clean_text_ok(s);
}

static void check(const acn_classify_input *in, const acn_failure *f)
{
    if (f->kind <= ACN_FAILURE_NONE || f->kind >= ACN_FAILURE_KIND_COUNT || f->kind == ACN_FAILURE_CANCELLED)
        abort();
    if ((unsigned)f->action > ACN_ACTION_FAIL || (f->retryable != 0 && f->retryable != 1))
        abort();
    if (f->message[0] == '\0' || !valid_text(f->message, sizeof(f->message)))
        abort();
    if (!valid_text(f->detail, sizeof(f->detail)))
        abort();
    if (f->retry_after >= 0 ? !isfinite(f->retry_after) : f->retry_after != -1)
        abort();
    if (f->status != in->status)
        abort();
}

static void run(void *arg)
{
    static const int statuses[] = {400, 401, 404, 413, 429, 500, 503, 529};
    const fuzz_input *in = arg;
    const uint8_t mode = in->data[0];
    size_t len = in->size - 1;
    char *body = malloc(len ? len : 1);
    acn_classify_input input;
    acn_failure first, second;

    memcpy(body, in->data + 1, len);
    memset(&input, 0, sizeof(input));
    input.provider = (acn_provider)(((mode >> 3) & 3) % ACN_PROVIDER_COUNT);
    input.mid_stream = (mode >> 5) & 1;
    input.status = input.mid_stream ? 200 : statuses[mode & 7];
    input.body = body;
    input.body_len = len;
    input.now = 1764345600.0;
    acn_classify(&input, &first);
    check(&input, &first);
    acn_classify(&input, &second);
    if (first.kind != second.kind || first.action != second.action || first.retryable != second.retryable ||
        strcmp(first.message, second.message) != 0 || strcmp(first.detail, second.detail) != 0)
        abort();
    free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_input_on_small_stack(run, data, size);
}
