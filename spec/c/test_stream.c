/* test_stream.c: the whole core pipeline (transport, decoder, accumulator, throttle,
 * callbacks) against a tiny HTTP/1.1 server on loopback run in a thread of this test. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "stream.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef enum scenario { SERVE_REPLY, SERVE_429, SERVE_STALL } scenario;

/* An Anthropic Messages stream, as the API documents it. */
static const char reply[] =
    "event: message_start\n"
    "data: "
    "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","
    "\"model\":\"claude-test\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":5,\"output_"
    "tokens\":"
    "1}}}\n\n"
    "event: content_block_start\n"
    "data: "
    "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
    "event: content_block_delta\n"
    "data: "
    "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}"
    "\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" "
    "world\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},"
    "\"usage\":{\"output_tokens\":2}}\n\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n\n";

static const char first_event[] =
    "event: content_block_delta\n"
    "data: "
    "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n";

static const char rate_limited[] =
    "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"Number of "
    "request tokens has exceeded your per-minute rate limit\"}}";

typedef struct server {
    int fd;
    int port;
    pthread_t thread;
    volatile scenario what;
    volatile int saw_close;
} server;

static server srv;

static int read_request(int fd)
{
    char buf[8192];
    size_t len = 0;
    char *end;
    long content_length = 0;
    const char *cl;

    for (;;) {
        ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end != NULL)
            break;
    }
    cl = strcasestr(buf, "content-length:");
    if (cl != NULL)
        content_length = strtol(cl + 15, NULL, 10);
    while ((long)(len - (size_t)(end + 4 - buf)) < content_length) {
        ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
    }
    return 0;
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        data += n;
        len -= (size_t)n;
    }
}

static void respond(int fd, int status, const char *type, const char *body)
{
    char head[256];

    snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n", status,
             status == 200 ? "OK" : "Too Many Requests", type, strlen(body));
    send_all(fd, head, strlen(head));
    send_all(fd, body, strlen(body));
}

static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(srv.fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        while (read_request(fd) == 0) {
            if (srv.what == SERVE_REPLY) {
                respond(fd, 200, "text/event-stream", reply);
            } else if (srv.what == SERVE_429) {
                respond(fd, 429, "application/json", rate_limited);
            } else {
                const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";
                struct pollfd pfd = {.fd = fd, .events = POLLIN};
                char byte;
                send_all(fd, head, strlen(head));
                send_all(fd, first_event, strlen(first_event));
                if (poll(&pfd, 1, 5000) == 1 && recv(fd, &byte, 1, 0) <= 0)
                    srv.saw_close = 1;
                break;
            }
        }
        close(fd);
    }
}

static int start_server(void **state)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    int one = 1;

    (void)state;
    memset(&srv, 0, sizeof(srv));
    srv.fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(srv.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(srv.fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(srv.fd, 16) != 0)
        return -1;
    getsockname(srv.fd, (struct sockaddr *)&addr, &len);
    srv.port = ntohs(addr.sin_port);
    return pthread_create(&srv.thread, NULL, serve, NULL);
}

static int stop_server(void **state)
{
    (void)state;
    shutdown(srv.fd, SHUT_RDWR);
    close(srv.fd);
    pthread_join(srv.thread, NULL);
    return 0;
}

/* What the callbacks saw. */
typedef struct seen {
    acn_stream *stream;
    char text[256];
    size_t text_len;
    int texts;
    int heartbeats;
    int polls;
    int cancel_after_polls; /* on_cancel_poll answers 1 from this poll on; 0: never */
    int pause_on_text;
    int stop_on_text;
} seen;

static int saw_text(void *ctx, const acn_accum_chunk *chunk)
{
    seen *s = ctx;

    /* Each flush hands out everything so far; the new part is its tail. */
    assert_true(chunk->delta_len <= chunk->all_len);
    assert_memory_equal(chunk->all + chunk->all_len - chunk->delta_len, chunk->delta, chunk->delta_len);
    assert_true(s->text_len + chunk->delta_len < sizeof(s->text));
    memcpy(s->text + s->text_len, chunk->delta, chunk->delta_len);
    s->text_len += chunk->delta_len;
    assert_int_equal(s->text_len, chunk->all_len);
    s->texts++;
    if (s->pause_on_text)
        acn_stream_pause(s->stream);
    return s->stop_on_text;
}

static int saw_heartbeat(void *ctx, double elapsed)
{
    seen *s = ctx;

    assert_true(elapsed > 0);
    s->heartbeats++;
    return 0;
}

static int saw_poll(void *ctx)
{
    seen *s = ctx;

    s->polls++;
    return s->cancel_after_polls > 0 && s->polls >= s->cancel_after_polls;
}

