/*
 * fuzz_classify.c: libFuzzer target for the classifier. The input chooses the
 * provider, status, flags, libcurl code and headers, and the rest is the body:
 *
 *   byte 0      provider (mod 3)
 *   bytes 1-2   HTTP status (big-endian, mod 1000)
 *   byte 3      bit 0 mid_stream, bit 1 streamed, bit 2 pass libcurl text,
 *               bits 3-6 transport error (mod 9)
 *   byte 4      libcurl code (0-127)
 *   byte 5      header count (mod 6); then per header: a selector byte (low 2 bits:
 *               retry-after, retry-after-ms, x-should-retry, or a raw name whose
 *               length is the selector's high bits), a value length byte, the bytes
 *   rest        the body
 *
 * Every piece is copied into a buffer of exactly its size, so AddressSanitizer
 * catches any read past a length. Checked on every input: the failure is one of
 * the taxonomy's kinds with a valid action, its message and detail are valid
 * UTF-8 without control characters and carry no key-shaped secret, cancelled
 * never retries, retry_after is absent or a finite non-negative number, the
 * same input classifies the same way twice, streamed output and x-should-retry
 * never change the kind, x-should-retry decides an error response's
 * retryability, and a cancelled transfer is cancelled whatever else came.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "clean_text_check.h"

#define MAX_HEADERS 5

static int valid_text(const char *s, size_t cap)
{
    if (strnlen(s, cap) == cap)
        return 0; /* not NUL-terminated within its array */
    return clean_text_ok(s);
}

static int alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* An OpenAI/Anthropic-shaped key ("sk-" and six or more key characters) starting a word. */
static int has_secret(const char *s)
{
    size_t i, len = strlen(s);

    for (i = 0; i + 3 <= len; i++) {
        size_t n = 0;
        if (s[i] != 's' || s[i + 1] != 'k' || s[i + 2] != '-' || (i > 0 && alnum((unsigned char)s[i - 1])))
            continue;
        while (i + 3 + n < len && (alnum((unsigned char)s[i + 3 + n]) || s[i + 3 + n] == '-' ||
                                   s[i + 3 + n] == '_' || s[i + 3 + n] == '*'))
            n++;
        if (n >= 6)
            return 1;
    }
    return 0;
}

