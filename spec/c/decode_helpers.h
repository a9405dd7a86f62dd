/*
 * decode_helpers.h: what the three decoder tests share (test_decode_anthropic.c,
 * test_decode_openai.c, test_decode_gemini.c).
 *
 * - A transcript: every normalized event as one readable line, so a test states the
 *   exact event sequence a stream must produce.
 * - Four ways to feed a stream (whole; split at every byte position; one byte at a
 *   time; pre-parsed SSE events through acn_decoder_feed_event): all must agree.
 * - A small reduction of the events to the fields of the fixtures' expected.json,
 *   compared field by field (tool-call arguments as parsed JSON).
 * Included by one test file per program, so everything here is static.
 */
#ifndef DECODE_HELPERS_H
#define DECODE_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "decode.h"

#define FIXTURE_DIR "spec/fixtures"

/* The stop reason's name as transcripts and expectations spell it ("none" for NONE). */
static const char *stop_name(acn_stop_reason reason)
{
    const char *name = acn_stop_reason_name(reason);

    return name ? name : "none";
}

/* ---- transcripts ---- */

typedef struct transcript {
    acn_buf text;
    int events;
    int stop_after; /* the callback asks to stop at this event; 0 never */
} transcript;

static void put(acn_buf *out, const char *s)
{
    acn_buf_append(out, s, strlen(s));
}

static void put_escaped(acn_buf *out, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] == '\n')
            put(out, "\\n");
        else if (s[i] == '\r')
            put(out, "\\r");
        else
            acn_buf_push(out, s[i]);
    }
}

/* One event as "<type>[ <index>][ id=..][ name=..][ server][ reason=..][ usage=i,o,r,w][ text=..][ raw=..]\n"
 */
static void describe(acn_buf *out, const acn_event *e)
{
    char number[128];

    put(out, acn_event_type_name(e->type));
    if (e->index >= 0) {
        snprintf(number, sizeof number, " %d", e->index);
        put(out, number);
    }
    if (e->id_len > 0) {
        put(out, " id=");
        put_escaped(out, e->id, e->id_len);
    }
    if (e->name_len > 0) {
        put(out, " name=");
        put_escaped(out, e->name, e->name_len);
    }
    if (e->server_tool)
        put(out, " server");
    if (e->type == ACN_EVENT_STOP) {
        put(out, " reason=");
        put(out, stop_name(e->stop_reason));
    }
    if (e->type == ACN_EVENT_USAGE) {
        snprintf(number, sizeof number, " usage=%lld,%lld,%lld,%lld", e->input_tokens, e->output_tokens,
                 e->cache_read_tokens, e->cache_write_tokens);
        put(out, number);
    }
    if (e->text_len > 0) {
        put(out, " text=");
        put_escaped(out, e->text, e->text_len);
    }
    if (e->raw_len > 0) {
        put(out, " raw=");
        put_escaped(out, e->raw, e->raw_len);
    }
    put(out, "\n");
}

static int record(void *ctx, const acn_event *event)
{
    transcript *t = ctx;

    /* Strings are borrowed: check they are readable for their whole length now. */
    assert_true(event->text != NULL && event->id != NULL && event->name != NULL && event->raw != NULL);
    describe(&t->text, event);
    t->events++;
    return t->stop_after > 0 && t->events >= t->stop_after;
}

typedef struct decoded {
    char *transcript; /* malloc'd */
    acn_status status;
    int done;
    char error[ACN_DECODER_ERROR_MAX];
} decoded;

static void decoded_free(decoded *out)
{
    free(out->transcript);
    out->transcript = NULL;
}

static void finish_decoded(acn_decoder *d, transcript *t, acn_status status, decoded *out)
{
    if (status == ACN_OK)
        status = acn_decoder_finish(d);
    out->status = status;
    out->done = acn_decoder_done(d);
    snprintf(out->error, sizeof out->error, "%s", acn_decoder_error(d));
    out->transcript = strdup(t->text.ptr != NULL ? t->text.ptr : "");
    acn_buf_free(&t->text);
    acn_decoder_free(d);
}

/* Feeds `input` in pieces: cut after every `step` bytes (0: whole), or at `cut` when step is 0 and cut < len.
 */
