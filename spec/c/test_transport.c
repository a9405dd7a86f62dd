/* test_transport.c: the libcurl transport against a tiny HTTP/1.1 server on loopback,
 * run in a thread of this test. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "transport.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char ok_body[] = "event: ping\ndata: {\"type\":\"ping\"}\n\n";
static const char error_body[] = "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\"}}";

#define LOOPBACK_OK_BODY    ok_body
#define LOOPBACK_ERROR_BODY error_body
#define LOOPBACK_STALL_BODY "data: {}\n\n"
#include "loopback_server.h"

typedef struct sink {
    char data[4096];
    size_t len;
    int calls;
} sink;

static int collect_body(void *ctx, const char *data, size_t len)
{
    sink *out = ctx;

    if (out->len + len < sizeof(out->data)) {
        memcpy(out->data + out->len, data, len);
        out->len += len;
    }
    out->calls++;
    return 0;
}

static const char *const request_headers[] = {"x-api-key: sk-test-secret", "anthropic-version: 2023-06-01"};

static acn_transport_request make_request(char *url, size_t url_cap, int port)
{
    acn_transport_request request;

    snprintf(url, url_cap, "http://127.0.0.1:%d/v1/messages", port);
    memset(&request, 0, sizeof(request));
    request.url = url;
    request.body = "{\"stream\":true}";
    request.body_len = strlen(request.body);
    request.headers = request_headers;
    request.header_count = 2;
    request.connect_timeout_ns = 2000000000ull;
    request.timeout_ns = 10000000000ull;
    request.stall_timeout_ns = 5000000000ull;
    return request;
}

static void run_to_end(acn_transport *transport)
{
    uint64_t limit = acn_now_ns() + 5000000000ull;

    while (!transport->done && acn_now_ns() < limit)
        acn_transport_step(transport, acn_now_ns() + 100000000ull);
}

static const acn_header *find_header(const acn_transport *transport, const char *name)
{
    size_t i;

    for (i = 0; i < transport->header_count; i++) {
        if (transport->headers[i].name_len == strlen(name) &&
            strncasecmp(transport->headers[i].name, name, strlen(name)) == 0)
            return &transport->headers[i];
    }
    return NULL;
}

static void streams_a_2xx_body_to_on_body_and_captures_status_and_headers(void **state)
{
    char url[128];
    acn_transport_request request = make_request(url, sizeof(url), srv.port);
    acn_transport transport;
    sink out = {0};
    const acn_header *type;

    (void)state;
    srv.what = SERVE_OK;
    assert_int_equal(acn_transport_init(&transport, &request, collect_body, &out), ACN_OK);
    run_to_end(&transport);
    assert_true(transport.done);
    assert_int_equal(transport.curl_code, 0);
    assert_int_equal(transport.status, 200);
    assert_int_equal(out.len, strlen(ok_body));
    assert_memory_equal(out.data, ok_body, out.len);
    type = find_header(&transport, "content-type");
    assert_non_null(type);
    assert_int_equal(type->value_len, strlen("text/event-stream"));
    assert_memory_equal(type->value, "text/event-stream", type->value_len);
    /* What was sent: identity encoding, JSON, no 100-continue, the caller's headers. */
    assert_non_null(strcasestr(srv.last_request, "accept-encoding: identity\r\n"));
    assert_non_null(strcasestr(srv.last_request, "content-type: application/json\r\n"));
    assert_non_null(strcasestr(srv.last_request, "accept: text/event-stream\r\n"));
    assert_non_null(strstr(srv.last_request, "x-api-key: sk-test-secret\r\n"));
    assert_null(strcasestr(srv.last_request, "expect:"));
    assert_non_null(strstr(srv.last_request, "{\"stream\":true}"));
    acn_transport_free(&transport);
    acn_transport_free(&transport); /* twice is harmless */
}

