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
    };
    int failed = cmocka_run_group_tests(tests, start_server, stop_server);

    /* This thread's cached connections and libcurl's process-wide state, so
     * LeakSanitizer sees only real leaks. */
    acn_transport_release_thread_cache();
    curl_global_cleanup();
    return failed;
}