static void decode_pieces(acn_provider provider, size_t max, const char *input, size_t len, size_t step,
                          size_t cut, decoded *out)
{
    acn_decoder d;
    transcript t = {0};
    acn_status status = ACN_OK;
    size_t off = 0;

    acn_buf_init(&t.text, 64 << 20);
    assert_int_equal(acn_decoder_init(&d, provider, max, record, &t), ACN_OK);
    if (step == 0 && cut < len) {
        status = acn_decoder_feed(&d, input, cut);
        if (status == ACN_OK)
            status = acn_decoder_feed(&d, input + cut, len - cut);
    } else if (step == 0) {
        status = acn_decoder_feed(&d, input, len);
    } else {
        while (off < len && status == ACN_OK) {
            size_t n = len - off < step ? len - off : step;

            status = acn_decoder_feed(&d, input + off, n);
            off += n;
        }
    }
    finish_decoded(&d, &t, status, out);
}

typedef struct sse_relay {
    acn_decoder *decoder;
    acn_status status;
} sse_relay;

static int relay(void *ctx, const acn_sse_event *event)
{
    sse_relay *r = ctx;

    r->status = acn_decoder_feed_event(r->decoder, event);
    return r->status != ACN_OK;
}

/* Parses the SSE framing separately and hands each event to acn_decoder_feed_event. */
static void decode_events(acn_provider provider, size_t max, const char *input, size_t len, decoded *out)
{
    acn_decoder d;
    acn_sse_parser parser;
    transcript t = {0};
    sse_relay r;
    acn_status status;

    acn_buf_init(&t.text, 64 << 20);
    assert_int_equal(acn_decoder_init(&d, provider, max, record, &t), ACN_OK);
    r.decoder = &d;
    r.status = ACN_OK;
    acn_sse_init(&parser, max ? max : ACN_DEFAULT_MAX_EVENT_BYTES, relay, &r);
    status = acn_sse_feed(&parser, input, len);
    if (status == ACN_OK)
        status = acn_sse_finish(&parser);
    if (status == ACN_ERR_ABORTED)
        status = r.status;
    acn_sse_free(&parser);
    /* feed_event callers own the framing: finish the decoder only to release it */
    if (status == ACN_OK && acn_decoder_finish(&d) != ACN_OK)
        status = d.status;
    finish_decoded(&d, &t, status, out);
}

static void assert_same(const decoded *a, const decoded *b, const char *how)
{
    if (strcmp(a->transcript, b->transcript) != 0 || a->status != b->status || a->done != b->done)
        fail_msg(
            "%s differs from whole input:\n--- whole (status %d done %d)\n%s--- %s (status %d done %d)\n%s",
            how, a->status, a->done, a->transcript, how, b->status, b->done, b->transcript);
}

/* Decodes `input` every way; all must agree; returns the whole-input result. */
static void decode_all_ways(acn_provider provider, size_t max, const char *input, size_t len, decoded *whole)
{
    decoded other;
    size_t cut;

    decode_pieces(provider, max, input, len, 0, len, whole);
    decode_pieces(provider, max, input, len, 1, 0, &other);
    assert_same(whole, &other, "one byte at a time");
    decoded_free(&other);
    decode_pieces(provider, max, input, len, 7, 0, &other);
    assert_same(whole, &other, "seven bytes at a time");
    decoded_free(&other);
    for (cut = 1; cut < len; cut++) {
        char how[64];

        decode_pieces(provider, max, input, len, 0, cut, &other);
        snprintf(how, sizeof how, "split at byte %zu", cut);
        assert_same(whole, &other, how);
        decoded_free(&other);
    }
    decode_events(provider, max, input, len, &other);
    assert_same(whole, &other, "fed as parsed SSE events");
    decoded_free(&other);
}

/* The stream, fed every way, must produce exactly `expected` (lines joined). */
static void expect_events(acn_provider provider, const char *input, acn_status status, int done,
                          const char *expected)
{
    decoded out;

    decode_all_ways(provider, 0, input, strlen(input), &out);
    if (strcmp(out.transcript, expected) != 0)
        fail_msg("events differ:\n--- expected\n%s--- got\n%s", expected, out.transcript);
    if (out.status != status)
        fail_msg("status %d (%s), expected %d", out.status, out.error, status);
    assert_int_equal(out.done, done);
    decoded_free(&out);
}

