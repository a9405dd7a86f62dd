/*
 * acn.h: what every module of the core shares: status codes, providers, and the
 * bounded byte buffer.
 *
 * The core is plain C99 with no Ruby in it. Every public name starts with `acn_`.
 * Errors are values (`acn_status`), never errno or exit.
 */
#ifndef ACN_H
#define ACN_H

#include <stddef.h>
#include <stdint.h>

typedef enum acn_status {
    ACN_OK = 0,
    ACN_ERR_NOMEM,     /* malloc failed */
    ACN_ERR_LIMIT,     /* a configured size bound was crossed */
    ACN_ERR_MALFORMED, /* input that cannot be interpreted (bad JSON, bad framing) */
    ACN_ERR_ABORTED    /* a callback asked to stop */
} acn_status;

typedef enum acn_provider {
    ACN_PROVIDER_ANTHROPIC = 0,
    ACN_PROVIDER_OPENAI,
    ACN_PROVIDER_GEMINI
} acn_provider;

#define ACN_PROVIDER_COUNT 3

/* Default bound on one SSE line, one event, one error body: 16 MiB. */
#define ACN_DEFAULT_MAX_EVENT_BYTES ((size_t)16 * 1024 * 1024)

/*
 * The deepest JSON any part of the core accepts from a provider: event payloads,
 * error bodies, tool-call arguments. 100 is Ruby's JSON `max_nesting` default and
 * is counted the same way (the outermost array or object is level 1), so what C
 * accepts, Ruby's JSON.parse accepts too.
 */
#define ACN_JSON_MAX_DEPTH 100

const char *acn_status_name(acn_status status);
const char *acn_provider_name(acn_provider provider);
/* Parses "anthropic" | "openai" | "gemini"; returns 0 on success, -1 otherwise. */
int acn_provider_parse(const char *name, size_t len, acn_provider *out);

/*
 * acn_buf: a byte buffer that owns its memory, carries length and capacity, and
 * refuses to grow past `max` (ACN_ERR_LIMIT) so no input can make it unbounded.
 * `ptr` is always NUL-terminated after the first append (for yajl and printing),
 * but the bytes may contain NUL: use `len`.
 */
typedef struct acn_buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max;
} acn_buf;

void acn_buf_init(acn_buf *buf, size_t max);
acn_status acn_buf_append(acn_buf *buf, const char *data, size_t len);
acn_status acn_buf_push(acn_buf *buf, char byte);
void acn_buf_clear(acn_buf *buf); /* len = 0, keeps the memory */
void acn_buf_free(acn_buf *buf);

#endif
