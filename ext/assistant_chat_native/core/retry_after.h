/*
 * retry_after.h: how long a provider asked us to wait, from a header value or a
 * duration in its words. Each function borrows the value for the call, never
 * reads past len and allocates nothing.
 */
#ifndef ACN_RETRY_AFTER_H
#define ACN_RETRY_AFTER_H

#include <stddef.h>

/*
 * Seconds to wait from a `Retry-After` value: delay-seconds or an
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

/*
 * Seconds from the Go duration a message starts with ("1m30.5s", "56.68s",
 * "250ms": h, m, s, ms, at most four parts); what follows it is ignored. -1 when
 * the text does not start with one.
 */
double acn_go_duration_parse(const char *value, size_t len);

#endif
