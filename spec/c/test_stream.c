/* test_stream.c: the whole core pipeline (transport, decoder, accumulator, throttle,
 * callbacks) against a tiny HTTP/1.1 server on loopback run in a thread of this test. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "decode.h"
#include "stream.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A test may serve another body (NULL: `reply`). */
static const char *ok_body;

#define LOOPBACK_OK_BODY    (ok_body != NULL ? ok_body : reply)
#define LOOPBACK_ERROR_BODY rate_limited
#define LOOPBACK_STALL_BODY first_event
#include "loopback_server.h"

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
    srv.what = SERVE_OK;
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
    srv.what = SERVE_OK;
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
    assert_true(stream.accum.failure.retry_after == 7.0); /* the response's Retry-After header */
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

/* ---- tool calls: the delivery loop and the announce count ---- */

static const char tool_message_start[] =
    "event: message_start\n"
    "data: "
    "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_2\",\"type\":\"message\",\"role\":\"assistant\","
    "\"model\":\"claude-test\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":5,"
    "\"output_tokens\":1}}}\n\n";
static const char tool_message_end[] =
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},"
    "\"usage\":{\"output_tokens\":2}}\n\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n\n";

static void append_tool_start(acn_buf *body, int index, const char *name)
{
    char event[512];

    snprintf(event, sizeof(event),
             "event: content_block_start\n"
             "data: {\"type\":\"content_block_start\",\"index\":%d,\"content_block\":{\"type\":\"tool_use\","
             "\"id\":\"toolu_%s\",\"name\":\"%s\",\"input\":{}}}\n\n",
             index, name, name);
    assert_int_equal(acn_buf_append(body, event, strlen(event)), ACN_OK);
}

static void append_block_stop(acn_buf *body, int index)
{
    char event[256];

    snprintf(event, sizeof(event),
             "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":%d}\n\n", index);
    assert_int_equal(acn_buf_append(body, event, strlen(event)), ACN_OK);
}

typedef struct calls_seen {
    int count;
    int stop_on_first;
    char names[4][16];
} calls_seen;

static int saw_tool_call(void *ctx, const acn_accum_tool_call *call)
{
    calls_seen *c = ctx;

    if (c->count < 4)
        snprintf(c->names[c->count], sizeof(c->names[0]), "%.*s", (int)call->name.len, call->name.ptr);
    c->count++;
    return c->stop_on_first && c->count == 1;
}

/* Many tool calls pending at once, with and without a tool-call callback: the stream
 * delivers them in a loop, each exactly once, and finishes. */
static void many_pending_tool_calls_are_each_announced_once(void **state)
{
    static const acn_stream_callbacks counting = {.on_tool_call = saw_tool_call};
    const int calls = 2000;
    char url[128];
    acn_stream_config config = make_config(url, sizeof(url));
    acn_buf body;
    int pass;
    int i;

    (void)state;
    acn_buf_init(&body, (size_t)1 << 26);
    acn_buf_append(&body, tool_message_start, strlen(tool_message_start));
    for (i = 0; i < calls; i++) {
        /* Anthropic may reuse a block index once the block ended. */
        append_tool_start(&body, 0, "t");
        append_block_stop(&body, 0);
    }
    acn_buf_append(&body, tool_message_end, strlen(tool_message_end));
    ok_body = body.ptr;
    config.max_reply_bytes = (size_t)1 << 26;
    for (pass = 0; pass < 2; pass++) {
        acn_stream stream;
        calls_seen c = {0};

        srv.what = SERVE_OK;
        assert_int_equal(acn_stream_init(&stream, &config, pass == 0 ? NULL : &counting, &c), ACN_OK);
        run_until_finished(&stream);
        assert_int_equal(stream.accum.announced, stream.accum.call_count);
        if (pass == 1)
            assert_int_equal((size_t)c.count, stream.accum.call_count);
        if (stream.accum.failure.kind == ACN_FAILURE_NONE)
            assert_int_equal(stream.accum.call_count, (size_t)calls);
        acn_stream_free(&stream);
    }
    ok_body = NULL;
    acn_buf_free(&body);
}