static void a_second_request_on_the_same_thread_reuses_the_connection(void **state)
{
    char url[128];
    acn_transport_request request = make_request(url, sizeof(url), srv.port);
    acn_transport transport;
    sink out = {0};
    int accepts_before;

    (void)state;
    srv.what = SERVE_OK;
    assert_int_equal(acn_transport_init(&transport, &request, collect_body, &out), ACN_OK);
    run_to_end(&transport);
    acn_transport_free(&transport);
    accepts_before = srv.accepts;

    memset(&out, 0, sizeof(out));
    assert_int_equal(acn_transport_init(&transport, &request, collect_body, &out), ACN_OK);
    run_to_end(&transport);
    assert_int_equal(transport.status, 200);
    assert_int_equal(transport.new_connections, 0);
    acn_transport_free(&transport);
    assert_int_equal(srv.accepts, accepts_before);
}

static void a_non_2xx_body_is_kept_for_the_classifier_and_never_streamed(void **state)
{
    char url[128];
    acn_transport_request request = make_request(url, sizeof(url), srv.port);
    acn_transport transport;
    sink out = {0};
    const acn_header *retry_after;

    (void)state;
    srv.what = SERVE_429;
    assert_int_equal(acn_transport_init(&transport, &request, collect_body, &out), ACN_OK);
    run_to_end(&transport);
    assert_int_equal(transport.status, 429);
    assert_int_equal(out.calls, 0);
    assert_int_equal(transport.error_body.len, strlen(error_body));
    assert_memory_equal(transport.error_body.ptr, error_body, strlen(error_body));
    retry_after = find_header(&transport, "retry-after");
    assert_non_null(retry_after);
    assert_memory_equal(retry_after->value, "7", 1);
    acn_transport_free(&transport);
}

static void an_error_body_past_its_bound_is_cut_and_the_transfer_ends(void **state)
{
    char url[128];
    acn_transport_request request = make_request(url, sizeof(url), srv.port);
    acn_transport transport;
    sink out = {0};

    (void)state;
    srv.what = SERVE_429;
    request.max_error_body = 10;
    assert_int_equal(acn_transport_init(&transport, &request, collect_body, &out), ACN_OK);
    run_to_end(&transport);
    assert_true(transport.error_body_full);
    assert_int_equal(transport.error_body.len, 10);
    assert_memory_equal(transport.error_body.ptr, error_body, 10);
    acn_transport_free(&transport);
}

static void no_byte_for_the_stall_timeout_ends_the_transfer_as_stalled(void **state)
{
    char url[128];
    acn_transport_request request = make_request(url, sizeof(url), srv.port);
    acn_transport transport;
    sink out = {0};
    uint64_t started = acn_now_ns();
    int i;

    (void)state;
    srv.what = SERVE_STALL;
    srv.saw_close = 0;
    request.stall_timeout_ns = 200000000ull;
    assert_int_equal(acn_transport_init(&transport, &request, collect_body, &out), ACN_OK);
    /* A far deadline: the stall bound alone must wake the wait. */
    while (!transport.done)
        acn_transport_step(&transport, UINT64_MAX);
    assert_true(transport.stalled);
    assert_int_equal(transport.status, 200);
    assert_true(acn_now_ns() - started < 2000000000ull);
    acn_transport_free(&transport);
    for (i = 0; i < 100 && !srv.saw_close; i++)
        usleep(10000);
    assert_true(srv.saw_close);
}

typedef struct delayed_signal {
    acn_transport *transport;
    unsigned bits;
} delayed_signal;

static void *signal_later(void *arg)
{
    delayed_signal *job = arg;

    usleep(100000);
    acn_transport_signal(job->transport, job->bits);
    return NULL;
}

static void a_signal_from_another_thread_wakes_a_waiting_step(void **state)
{
    char url[128];
    acn_transport_request request = make_request(url, sizeof(url), srv.port);
    acn_transport transport;
    sink out = {0};
    pthread_t thread;
    delayed_signal job;
    uint64_t started;
    unsigned signals = 0;

    (void)state;
    srv.what = SERVE_STALL;
    request.stall_timeout_ns = 30000000000ull;
    assert_int_equal(acn_transport_init(&transport, &request, collect_body, &out), ACN_OK);
    job.transport = &transport;
    job.bits = ACN_TRANSPORT_SIGNAL_CANCEL;
    started = acn_now_ns();
    pthread_create(&thread, NULL, signal_later, &job);
    while (signals == 0 && !transport.done && acn_now_ns() - started < 5000000000ull)
        signals = acn_transport_step(&transport, UINT64_MAX);
    pthread_join(thread, NULL);
    assert_int_equal(signals, ACN_TRANSPORT_SIGNAL_CANCEL);
    assert_false(transport.done);
    assert_true(acn_now_ns() - started < 1000000000ull);
    acn_transport_stop(&transport);
    assert_true(transport.done);
    acn_transport_free(&transport);
}