static const acn_stream_callbacks callbacks = {
    .on_text = saw_text,
    .on_heartbeat = saw_heartbeat,
    .on_cancel_poll = saw_poll,
};

static const char *const request_headers[] = {"x-api-key: sk-test-secret", "anthropic-version: 2023-06-01"};

static acn_stream_config make_config(char *url, size_t url_cap)
{
    acn_stream_config config;

    snprintf(url, url_cap, "http://127.0.0.1:%d/v1/messages", srv.port);
    memset(&config, 0, sizeof(config));
    config.provider = ACN_PROVIDER_ANTHROPIC;
    config.request.url = url;
    config.request.body = "{\"stream\":true}";
    config.request.body_len = strlen(config.request.body);
    config.request.headers = request_headers;
    config.request.header_count = 2;
    config.request.connect_timeout_ns = 2000000000ull;
    config.request.timeout_ns = 10000000000ull;
    config.request.stall_timeout_ns = 5000000000ull;
    config.broadcast_interval_ns = 0;
    return config;
}

static void run_until_finished(acn_stream *stream)
{
    int rounds = 0;

    while (acn_stream_run(stream) != ACN_STREAM_FINISHED)
        assert_true(++rounds < 1000);
}

static void streams_a_reply_to_the_callbacks_and_the_accumulator(void **state)
{
    char url[128];
    acn_stream_config config = make_config(url, sizeof(url));
    acn_stream stream;
    acn_stream_stats stats;
    seen s = {0};

    (void)state;
    srv.what = SERVE_REPLY;
    assert_int_equal(acn_stream_init(&stream, &config, &callbacks, &s), ACN_OK);
    s.stream = &stream;
    run_until_finished(&stream);
    assert_int_equal(stream.accum.failure.kind, ACN_FAILURE_NONE);
    assert_int_equal(stream.accum.text.len, strlen("Hello world"));
    assert_memory_equal(stream.accum.text.ptr, "Hello world", stream.accum.text.len);
    assert_int_equal(s.text_len, strlen("Hello world"));
    assert_memory_equal(s.text, "Hello world", s.text_len);
    assert_int_equal(stream.accum.stop_reason, ACN_STOP_END_TURN);
    acn_stream_get_stats(&stream, &stats);
    assert_int_equal(stats.status, 200);
    assert_int_equal(stats.bytes, strlen(reply));
    assert_true(stats.events >= 4);
    assert_int_equal(stats.flushes, (uint64_t)s.texts);
    assert_true(stats.time_to_first_byte >= 0 && stats.time_to_first_byte <= stats.duration);
    assert_true(stats.time_to_first_token >= stats.time_to_first_byte);
    acn_stream_free(&stream);
    acn_stream_free(&stream); /* twice is harmless */
}

static void a_pause_from_a_callback_returns_and_the_next_run_resumes(void **state)
{
    char url[128];
    acn_stream_config config = make_config(url, sizeof(url));
    acn_stream stream;
    seen s = {0};
    int pauses = 0;

    (void)state;
    srv.what = SERVE_REPLY;
    s.pause_on_text = 1;
    assert_int_equal(acn_stream_init(&stream, &config, &callbacks, &s), ACN_OK);
    s.stream = &stream;
    while (acn_stream_run(&stream) == ACN_STREAM_PAUSED) {
        assert_false(stream.interrupted);
        pauses++;
        assert_true(pauses < 100);
    }
    assert_int_equal(pauses, s.texts);
    assert_true(pauses >= 1);
    assert_memory_equal(s.text, "Hello world", s.text_len);
    assert_int_equal(stream.accum.failure.kind, ACN_FAILURE_NONE);
    acn_stream_free(&stream);
}

static void an_http_error_is_classified_from_its_body_and_streams_nothing(void **state)
{
    char url[128];
    acn_stream_config config = make_config(url, sizeof(url));
    acn_stream stream;
    seen s = {0};

    (void)state;
    srv.what = SERVE_429;
    assert_int_equal(acn_stream_init(&stream, &config, &callbacks, &s), ACN_OK);
    s.stream = &stream;
    run_until_finished(&stream);
    assert_int_equal(stream.accum.failure.kind, ACN_FAILURE_RATE_LIMITED);
    assert_int_equal(stream.accum.failure.status, 429);
    assert_non_null(strstr(stream.accum.failure.detail, "per-minute rate limit"));
    assert_int_equal(s.texts, 0);
    acn_stream_free(&stream);
}

