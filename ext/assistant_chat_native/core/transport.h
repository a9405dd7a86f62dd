/*
 * transport.h: one HTTP POST over libcurl's multi interface, driven step by step
 * so the caller (stream.c) decides when to wake: for a throttled flush, a
 * heartbeat, a cancellation poll. Nothing here blocks longer than the deadline the
 * caller passes, and any thread may interrupt a wait with acn_transport_signal.
 *
 * Owns: the easy handle, the header list, the captured response headers (bounded
 * by max_header_bytes) and a non-2xx body (bounded by max_error_body; it is never
 * handed to on_body). Borrows: the request strings (for the duration of init
 * only: libcurl copies what it keeps, the body is copied here) and the callback
 * context.
 *
 * Connection reuse: each native thread keeps one cached multi handle (and so one
 * connection cache), lent to the transport it runs and returned on free; the DNS
 * cache and TLS sessions are shared process-wide through a CURLSH guarded by
 * pthread mutexes. A per-thread multi is used rather than sharing the connection
 * cache itself (CURL_LOCK_DATA_CONNECT) because libcurl documents that sharing as
 * unsafe between concurrent threads. After fork the child drops (without closing)
 * what it inherited: closing would send TLS close_notify on the parent's sockets.
 *
 * Always set: CURLOPT_NOSIGNAL, `Accept-Encoding: identity`, TCP keep-alive, no
 * `Expect: 100-continue`, http/https only (CURLOPT_PROTOCOLS_STR, or the older
 * CURLOPT_PROTOCOLS bitmask on libcurl before 7.85: a transfer that cannot be
 * restricted is refused), no redirects. TLS verification is libcurl's default (on)
 * and is never turned off; ca_file/ca_path replace libcurl's default CA bundle and
 * directory. Proxies come from libcurl's own reading of the environment
 * (http_proxy, https_proxy, no_proxy, ...), per transfer.
 *
 * Secrets: the header lines (API keys) are copied into libcurl's list; every copy
 * this module owns (that list, the request body) is wiped with acn_transport_wipe
 * before it is freed. What libcurl builds internally while sending (its request
 * buffer) is freed by libcurl and out of reach.
 */
#ifndef ACN_TRANSPORT_H
#define ACN_TRANSPORT_H

#include "acn.h"
#include "classify.h"

#include <pthread.h>
#include <stdint.h>

#define ACN_TRANSPORT_MAX_HEADERS            64
#define ACN_TRANSPORT_DEFAULT_MAX_HEADER     ((size_t)64 * 1024)
#define ACN_TRANSPORT_DEFAULT_MAX_ERROR_BODY ((size_t)1024 * 1024)

/* Bits for acn_transport_signal: why a waiting transport was woken. */
#define ACN_TRANSPORT_SIGNAL_CANCEL    1u /* the caller cancelled the stream */
#define ACN_TRANSPORT_SIGNAL_INTERRUPT 2u /* the host runtime needs the thread back */

typedef struct acn_transport_request {
    const char *url;  /* NUL-terminated */
    const char *body; /* the request body, body_len bytes */
    size_t body_len;
    const char *const *headers; /* "Name: value" lines, NUL-terminated */
    size_t header_count;
    uint64_t connect_timeout_ns; /* 0: libcurl's default */
    uint64_t timeout_ns;         /* the whole transfer; 0: none */
    uint64_t stall_timeout_ns;   /* no byte for this long: stalled; 0: none */
    size_t max_error_body;       /* 0: ACN_TRANSPORT_DEFAULT_MAX_ERROR_BODY */
    size_t max_header_bytes;     /* 0: ACN_TRANSPORT_DEFAULT_MAX_HEADER */
    const char *ca_file;         /* PEM bundle of trusted CAs; NULL: libcurl's default */
    const char *ca_path;         /* directory of hashed CA certificates; NULL: libcurl's default */
} acn_transport_request;