static void a_refused_connection_is_reported_with_curls_code(void **state)
{
    char url[128];
    acn_transport_request request;
    acn_transport transport;
    sink out = {0};
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    (void)state;
    /* A port that was just free and has no listener. */
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    getsockname(fd, (struct sockaddr *)&addr, &len);
    close(fd);
    request = make_request(url, sizeof(url), ntohs(addr.sin_port));
    assert_int_equal(acn_transport_init(&transport, &request, collect_body, &out), ACN_OK);
    run_to_end(&transport);
    assert_int_equal(transport.curl_code, CURLE_COULDNT_CONNECT);
    assert_int_equal(transport.status, 0);
    assert_true(strlen(transport.error_text) > 0);
    assert_null(strstr(transport.error_text, "sk-test-secret"));
    acn_transport_free(&transport);
}

/* ---- libcurl's allocations, watched: which freed blocks still held the key ---- */

#define SECRET "sk-test-secret"

typedef struct watch {
    int on;
    int freed;             /* blocks freed while on */
    int freed_with_secret; /* of them, those still holding SECRET */
} watch;

static watch watched;

/* Each block carries its size in front, so free can look at what it releases. */
#define WATCH_HEADER 16

static void *watch_malloc(size_t size)
{
    unsigned char *base = malloc(size + WATCH_HEADER);

    if (base == NULL)
        return NULL;
    memcpy(base, &size, sizeof(size));
    return base + WATCH_HEADER;
}

static void watch_free(void *ptr)
{
    unsigned char *base;
    size_t size;

    if (ptr == NULL)
        return;
    base = (unsigned char *)ptr - WATCH_HEADER;
    memcpy(&size, base, sizeof(size));
    if (watched.on) {
        watched.freed++;
        if (memmem(ptr, size, SECRET, strlen(SECRET)) != NULL)
            watched.freed_with_secret++;
    }
    free(base);
}

static void *watch_realloc(void *ptr, size_t size)
{
    unsigned char *grown;
    size_t old = 0;

    if (ptr == NULL)
        return watch_malloc(size);
    memcpy(&old, (unsigned char *)ptr - WATCH_HEADER, sizeof(old));
    grown = watch_malloc(size);
    if (grown == NULL)
        return NULL;
    memcpy(grown, ptr, old < size ? old : size);
    watch_free(ptr);
    return grown;
}

static char *watch_strdup(const char *str)
{
    size_t len = strlen(str) + 1;
    char *copy = watch_malloc(len);

    if (copy != NULL)
        memcpy(copy, str, len);
    return copy;
}

static void *watch_calloc(size_t count, size_t size)
{
    void *ptr;

    if (size != 0 && count > (size_t)-1 / size)
        return NULL;
    ptr = watch_malloc(count * size);
    if (ptr != NULL)
        memset(ptr, 0, count * size);
    return ptr;
}

static void a_header_list_freed_unwiped_is_seen_by_the_watch(void **state)
{
    struct curl_slist *list = curl_slist_append(NULL, "x-api-key: " SECRET);

    (void)state;
    assert_non_null(list);
    memset(&watched, 0, sizeof(watched));
    watched.on = 1;
    curl_slist_free_all(list);
    watched.on = 0;
    assert_int_equal(watched.freed_with_secret, 1);
}