static void heartbeats_come_on_time_while_no_byte_arrives_until_the_stall(void **state)
{
    char url[128];
    acn_stream_config config = make_config(url, sizeof(url));
    acn_stream stream;
    seen s = {0};
    uint64_t started = acn_now_ns();

    (void)state;
    srv.what = SERVE_STALL;
    srv.saw_close = 0;
    config.heartbeat_interval_ns = 50000000ull;
    config.request.stall_timeout_ns = 400000000ull;
    assert_int_equal(acn_stream_init(&stream, &config, &callbacks, &s), ACN_OK);
    s.stream = &stream;
    run_until_finished(&stream);
    assert_int_equal(stream.accum.failure.kind, ACN_FAILURE_STALLED);
    assert_true(s.heartbeats >= 5);
    assert_memory_equal(s.text, "Hi", 2);
    assert_true(acn_now_ns() - started < 2000000000ull);
    acn_stream_free(&stream);
}

static void a_cancel_poll_answering_yes_cancels_while_no_byte_arrives(void **state)
{
    char url[128];
    acn_stream_config config = make_config(url, sizeof(url));
    acn_stream stream;
    seen s = {0};
    uint64_t started = acn_now_ns();
    int i;

    (void)state;
    srv.what = SERVE_STALL;
    srv.saw_close = 0;
    config.cancel_poll_interval_ns = 30000000ull;
    s.cancel_after_polls = 3;
    assert_int_equal(acn_stream_init(&stream, &config, &callbacks, &s), ACN_OK);
    s.stream = &stream;
    run_until_finished(&stream);
    assert_int_equal(stream.accum.failure.kind, ACN_FAILURE_CANCELLED);
    assert_int_equal(s.polls, 3);
    assert_true(acn_now_ns() - started < 1000000000ull);
    acn_stream_free(&stream);
    for (i = 0; i < 100 && !srv.saw_close; i++)
        usleep(10000);
    assert_true(srv.saw_close);
}

static void a_callback_returning_non_zero_stops_the_transfer(void **state)
{
    char url[128];
    acn_stream_config config = make_config(url, sizeof(url));
    acn_stream stream;
    seen s = {0};

    (void)state;
    srv.what = SERVE_STALL;
    s.stop_on_text = 1;
    assert_int_equal(acn_stream_init(&stream, &config, &callbacks, &s), ACN_OK);
    s.stream = &stream;
    run_until_finished(&stream);
    assert_int_equal(s.texts, 1);
    assert_int_equal(stream.accum.failure.kind, ACN_FAILURE_CANCELLED);
    acn_stream_free(&stream);
}

typedef struct later {
    acn_stream *stream;
    int cancel;
} later;

static void *interrupt_later(void *arg)
{
    later *job = arg;

    usleep(100000);
    if (job->cancel)
        acn_stream_cancel(job->stream);
    else
        acn_stream_interrupt(job->stream);
    return NULL;
}

static void an_interrupt_from_another_thread_pauses_a_waiting_run_and_cancel_ends_it(void **state)
{
    char url[128];
    acn_stream_config config = make_config(url, sizeof(url));
    acn_stream stream;
    seen s = {0};
    pthread_t thread;
    later job;
    uint64_t started;

    (void)state;
    srv.what = SERVE_STALL;
    config.request.stall_timeout_ns = 30000000000ull;
    assert_int_equal(acn_stream_init(&stream, &config, &callbacks, &s), ACN_OK);
    s.stream = &stream;
    job.stream = &stream;
    job.cancel = 0;
    started = acn_now_ns();
    pthread_create(&thread, NULL, interrupt_later, &job);
    assert_int_equal(acn_stream_run(&stream), ACN_STREAM_PAUSED);
    pthread_join(thread, NULL);
    assert_true(stream.interrupted);
    assert_true(acn_now_ns() - started < 1000000000ull);

    job.cancel = 1;
    pthread_create(&thread, NULL, interrupt_later, &job);
    run_until_finished(&stream);
    pthread_join(thread, NULL);
    assert_int_equal(stream.accum.failure.kind, ACN_FAILURE_CANCELLED);
    assert_true(acn_now_ns() - started < 2000000000ull);
    acn_stream_free(&stream);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(streams_a_reply_to_the_callbacks_and_the_accumulator),
        cmocka_unit_test(a_pause_from_a_callback_returns_and_the_next_run_resumes),
        cmocka_unit_test(an_http_error_is_classified_from_its_body_and_streams_nothing),
        cmocka_unit_test(heartbeats_come_on_time_while_no_byte_arrives_until_the_stall),
        cmocka_unit_test(a_cancel_poll_answering_yes_cancels_while_no_byte_arrives),
        cmocka_unit_test(a_callback_returning_non_zero_stops_the_transfer),
        cmocka_unit_test(an_interrupt_from_another_thread_pauses_a_waiting_run_and_cancel_ends_it),
    };
    int failed = cmocka_run_group_tests(tests, start_server, stop_server);

    acn_transport_release_thread_cache();
    curl_global_cleanup();
    return failed;
}
