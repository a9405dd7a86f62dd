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

/*
 * The providers the core speaks, one line each: X(ENUM_NAME, name). Each has one
 * dialect entry, acn_dialect_<name>, defined in its decode_<name>.c (dialect.h
 * says what an entry holds). Adding a provider is one line here and one
 * decode_<name>.c; CONTRIBUTING.md ("Adding a provider") has the whole checklist.
 */
#define ACN_PROVIDERS(X)                                                                                     \
    X(ANTHROPIC, anthropic)                                                                                  \
    X(OPENAI, openai)                                                                                        \
    X(GEMINI, gemini)                                                                                        \
    X(OPENAI_RESPONSES, openai_responses)

#define ACN_PROVIDER_ENUM_(ID, name) ACN_PROVIDER_##ID,
typedef enum acn_provider {
    ACN_PROVIDERS(ACN_PROVIDER_ENUM_) ACN_PROVIDER_COUNT /* not a provider: how many there are */
} acn_provider;
#undef ACN_PROVIDER_ENUM_

/*
 * Default event-level memory budget of one stream: 16 MiB. Every buffer that holds
 * a part of the response that is not the reply itself (the SSE line, data, event
 * type and id, the decoder's strings and pending list, json_walk's capture, the
 * transport's error-body capture) counts its capacity against this one budget, so
 * a hostile stream holds at most this much beside the reply (accum.h bounds the
 * reply: ACN_ACCUM_DEFAULT_MAX_REPLY_BYTES, 8 MiB). Measured, the worst hostile
 * stream grows RSS by about 20 MiB through the budget and under 40 MiB through the
 * reply, under 64 MiB either way. Real provider events are a few KiB; a whole Gemini
 * function call in one event, the largest seen, is well under 1 MiB, and one event
 * occupies about three times its size (line, data, decoded strings), so this leaves
 * real streams a wide margin.
 */
#define ACN_DEFAULT_MAX_EVENT_BYTES ((size_t)16 * 1024 * 1024)

/*
 * The deepest JSON any part of the core accepts from a provider: event payloads,
 * error bodies, tool-call arguments. 100 is Ruby's JSON `max_nesting` default and
 * is counted the same way (the outermost array or object is level 1), so what C
 * accepts, Ruby's JSON.parse accepts too.
 */
#define ACN_JSON_MAX_DEPTH 100

const char *acn_status_name(acn_status status);
/* The provider's name ("anthropic"), from its dialect entry; "unknown" for none. */
const char *acn_provider_name(acn_provider provider);
/* Parses a provider's name ("anthropic", "openai", "gemini", ...); returns 0 on
 * success, -1 otherwise. */
int acn_provider_parse(const char *name, size_t len, acn_provider *out);

/*
 * acn_buf: a byte buffer that owns its memory, carries length and capacity, and
 * refuses to grow past `max` (ACN_ERR_LIMIT) so no input can make it unbounded.
 * `ptr` is always NUL-terminated after the first append (for yajl and printing),
 * but the bytes may contain NUL: use `len`.
 */
/*
 * acn_budget: bytes of capacity that several buffers share. A buffer that counts
 * against a budget refuses to grow (ACN_ERR_LIMIT) when the budget has no room,
 * whatever its own `max`; freeing the buffer gives its capacity back.
 * Not thread-safe: the buffers sharing one budget belong to one thread at a time.
 */
typedef struct acn_budget {
    size_t used;
    size_t max;
} acn_budget;

void acn_budget_init(acn_budget *budget, size_t max);
/* Counts `bytes` held outside any buffer: ACN_ERR_LIMIT when there is no room. */
acn_status acn_budget_take(acn_budget *budget, size_t bytes);
void acn_budget_give(acn_budget *budget, size_t bytes);

typedef struct acn_buf {
    char *ptr;
    size_t len;
    size_t cap; /* never more than max + 1 (the NUL): growth is clamped to the bound */
    size_t max;
    acn_budget *budget; /* NULL, or the budget its capacity counts against (borrowed) */
} acn_buf;

void acn_buf_init(acn_buf *buf, size_t max);
/* Before the first append: count this buffer's capacity against `budget` too. */
void acn_buf_share(acn_buf *buf, acn_budget *budget);
acn_status acn_buf_append(acn_buf *buf, const char *data, size_t len);
acn_status acn_buf_push(acn_buf *buf, char byte);
void acn_buf_clear(acn_buf *buf); /* len = 0, keeps the memory */
/* Shrinks the capacity to len + 1, giving the rest back to the budget (kept as it
 * is if the allocator refuses). */
void acn_buf_fit(acn_buf *buf);
void acn_buf_free(acn_buf *buf); /* gives its capacity back to its budget, keeps max and budget */

#endif