static void libcurls_copies_of_the_header_lines_are_wiped_before_they_are_freed(void **state)
{
    char url[128];
    acn_transport_request request = make_request(url, sizeof(url), srv.port);
    acn_transport transport;
    sink out = {0};

    (void)state;
    assert_int_equal(acn_transport_init(&transport, &request, collect_body, &out), ACN_OK);
    memset(&watched, 0, sizeof(watched));
    watched.on = 1;
    acn_transport_free(&transport);
    watched.on = 0;
    /* The list's nodes and lines (six of them), the easy handle and its parts. */
    assert_true(watched.freed >= 12);
    assert_int_equal(watched.freed_with_secret, 0);
}

static void expect_refused_scheme(const char *url)
{
    acn_transport_request request;
    acn_transport transport;
    sink out = {0};
    int accepts = srv.accepts;
    acn_status status;
    char unused[128];

    request = make_request(unused, sizeof(unused), srv.port);
    request.url = url;
    status = acn_transport_init(&transport, &request, collect_body, &out);
    if (status == ACN_OK) {
        run_to_end(&transport);
        assert_true(transport.done);
        assert_int_equal(transport.curl_code, CURLE_UNSUPPORTED_PROTOCOL);
        acn_transport_free(&transport);
    } else {
        assert_int_equal(status, ACN_ERR_MALFORMED);
    }
    assert_int_equal(out.len, 0);
    assert_int_equal(out.calls, 0);
    assert_int_equal(srv.accepts, accepts);
}

static void a_file_url_is_refused_and_nothing_is_read(void **state)
{
    (void)state;
    expect_refused_scheme("file:///etc/hostname");
}

static void an_ftp_url_is_refused_without_connecting(void **state)
{
    char url[128];

    (void)state;
    snprintf(url, sizeof(url), "ftp://127.0.0.1:%d/v1/messages", srv.port);
    expect_refused_scheme(url);
}

static void a_missing_ca_file_fails_the_transfer_as_a_tls_error(void **state)
{
    char url[128];
    acn_transport_request request = make_request(url, sizeof(url), srv.port);
    acn_transport transport;
    sink out = {0};

    (void)state;
    /* The CA options reach libcurl: a bundle that does not exist stops the TLS
     * handshake before it starts (no TLS listener is needed for that). */
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1/messages", srv.port);
    request.ca_file = "/nonexistent/ca.pem";
    request.ca_path = "/nonexistent";
    assert_int_equal(acn_transport_init(&transport, &request, collect_body, &out), ACN_OK);
    run_to_end(&transport);
    assert_true(transport.done);
    assert_int_equal(transport.curl_code, CURLE_SSL_CACERT_BADFILE);
    assert_int_equal(out.len, 0);
    acn_transport_free(&transport);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(streams_a_2xx_body_to_on_body_and_captures_status_and_headers),
        cmocka_unit_test(a_second_request_on_the_same_thread_reuses_the_connection),
        cmocka_unit_test(a_non_2xx_body_is_kept_for_the_classifier_and_never_streamed),
        cmocka_unit_test(an_error_body_past_its_bound_is_cut_and_the_transfer_ends),
        cmocka_unit_test(no_byte_for_the_stall_timeout_ends_the_transfer_as_stalled),
        cmocka_unit_test(a_signal_from_another_thread_wakes_a_waiting_step),
        cmocka_unit_test(a_refused_connection_is_reported_with_curls_code),
        cmocka_unit_test(a_header_list_freed_unwiped_is_seen_by_the_watch),
        cmocka_unit_test(libcurls_copies_of_the_header_lines_are_wiped_before_they_are_freed),
        cmocka_unit_test(a_file_url_is_refused_and_nothing_is_read),
        cmocka_unit_test(an_ftp_url_is_refused_without_connecting),
        cmocka_unit_test(a_missing_ca_file_fails_the_transfer_as_a_tls_error),
    };
    int failed;

    /* libcurl allocates through the watch (before anything initialises it), so a
     * test can see what libcurl frees. */
    curl_global_init_mem(CURL_GLOBAL_DEFAULT, watch_malloc, watch_free, watch_realloc, watch_strdup,
                         watch_calloc);
    failed = cmocka_run_group_tests(tests, start_server, stop_server);

    /* This thread's cached connections and libcurl's process-wide state, so
     * LeakSanitizer sees only real leaks. */
    acn_transport_release_thread_cache();
    curl_global_cleanup();
    return failed;
}