/* Body bytes of a 2xx response, as they arrive. Return 0 to go on, non-zero to stop
 * the transfer (acn_transport.aborted is then set). */
typedef int (*acn_transport_body_fn)(void *ctx, const char *data, size_t len);

typedef struct acn_transport {
    void *easy;      /* CURL * */
    void *multi;     /* CURLM *, lent by the thread's cache */
    int owns_multi;  /* a nested transfer made its own multi: cleaned up on free */
    void *slist;     /* struct curl_slist * */
    char *body;      /* our copy of the request body */
    size_t body_len; /* bytes of it written (wiped on free) */
    acn_transport_body_fn on_body;
    void *ctx;

    pthread_mutex_t lock; /* guards signals and multi against acn_transport_signal */
    pthread_cond_t wake;  /* signalled by acn_transport_signal, for acn_transport_idle */
    int lock_ready;
    unsigned signals;

    uint64_t stall_timeout_ns;
    uint64_t started_ns;
    uint64_t last_byte_ns;
    uint64_t first_byte_ns; /* 0 until the first response byte */
    int added;              /* the easy handle is in the multi */
    int done;               /* the transfer ended, one way or another */
    int stalled;            /* ended because no byte came for stall_timeout */
    int aborted;            /* ended because on_body asked to stop */
    int error_body_full;    /* ended because a non-2xx body reached its bound */
    int curl_code;          /* CURLcode of the transfer; 0 on success */
    char error_text[256];   /* libcurl's words for curl_code (never contains headers) */

    int status;           /* HTTP status of the final response, 0 before one */
    long new_connections; /* connections opened for this transfer (0: one was reused) */
    uint64_t body_bytes;  /* body bytes received (2xx and not) */
    acn_buf header_bytes; /* "name: value" lines of the final response */
    acn_header headers[ACN_TRANSPORT_MAX_HEADERS];
    size_t header_count;
    acn_buf error_body; /* body of a non-2xx response */
} acn_transport;

/* Prepares the transfer (nothing is sent yet). ACN_ERR_NOMEM, or ACN_ERR_MALFORMED
 * when libcurl refuses an option (a URL it cannot use): error_text says which. */
acn_status acn_transport_init(acn_transport *transport, const acn_transport_request *request,
                              acn_transport_body_fn on_body, void *ctx);

/* Runs the transfer until body bytes have been handed to on_body, it is done, a signal
 * arrives, or `deadline_ns` (monotonic, UINT64_MAX for none) passes, whichever comes first. Returns the
 * signals received (and clears them); check `done` for the end of the transfer. */
unsigned acn_transport_step(acn_transport *transport, uint64_t deadline_ns);

/* Waits without reading the socket (bytes that arrive stay in the kernel's buffer) until
 * `deadline_ns` or a signal; returns the signals (and clears them). For a caller that
 * has nothing to do with new bytes before a deadline: one wake-up instead of one per read. */
unsigned acn_transport_idle(acn_transport *transport, uint64_t deadline_ns);

/* Any thread, any time between init and free: records `bits` and wakes a waiting step
 * or idle. */
void acn_transport_signal(acn_transport *transport, unsigned bits);

/* Ends the transfer now (closing its connection if the response was not complete). */
void acn_transport_stop(acn_transport *transport);

/* Removes the handle (the connection stays cached when the response was complete),
 * returns the multi handle to the thread's cache and frees everything. Safe to call
 * twice, and after a failed init (which has already freed). */
void acn_transport_free(acn_transport *transport);

/* Zeroes len bytes at ptr in a way the compiler may not drop (for secrets about to be freed). */
void acn_transport_wipe(void *ptr, size_t len);

/* Bytes held, for memory accounting. */
size_t acn_transport_memsize(const acn_transport *transport);

/* Closes this thread's cached connections now (they are closed at thread exit anyway). */
void acn_transport_release_thread_cache(void);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t acn_now_ns(void);

#endif
