/*
 * failure.h: the one error taxonomy (DESIGN.md section 5). Every way a request can
 * fail, from an HTTP status to a libcurl code to a mid-stream error event, ends as
 * an acn_failure, decided in C by classify.c.
 *
 * An acn_failure owns its strings in fixed arrays: it can be copied by value and
 * needs no free. Texts longer than the arrays are cut at a UTF-8 boundary.
 *
 * The kinds, their default action and retryability, their copy and the phrases
 * that identify them are data, in failure_kinds.def: this header and failure.c
 * are built from it, and Ruby reads the same rows.
 */
#ifndef ACN_FAILURE_H
#define ACN_FAILURE_H

#include "acn.h"

/* The kinds, in failure_kinds.def's order, after NONE. */
typedef enum acn_failure_kind {
    ACN_FAILURE_NONE = 0,
#define ACN_FAILURE_KIND(NAME, name, ACTION, retryable, copy) ACN_FAILURE_##NAME,
#include "failure_kinds.def"
    ACN_FAILURE_KIND_COUNT /* not a kind: how many there are, NONE included */
} acn_failure_kind;

typedef enum acn_failure_action {
    ACN_ACTION_RETRY = 0,
    ACN_ACTION_COMPACT,
    ACN_ACTION_ESCALATE,
    ACN_ACTION_FAIL
} acn_failure_action;

#define ACN_FAILURE_MESSAGE_MAX 512
#define ACN_FAILURE_DETAIL_MAX  2048

typedef struct acn_failure {
    acn_failure_kind kind;
    acn_failure_action action;
    int retryable;
    double retry_after;                    /* seconds; negative when the provider gave none */
    int status;                            /* HTTP status, 0 when no response */
    char message[ACN_FAILURE_MESSAGE_MAX]; /* user-facing copy */
    char detail[ACN_FAILURE_DETAIL_MAX];   /* the provider's own words, or what went wrong */
} acn_failure;

const char *acn_failure_kind_name(acn_failure_kind kind); /* "rate_limited", ... */
int acn_failure_kind_parse(const char *name, size_t len, acn_failure_kind *out);
const char *acn_failure_action_name(acn_failure_action action); /* "retry", ... */

/*
 * Sets `failure` to `kind` with that kind's default action, retryability and
 * user-facing copy, no retry_after (-1), the given HTTP status and an empty detail.
 * Producers other than the classifier (a refusal, say) start here.
 */
void acn_failure_init(acn_failure *failure, acn_failure_kind kind, int status);
/* The user-facing copy for `kind`: short, plain words, what to do next. */
const char *acn_failure_copy(acn_failure_kind kind);

/* Copy for a case within a kind (failure_kinds.def's ACN_FAILURE_COPY rows). */
typedef enum acn_failure_copy_id {
#define ACN_FAILURE_COPY(NAME, name, copy) ACN_COPY_##NAME,
#include "failure_kinds.def"
    ACN_COPY_COUNT /* not a copy: how many there are */
} acn_failure_copy_id;

const char *acn_failure_case_copy(acn_failure_copy_id id); /* "" when out of range */
const char *acn_failure_case_copy_name(acn_failure_copy_id id);
/*
 * Writes the copy `id` into dst (cap >= 1, always NUL-terminated) with `value`
 * where its first "%s" stands, cleaned as acn_failure_clean_text cleans. The copy
 * is data, never a printf format. Returns the bytes written.
 */
size_t acn_failure_case_copy_fill(char *dst, size_t cap, acn_failure_copy_id id, const char *value);
int acn_failure_kind_retryable(acn_failure_kind kind);
acn_failure_action acn_failure_kind_action(acn_failure_kind kind);

/*
 * Copies `len` bytes of provider or transport text into `failure`'s message or
 * detail, made safe to show and log: API keys and bearer tokens replaced by
 * "[redacted]", control characters folded into single spaces, invalid UTF-8
 * replaced by U+FFFD, cut at a character boundary to fit. Returns the bytes written.
 */
size_t acn_failure_set_message(acn_failure *failure, const char *text, size_t len);
size_t acn_failure_set_detail(acn_failure *failure, const char *text, size_t len);
/* The same cleaning into any buffer of `cap` bytes (cap >= 1); always NUL-terminates. */
size_t acn_failure_clean_text(char *dst, size_t cap, const char *text, size_t len);

#endif