/* Decodes whole input only (for failing streams where the point is the error). */
static void decode_once(acn_provider provider, size_t max, const char *input, decoded *out)
{
    decode_pieces(provider, max, input, strlen(input), 0, strlen(input), out);
}

/* ---- fixtures ---- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data;
    long size;

    if (f == NULL)
        fail_msg("cannot open %s (run from the repository root)", path);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)size + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
    data[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return data;
}

#define MAX_CALLS 16

typedef struct call {
    acn_buf id;
    acn_buf name;
    acn_buf args;
    int index;
    int server;
    int ended;
} call;

/* The fixture fields, reduced from the events the way the README describes. */
typedef struct summary {
    acn_buf text;
    acn_buf thinking;
    acn_buf message_id;
    acn_buf model;
    acn_buf provider_stop;
    int has_stop;
    acn_stop_reason stop;
    long long usage[4]; /* input, output, cache read, cache write; -1 never sent */
    call calls[MAX_CALLS];
    int ncalls;
    int errors;
    int started;
} summary;

static call *find_call(summary *s, int index)
{
    int i;

    for (i = 0; i < s->ncalls; i++) {
        if (s->calls[i].index == index && !s->calls[i].ended)
            return &s->calls[i];
    }
    return NULL;
}

static int summarize(void *ctx, const acn_event *e)
{
    summary *s = ctx;
    call *c;
    int i;

    switch (e->type) {
    case ACN_EVENT_MESSAGE_START:
        assert_int_equal(s->started, 0); /* once per stream */
        s->started = 1;
        acn_buf_append(&s->message_id, e->id, e->id_len);
        acn_buf_append(&s->model, e->name, e->name_len);
        break;
    case ACN_EVENT_TEXT_DELTA: acn_buf_append(&s->text, e->text, e->text_len); break;
    case ACN_EVENT_THINKING_DELTA: acn_buf_append(&s->thinking, e->text, e->text_len); break;
    case ACN_EVENT_TOOL_CALL_START:
        assert_true(s->ncalls < MAX_CALLS);
        c = &s->calls[s->ncalls++];
        acn_buf_init(&c->id, 1 << 20);
        acn_buf_init(&c->name, 1 << 20);
        acn_buf_init(&c->args, 1 << 20);
        acn_buf_append(&c->id, e->id, e->id_len);
        acn_buf_append(&c->name, e->name, e->name_len);
        c->index = e->index;
        c->server = e->server_tool;
        break;
    case ACN_EVENT_TOOL_ARGS_DELTA:
        c = find_call(s, e->index);
        assert_non_null(c);
        acn_buf_append(&c->args, e->text, e->text_len);
        break;
    case ACN_EVENT_TOOL_CALL_END:
        c = find_call(s, e->index);
        assert_non_null(c);
        c->ended = 1;
        break;
    case ACN_EVENT_USAGE:
        for (i = 0; i < 4; i++) {
            long long v = i == 0   ? e->input_tokens
                          : i == 1 ? e->output_tokens
                          : i == 2 ? e->cache_read_tokens
                                   : e->cache_write_tokens;
            if (v >= 0)
                s->usage[i] = v;
        }
        break;
    case ACN_EVENT_STOP:
        assert_int_not_equal(e->stop_reason, ACN_STOP_NONE);
        s->has_stop = 1;
        s->stop = e->stop_reason;
        acn_buf_clear(&s->provider_stop);
        acn_buf_append(&s->provider_stop, e->text, e->text_len);
        break;
    case ACN_EVENT_ERROR: s->errors++; break;
    default: break;
    }
    return 0;
}

static int json_equal(yajl_val a, yajl_val b)
{
    size_t i;
    size_t j;

    if (YAJL_IS_NUMBER(a) && YAJL_IS_NUMBER(b))
        return fabs(YAJL_GET_DOUBLE(a) - YAJL_GET_DOUBLE(b)) < 1e-9;
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case yajl_t_string: return strcmp(a->u.string, b->u.string) == 0;
    case yajl_t_array:
        if (a->u.array.len != b->u.array.len)
            return 0;
        for (i = 0; i < a->u.array.len; i++) {
            if (!json_equal(a->u.array.values[i], b->u.array.values[i]))
                return 0;
        }
        return 1;
    case yajl_t_object:
        if (a->u.object.len != b->u.object.len)
            return 0;
        for (i = 0; i < a->u.object.len; i++) {
            int found = 0;

            for (j = 0; j < b->u.object.len && !found; j++) {
                if (strcmp(a->u.object.keys[i], b->u.object.keys[j]) == 0)
                    found = json_equal(a->u.object.values[i], b->u.object.values[j]);
            }
            if (!found)
                return 0;
        }
        return 1;
    default: return 1; /* true, false, null: the type said it all */
    }
}

