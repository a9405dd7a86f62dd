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

/* What the transport saw, when the failure is not (only) an HTTP response. */
typedef enum acn_transport_error {
    ACN_TRANSPORT_NONE = 0,
    ACN_TRANSPORT_CONNECT,    /* DNS, refused, TLS handshake: nothing was sent */
    ACN_TRANSPORT_TIMEOUT,    /* the overall or connect timeout passed */
    ACN_TRANSPORT_STALLED,    /* no byte for stall_timeout */
    ACN_TRANSPORT_LOST,       /* reset or closed mid-response */
    ACN_TRANSPORT_INCOMPLETE, /* the stream ended without its terminal event */
    ACN_TRANSPORT_MALFORMED,  /* bytes that are not the provider's format */
    ACN_TRANSPORT_TOO_LARGE,  /* an event, body or reply over its bound */
    ACN_TRANSPORT_CANCELLED   /* cancelled by the caller */
} acn_transport_error;

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
acn_transport_error acn_transport_error_from_curl(int curl_code);
const char *acn_transport_error_name(acn_transport_error error);
int acn_transport_error_parse(const char *name, size_t len, acn_transport_error *out);

/*
 * Bounds on the work one call does: a body longer than ACN_CLASSIFY_MAX_JSON is
 * not parsed as JSON (its first bytes are still read as text); JSON with comments
 * or nested deeper than ACN_JSON_MAX_DEPTH (acn.h) is read as text too; only the
 * first ACN_CLASSIFY_MAX_SCAN bytes of a message are searched for known phrases.
 */
#define ACN_CLASSIFY_MAX_JSON ((size_t)1024 * 1024)
#define ACN_CLASSIFY_MAX_SCAN ((size_t)4096)

/*
 * retry_after.c. Seconds to wait from a `Retry-After` value: delay-seconds or an
 * HTTP-date (IMF-fixdate, RFC 850 or asctime, RFC 9110 section 5.6.7) taken
 * relative to `now` (Unix seconds; a date in the past gives 0). Returns -1 for a
 * value that is neither.
 */
double acn_retry_after_parse(const char *value, size_t len, double now);
/* Seconds from a `retry-after-ms` value (milliseconds, fraction allowed); -1 when invalid. */
double acn_retry_after_ms_parse(const char *value, size_t len);
/* Seconds from a google.protobuf.Duration in JSON ("43s", "0.5s"); -1 when invalid. */
double acn_duration_parse(const char *value, size_t len);
/* The Unix time of an HTTP-date in any of its three forms; 0 on success, -1 otherwise. */
int acn_http_date_parse(const char *value, size_t len, double now, double *out);

#endif