/* Call a never ends; b, after it, does. The handler stops the stream at a's
 * announcement, so the reply ends while b is still unannounced: dropping a must not
 * make the stream skip b. */
static void a_call_that_ended_after_a_dropped_one_is_still_announced(void **state)
{
    static const acn_stream_callbacks counting = {.on_tool_call = saw_tool_call};
    char url[128];
    acn_stream_config config = make_config(url, sizeof(url));
    acn_stream stream;
    acn_buf body;
    calls_seen c = {0};

    (void)state;
    acn_buf_init(&body, 1 << 16);
    acn_buf_append(&body, tool_message_start, strlen(tool_message_start));
    append_tool_start(&body, 0, "a");
    append_tool_start(&body, 1, "b");
    append_block_stop(&body, 1);
    acn_buf_append(&body, tool_message_end, strlen(tool_message_end));
    ok_body = body.ptr;
    c.stop_on_first = 1;
    srv.what = SERVE_OK;
    assert_int_equal(acn_stream_init(&stream, &config, &counting, &c), ACN_OK);
    run_until_finished(&stream);
    assert_int_equal(stream.accum.failure.kind, ACN_FAILURE_CANCELLED);
    assert_int_equal(stream.accum.call_count, 1);
    assert_int_equal(stream.accum.call_count, stream.accum.announced);
    assert_int_equal(c.count, 2);
    assert_string_equal(c.names[0], "a");
    assert_string_equal(c.names[1], "b");
    acn_stream_free(&stream);
    ok_body = NULL;
    acn_buf_free(&body);
}

/* ---- the event budget ---- */

static void an_event_over_the_stream_budget_fails_the_reply_as_too_large(void **state)
{
    char url[128];
    acn_stream_config config = make_config(url, sizeof(url));
    acn_stream stream;
    seen s = {0};

    (void)state;
    srv.what = SERVE_OK;
    config.max_event_bytes = 160; /* the message_start event alone needs more */
    assert_int_equal(acn_stream_init(&stream, &config, &callbacks, &s), ACN_OK);
    s.stream = &stream;
    run_until_finished(&stream);
    /* The taxonomy's kind for an event, body or reply over its bound; never retried. */
    assert_int_equal(stream.accum.failure.kind, ACN_FAILURE_MALFORMED_STREAM);
    assert_false(stream.accum.failure.retryable);
    assert_non_null(strstr(stream.accum.failure.detail, "event budget of 160 bytes"));
    assert_true(stream.decoder->budget.used <= 160);
    acn_stream_free(&stream);
}

static void the_error_body_counts_against_the_stream_budget(void **state)
{
    char url[128];
    acn_stream_config config = make_config(url, sizeof(url));
    acn_stream stream;
    seen s = {0};

    (void)state;
    srv.what = SERVE_429;
    config.max_event_bytes = 64; /* smaller than the body; max_error_body stays 1 MiB */
    assert_int_equal(acn_stream_init(&stream, &config, &callbacks, &s), ACN_OK);
    s.stream = &stream;
    run_until_finished(&stream);
    assert_int_equal(stream.accum.failure.kind, ACN_FAILURE_RATE_LIMITED);
    assert_true(stream.transport.error_body.cap <= 64);
    assert_true(stream.transport.error_body.len < strlen(rate_limited));
    assert_true(stream.decoder->budget.used <= 64);
    assert_true(acn_stream_memsize(&stream) >= sizeof(stream) + stream.transport.error_body.cap);
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
        cmocka_unit_test(many_pending_tool_calls_are_each_announced_once),
        cmocka_unit_test(a_call_that_ended_after_a_dropped_one_is_still_announced),
        cmocka_unit_test(an_event_over_the_stream_budget_fails_the_reply_as_too_large),
        cmocka_unit_test(the_error_body_counts_against_the_stream_budget),
    };
    int failed = cmocka_run_group_tests(tests, start_server, stop_server);

    acn_transport_release_thread_cache();
    curl_global_cleanup();
    return failed;
}