static yajl_val field(yajl_val object, const char *name)
{
    const char *path[2] = {name, NULL};
    yajl_val v = yajl_tree_get(object, path, yajl_t_any);

    if (v == NULL)
        fail_msg("expected.json has no \"%s\"", name);
    return v;
}

static void expect_text(const char *what, yajl_val v, const acn_buf *got, int got_set)
{
    const char *have = got->ptr != NULL ? got->ptr : "";

    if (YAJL_IS_NULL(v)) {
        if (got_set)
            fail_msg("%s: expected null, got \"%s\"", what, have);
        return;
    }
    if (!got_set || strcmp(YAJL_GET_STRING(v), have) != 0)
        fail_msg("%s: expected \"%s\", got \"%s\"%s", what, YAJL_GET_STRING(v), have,
                 got_set ? "" : " (not sent)");
}

static void expect_count(const char *what, yajl_val usage, const char *name, long long got, int optional)
{
    const char *path[2] = {name, NULL};
    yajl_val v = yajl_tree_get(usage, path, yajl_t_number);

    if (v == NULL) {
        if (!optional)
            fail_msg("expected.json usage has no %s", name);
        if (got >= 0)
            fail_msg("%s: %s was reported (%lld) but the fixture expects it absent", what, name, got);
        return;
    }
    if (got < 0 && optional)
        fail_msg("%s: %s expected %lld, never reported", what, name, YAJL_GET_INTEGER(v));
    if ((got < 0 ? 0 : got) != YAJL_GET_INTEGER(v))
        fail_msg("%s: %s expected %lld, got %lld", what, name, YAJL_GET_INTEGER(v), got);
}

/* Decodes spec/fixtures/<provider>/<name>.sse every way and checks it against
 * <name>.expected.json. */
