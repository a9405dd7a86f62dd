/*
 * transport_error.h: what the transport saw when a request failed without (only)
 * an HTTP response, and how libcurl's codes map to it. No libcurl header here:
 * codes are plain ints, so the classifier and its tests build without one.
 */
#ifndef ACN_TRANSPORT_ERROR_H
#define ACN_TRANSPORT_ERROR_H

#include <stddef.h>

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

/* How many values there are, NONE included: a new one goes before CANCELLED's line
 * ends the list, and this follows the last. */
#define ACN_TRANSPORT_ERROR_COUNT ((int)ACN_TRANSPORT_CANCELLED + 1)

/* The transport error a CURLcode stands for (NONE for 0; LOST for a code not known here). */
acn_transport_error acn_transport_error_from_curl(int curl_code);
/* 1 when curl_code is known, stands for error, and would fail the same way if tried again
   (a malformed URL, an unsupported protocol, a client certificate problem). */
int acn_transport_curl_is_permanent(int curl_code, acn_transport_error error);
/* libcurl's own words for curl_code. */
const char *acn_transport_curl_text(int curl_code);
/* "connect", "timeout", ... and back; parse returns 0, or -1 for an unknown name. */
const char *acn_transport_error_name(acn_transport_error error);
int acn_transport_error_parse(const char *name, size_t len, acn_transport_error *out);

#endif