static void check(const acn_classify_input *in, const acn_failure *f)
{
    if (f->kind <= ACN_FAILURE_NONE || f->kind >= ACN_FAILURE_KIND_COUNT)
        abort();
    if ((unsigned)f->action > ACN_ACTION_FAIL)
        abort();
    if (f->message[0] == '\0' || !valid_text(f->message, sizeof(f->message)))
        abort();
    if (!valid_text(f->detail, sizeof(f->detail)))
        abort();
    if (has_secret(f->message) || has_secret(f->detail))
        abort();
    if (f->kind == ACN_FAILURE_CANCELLED && (f->retryable || f->action != ACN_ACTION_FAIL))
        abort();
    if (f->retry_after >= 0 ? !isfinite(f->retry_after) : f->retry_after != -1)
        abort();
    if (f->status != in->status)
        abort();
    if (f->retryable != 0 && f->retryable != 1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"retry-after", "Retry-After-Ms", "X-Should-Retry"};
    acn_classify_input in;
    acn_header headers[MAX_HEADERS];
    char *owned[2 * MAX_HEADERS];
    size_t owned_count = 0, pos = 6, count, i;
    char *body;
    acn_failure first, second;

    if (size < 6)
        return 0;
    memset(&in, 0, sizeof(in));
    in.provider = (acn_provider)(data[0] % ACN_PROVIDER_COUNT);
    in.status = ((data[1] << 8) | data[2]) % 1000;
    in.mid_stream = data[3] & 1;
    in.streamed = (data[3] >> 1) & 1;
    in.transport_detail =
        (data[3] & 4) ? "Recv failure: Connection reset by peer (key sk-live-0123456789)" : NULL;
    in.transport_error = (acn_transport_error)(((data[3] >> 3) & 0xF) % 9);
    in.curl_code = data[4] & 0x7F;
    in.now = 1764345600.0;
    count = data[5] % (MAX_HEADERS + 1);

    for (i = 0; i < count && pos + 2 <= size; i++) {
        unsigned selector = data[pos], name_len = 0, value_len = data[pos + 1] % 64;
        char *name, *value;
        pos += 2;
        if ((selector & 3) == 3)
            name_len = (selector >> 2) % 32;
        if (name_len + value_len > size - pos)
            break;
        if ((selector & 3) == 3) {
            name = malloc(name_len ? name_len : 1);
            memcpy(name, data + pos, name_len);
            pos += name_len;
            headers[i].name = name;
            headers[i].name_len = name_len;
            owned[owned_count++] = name;
        } else {
            headers[i].name = names[selector & 3];
            headers[i].name_len = strlen(names[selector & 3]);
        }
        value = malloc(value_len ? value_len : 1);
        memcpy(value, data + pos, value_len);
        pos += value_len;
        headers[i].value = value;
        headers[i].value_len = value_len;
        owned[owned_count++] = value;
    }
    in.headers = headers;
    in.header_count = i;

    /* The body, exactly its size: no NUL after it. */
    body = malloc(size - pos ? size - pos : 1);
    memcpy(body, data + pos, size - pos);
    in.body = body;
    in.body_len = size - pos;

    acn_classify(&in, &first);
    check(&in, &first);
    acn_classify(&in, &second);
    if (first.kind != second.kind || first.action != second.action || first.retryable != second.retryable ||
        strcmp(first.message, second.message) != 0 || strcmp(first.detail, second.detail) != 0)
        abort();

    /* Streamed output only adds to the detail: the verdict stays. */
    in.streamed = !in.streamed;
    acn_classify(&in, &second);
    check(&in, &second);
    if (first.kind != second.kind || first.action != second.action || first.retryable != second.retryable ||
        strcmp(first.message, second.message) != 0)
        abort();
    in.streamed = !in.streamed;

    /* x-should-retry decides retryability of an error response, never the kind; cancelled stays final. */
    if (in.header_count < MAX_HEADERS) {
        static const char *const answers[] = {"true", "false"};
        int a;
        for (a = 0; a < 2; a++) {
            headers[in.header_count].name = "x-should-retry";
            headers[in.header_count].name_len = 14;
            headers[in.header_count].value = answers[a];
            headers[in.header_count].value_len = strlen(answers[a]);
            /* Put it first, so an earlier fuzzed x-should-retry does not shadow it. */
            {
                acn_header swap = headers[0];
                headers[0] = headers[in.header_count];
                headers[in.header_count] = swap;
            }
            in.header_count++;
            acn_classify(&in, &second);
            check(&in, &second);
            in.header_count--;
            {
                acn_header swap = headers[0];
                headers[0] = headers[in.header_count];
                headers[in.header_count] = swap;
            }
            if (second.kind != first.kind)
                abort();
            if (second.kind == ACN_FAILURE_CANCELLED) {
                if (second.retryable)
                    abort();
            } else if (in.status >= 400 && second.retryable != (a == 0)) {
                abort();
            }
        }
    }

    /* Cancelled wins over everything. */
    {
        acn_transport_error saved = in.transport_error;
        in.transport_error = ACN_TRANSPORT_CANCELLED;
        acn_classify(&in, &second);
        check(&in, &second);
        if (second.kind != ACN_FAILURE_CANCELLED)
            abort();
        in.transport_error = saved;
    }

    /* The header readers on their own, with the body as a header value. */
    {
        double seconds = acn_retry_after_parse(body, in.body_len, in.now);
        double ms = acn_retry_after_ms_parse(body, in.body_len);
        double duration = acn_duration_parse(body, in.body_len);
        double when;
        if ((seconds < 0 && seconds != -1) || (ms < 0 && ms != -1) || (duration < 0 && duration != -1))
            abort();
        if (acn_http_date_parse(body, in.body_len, in.now, &when) == 0 && !isfinite(when))
            abort();
    }
    {
        char small[16];
        acn_failure_clean_text(small, sizeof(small), body, in.body_len);
        if (!valid_text(small, sizeof(small)) || has_secret(small))
            abort();
    }

    free(body);
    for (i = 0; i < owned_count; i++)
        free(owned[i]);
    return 0;
}