static void check_fixture(acn_provider provider, const char *name)
{
    char path[512];
    char errbuf[256];
    size_t len;
    size_t expected_len;
    char *input;
    char *expected_text;
    yajl_val expected;
    yajl_val failure;
    yajl_val calls;
    summary s;
    acn_decoder d;
    decoded whole;
    const char *kind = NULL;
    acn_status status;
    int i;
    int n = 0;

    snprintf(path, sizeof path, FIXTURE_DIR "/%s/%s.sse", acn_provider_name(provider), name);
    input = read_file(path, &len);
    snprintf(path, sizeof path, FIXTURE_DIR "/%s/%s.expected.json", acn_provider_name(provider), name);
    expected_text = read_file(path, &expected_len);
    expected = yajl_tree_parse(expected_text, errbuf, sizeof errbuf);
    if (expected == NULL)
        fail_msg("%s: %s", path, errbuf);

    decode_all_ways(provider, 0, input, len, &whole);
    if (whole.status != ACN_OK)
        fail_msg("%s: status %d: %s", name, whole.status, whole.error);
    decoded_free(&whole);

    memset(&s, 0, sizeof s);
    acn_buf_init(&s.text, 1 << 24);
    acn_buf_init(&s.thinking, 1 << 24);
    acn_buf_init(&s.message_id, 1 << 16);
    acn_buf_init(&s.model, 1 << 16);
    acn_buf_init(&s.provider_stop, 1 << 16);
    for (i = 0; i < 4; i++)
        s.usage[i] = -1;
    assert_int_equal(acn_decoder_init(&d, provider, 0, summarize, &s), ACN_OK);
    status = acn_decoder_feed(&d, input, len);
    if (status == ACN_OK)
        status = acn_decoder_finish(&d);
    assert_int_equal(status, ACN_OK);

    failure = field(expected, "failure");
    if (YAJL_IS_OBJECT(failure)) {
        const char *kind_path[2] = {"kind", NULL};

        kind = YAJL_GET_STRING(yajl_tree_get(failure, kind_path, yajl_t_string));
    }
    if (kind == NULL) {
        if (!acn_decoder_done(&d) || s.errors > 0)
            fail_msg("%s: a complete stream was expected (done %d, errors %d)", name, acn_decoder_done(&d),
                     s.errors);
    } else if (strcmp(kind, "connection_lost") == 0) {
        if (acn_decoder_done(&d) || s.errors > 0)
            fail_msg("%s: the stream should end without its terminal event", name);
    } else if (strcmp(kind, "refusal") == 0) {
        assert_true(acn_decoder_done(&d));
        assert_int_equal(s.stop, ACN_STOP_REFUSAL);
        assert_int_equal(s.text.len, 0);
    } else if (s.errors != 1) {
        fail_msg("%s: expected one error event for failure %s, got %d", name, kind, s.errors);
    }

    expect_text("text", field(expected, "text"), &s.text, 1);
    expect_text("thinking", field(expected, "thinking"), &s.thinking, 1);
    expect_text("message_id", field(expected, "message_id"), &s.message_id, s.started);
    expect_text("model", field(expected, "model"), &s.model, s.started);
    expect_text("provider_stop_reason", field(expected, "provider_stop_reason"), &s.provider_stop,
                s.has_stop);
    if (YAJL_IS_NULL(field(expected, "stop_reason"))) {
        assert_int_equal(s.has_stop, 0);
    } else if (strcmp(YAJL_GET_STRING(field(expected, "stop_reason")), stop_name(s.stop)) != 0) {
        fail_msg("%s: stop_reason expected %s, got %s", name, YAJL_GET_STRING(field(expected, "stop_reason")),
                 stop_name(s.stop));
    }
    expect_count(name, field(expected, "usage"), "input_tokens", s.usage[0], 0);
    expect_count(name, field(expected, "usage"), "output_tokens", s.usage[1], 0);
    expect_count(name, field(expected, "usage"), "cache_read_tokens", s.usage[2], 1);
    expect_count(name, field(expected, "usage"), "cache_write_tokens", s.usage[3], 1);

    calls = field(expected, "tool_calls");
    for (i = 0; i < s.ncalls; i++) {
        call *c = &s.calls[i];
        yajl_val want;
        yajl_val args;
        const char *id_path[2] = {"id", NULL};
        const char *name_path[2] = {"name", NULL};
        const char *args_path[2] = {"arguments", NULL};
        const char *server_path[2] = {"server", NULL};

        if (c->ended) {
            if ((size_t)n >= calls->u.array.len)
                fail_msg("%s: more tool calls than expected", name);
            want = calls->u.array.values[n++];
            assert_string_equal(c->id.ptr, YAJL_GET_STRING(yajl_tree_get(want, id_path, yajl_t_string)));
            assert_string_equal(c->name.ptr, YAJL_GET_STRING(yajl_tree_get(want, name_path, yajl_t_string)));
            assert_int_equal(c->server, YAJL_IS_TRUE(yajl_tree_get(want, server_path, yajl_t_any)));
            args = yajl_tree_parse(c->args.len > 0 ? c->args.ptr : "{}", errbuf, sizeof errbuf);
            if (args == NULL)
                fail_msg("%s: tool call %s arguments are not JSON: %s", name, c->id.ptr, c->args.ptr);
            if (!json_equal(args, yajl_tree_get(want, args_path, yajl_t_any)))
                fail_msg("%s: tool call %s arguments differ: %s", name, c->id.ptr, c->args.ptr);
            yajl_tree_free(args);
        }
        acn_buf_free(&c->id);
        acn_buf_free(&c->name);
        acn_buf_free(&c->args);
    }
    if ((size_t)n != calls->u.array.len)
        fail_msg("%s: %d tool calls ended, expected %zu", name, n, calls->u.array.len);

    acn_decoder_free(&d);
    acn_buf_free(&s.text);
    acn_buf_free(&s.thinking);
    acn_buf_free(&s.message_id);
    acn_buf_free(&s.model);
    acn_buf_free(&s.provider_stop);
    yajl_tree_free(expected);
    free(input);
    free(expected_text);
}

/* One cmocka test per fixture stream: FIXTURE_TEST(text) checks spec/fixtures/<P>/text.sse
 * against its expected.json, P being the including file's provider. */
#define FIXTURE_TEST(name)                                                                                   \
    static void fixture_##name(void **state)                                                                 \
    {                                                                                                        \
        (void)state;                                                                                         \
        check_fixture(P, #name);                                                                             \
    }

#endif
