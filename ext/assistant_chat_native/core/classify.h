/*
 * classify.h: turns what went wrong into an acn_failure (failure.h).
 *
 * Inputs are borrowed for the call only. The classifier never allocates beyond
 * what it frees before returning, and never reads past the lengths it is given.
 */
#ifndef ACN_CLASSIFY_H
#define ACN_CLASSIFY_H

#include "acn.h"
#include "failure.h"
#include "retry_after.h"
#include "transport_error.h"

typedef struct acn_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} acn_header;

typedef struct acn_classify_input {
    acn_provider provider;
    int status;                /* HTTP status; 0 when there was no response */
    const acn_header *headers; /* response headers, names in any case */
    size_t header_count;
    const char *body; /* error body, or the payload of a mid-stream error event */
    size_t body_len;
    int mid_stream; /* body is an error event that came after HTTP 200 */
    acn_transport_error transport_error;
    int curl_code;                /* libcurl's CURLcode, 0 when none; mapped when transport_error is NONE */
    const char *transport_detail; /* NUL-terminated, may be NULL: libcurl's error text */
    int streamed;                 /* output was already flushed to the user */
    double now;                   /* Unix time in seconds, to read an HTTP-date retry-after */
} acn_classify_input;

void acn_classify(const acn_classify_input *input, acn_failure *out);

/*
 * The kind a transport error is, and (in *what) the words a failure's detail gets
 * for it when libcurl gave none (failure_kinds.def's transport rows). NONE and ""
 * for ACN_TRANSPORT_NONE or a value past the last error.
 */
acn_failure_kind acn_classify_transport_kind(acn_transport_error error, const char **what);

/*
 * Bounds on the work one call does: a body longer than ACN_CLASSIFY_MAX_JSON is
 * not parsed as JSON (its first bytes are still read as text); JSON with comments
 * or nested deeper than ACN_JSON_MAX_DEPTH (acn.h) is read as text too; only the
 * first ACN_CLASSIFY_MAX_SCAN bytes of a message are searched for known phrases.
 */
#define ACN_CLASSIFY_MAX_JSON ((size_t)1024 * 1024)
#define ACN_CLASSIFY_MAX_SCAN ((size_t)4096)

#endif
