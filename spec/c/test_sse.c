/*
 * test_sse.c: the SSE parser against the WHATWG event stream interpretation rules.
 * Every case is fed whole, split at every byte position, and one byte at a time,
 * and must give the same events each way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

/* Events are recorded as one readable transcript: "type|data|id|retry\n" each. */
typedef struct transcript {
    acn_buf text;
    int events;
    int stop_after; /* abort after this many events; 0 never */
} transcript;

static void append_escaped(acn_buf *out, const char *s, size_t len)
{
    size_t i;
    char hex[8];

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '\n') {
            acn_buf_append(out, "\\n", 2);
        } else if (c == '\r') {
            acn_buf_append(out, "\\r", 2);
        } else if (c < 0x20 || c == '|') {
            snprintf(hex, sizeof hex, "\\x%02x", c);
            acn_buf_append(out, hex, strlen(hex));
        } else {
            acn_buf_push(out, (char)c);
        }
    }
}

static int record(void *ctx, const acn_sse_event *event)
{
    transcript *t = ctx;
    char retry[32];

    append_escaped(&t->text, event->type, event->type_len);
    acn_buf_push(&t->text, '|');
    append_escaped(&t->text, event->data, event->data_len);
    acn_buf_push(&t->text, '|');
    append_escaped(&t->text, event->id, event->id_len);
    snprintf(retry, sizeof retry, "|%lld\n", event->retry);
    acn_buf_append(&t->text, retry, strlen(retry));
    t->events++;
    return t->stop_after && t->events >= t->stop_after;
}

/* Feeds `input` in pieces cut at the given positions; returns the transcript. */
static char *parse_split(const char *input, size_t len, const size_t *cuts, size_t ncuts,
                         acn_status *status_out)
{
    acn_sse_parser parser;
    transcript t = {0};
    size_t start = 0;
    size_t i;
    acn_status status = ACN_OK;
    char *result;

    acn_buf_init(&t.text, 1 << 20);
    acn_sse_init(&parser, 0, record, &t);
    for (i = 0; i <= ncuts && status == ACN_OK; i++) {
        size_t end = i < ncuts ? cuts[i] : len;

        status = acn_sse_feed(&parser, input + start, end - start);
        start = end;
    }
    if (status == ACN_OK)
        status = acn_sse_finish(&parser);
    acn_sse_free(&parser);
    if (status_out)
        *status_out = status;
    acn_buf_push(&t.text, '\0');
    result = strdup(t.text.ptr);
    acn_buf_free(&t.text);
    return result;
}

/* Whole, every two-piece split, and one byte at a time must all give `expected`. */
static void check_stream_len(const char *input, size_t len, const char *expected)
{
    char *got = parse_split(input, len, NULL, 0, NULL);
    size_t cut;

    assert_string_equal(got, expected);
    free(got);
    for (cut = 0; cut <= len; cut++) {
        got = parse_split(input, len, &cut, 1, NULL);
        assert_string_equal(got, expected);
        free(got);
    }
    {
        size_t *cuts = malloc(sizeof(size_t) * (len + 1));

        for (cut = 0; cut < len; cut++)
            cuts[cut] = cut + 1;
        got = parse_split(input, len, cuts, len, NULL);
        assert_string_equal(got, expected);
        free(got);
        free(cuts);
    }
}

static void check_stream(const char *input, const char *expected)
{
    check_stream_len(input, strlen(input), expected);
}

static void test_simple_event_defaults_to_message(void **state)
{
    (void)state;
    check_stream("data: hello\n\n", "message|hello||-1\n");
}

static void test_event_type_and_multiline_data(void **state)
{
    (void)state;
    check_stream("event: add\ndata: a\ndata: b\n\n", "add|a\\nb||-1\n");
}

static void test_event_type_resets_after_dispatch(void **state)
{
    (void)state;
    check_stream("event: one\ndata: 1\n\ndata: 2\n\n", "one|1||-1\nmessage|2||-1\n");
}

static void test_all_line_endings(void **state)
{
    (void)state;
    check_stream("data: lf\n\ndata: cr\r\rdata: crlf\r\n\r\n",
                 "message|lf||-1\nmessage|cr||-1\nmessage|crlf||-1\n");
    /* CR then LF across the boundary is one line end, never an empty line. */
    check_stream("data: a\r\ndata: b\r\n\r\n", "message|a\\nb||-1\n");
}

static void test_leading_bom_stripped_once(void **state)
{
    (void)state;
    check_stream("\xEF\xBB\xBF"
                 "data: x\n\n",
                 "message|x||-1\n");
    /* A second BOM is not stripped: it makes the field name "\xEF\xBB\xBF" "data", ignored. */
    check_stream("\xEF\xBB\xBF\xEF\xBB\xBF"
                 "data: x\n\ndata: y\n\n",
                 "message|y||-1\n");
    /* Bytes that only start like a BOM are ordinary input. */
    check_stream("\xEF\xBB"
                 "data: z\n\ndata: w\n\n",
                 "message|w||-1\n");
}

static void test_comments_ignored(void **state)
{
    (void)state;
    check_stream(": ping\ndata: a\n: another\n\n:\n\n", "message|a||-1\n");
}

static void test_field_without_colon(void **state)
{
    (void)state;
    /* "data" alone appends an empty line; two of them give one LF. */
    check_stream("data\ndata\n\n", "message|\\n||-1\n");
    check_stream("data\n\n", "message|||-1\n");
}

static void test_only_one_leading_space_removed(void **state)
{
    (void)state;
    check_stream("data:  two\ndata:none\n\n", "message| two\\nnone||-1\n");
}

/* WHATWG: only CR, LF and CRLF end a line, and only a space after the colon is
 * dropped: a form feed, vertical tab or tab is data wherever it stands. */
static void test_a_form_feed_is_data_not_a_line_end_or_a_space(void **state)
{
    (void)state;
    check_stream("data:\fa\n\n", "message|\\x0ca||-1\n");
    check_stream("data: a\fdata: b\n\n", "message|a\\x0cdata: b||-1\n");
    check_stream("data:\tc\ndata:\vd\n\n", "message|\\x09c\\n\\x0bd||-1\n");
    check_stream("event:\fping\ndata: e\n\n", "\\x0cping|e||-1\n");
}

static void test_empty_data_dispatches_nothing(void **state)
{
    (void)state;
    check_stream("event: x\n\ndata: y\n\n", "message|y||-1\n");
}

static void test_id_persists_and_nul_ignored(void **state)
{
    static const char input[] = "id: 1\ndata: a\n\ndata: b\n\nid: 2\0x\ndata: c\n\nid\ndata: d\n\n";

    (void)state;
    check_stream_len(input, sizeof input - 1,
                     "message|a|1|-1\nmessage|b|1|-1\nmessage|c|1|-1\nmessage|d||-1\n");
}

static void test_retry_digits_only(void **state)
{
    (void)state;
    check_stream("retry: 1500\ndata: a\n\nretry: 15x\ndata: b\n\nretry:\ndata: c\n\nretry: "
                 "99999999999999999999999\ndata: d\n\n",
                 "message|a||1500\nmessage|b||1500\nmessage|c||1500\nmessage|d||9223372036854775807\n");
}

static void test_unknown_fields_ignored(void **state)
{
    (void)state;
    check_stream("foo: bar\ndata: a\nDATA: b\n\n", "message|a||-1\n");
}

static void test_unterminated_event_discarded(void **state)
{
    (void)state;
    check_stream("data: a\n\ndata: b\n", "message|a||-1\n");
    check_stream("data: a\n\ndata: b", "message|a||-1\n");
}

static void test_data_may_contain_nul(void **state)
{
    static const char input[] = "data: a\0b\n\n";

    (void)state;
    check_stream_len(input, sizeof input - 1, "message|a\\x00b||-1\n");
}

static void test_line_over_bound_is_an_error(void **state)
{
    acn_sse_parser parser;
    transcript t = {0};
    char big[100];

    (void)state;
    memset(big, 'x', sizeof big);
    acn_buf_init(&t.text, 4096);
    acn_sse_init(&parser, 32, record, &t);
    assert_int_equal(acn_sse_feed(&parser, "data: ", 6), ACN_OK);
    assert_int_equal(acn_sse_feed(&parser, big, sizeof big), ACN_ERR_LIMIT);
    /* Once failed, it stays failed: no half-parsed state is ever reused. */
    assert_int_equal(acn_sse_feed(&parser, "\n\n", 2), ACN_ERR_LIMIT);
    assert_int_equal(t.events, 0);
    acn_sse_free(&parser);
    acn_buf_free(&t.text);
}

static void test_event_over_bound_is_an_error(void **state)
{
    acn_sse_parser parser;
    transcript t = {0};
    int i;
    acn_status status = ACN_OK;

    (void)state;
    acn_buf_init(&t.text, 4096);
    acn_sse_init(&parser, 64, record, &t);
    for (i = 0; i < 20 && status == ACN_OK; i++)
        status = acn_sse_feed(&parser, "data: 0123456789\n", 17);
    assert_int_equal(status, ACN_ERR_LIMIT);
    acn_sse_free(&parser);
    acn_buf_free(&t.text);
}

static void test_callback_can_stop_the_parser(void **state)
{
    acn_sse_parser parser;
    transcript t = {0};

    (void)state;
    t.stop_after = 1;
    acn_buf_init(&t.text, 4096);
    acn_sse_init(&parser, 0, record, &t);
    assert_int_equal(acn_sse_feed(&parser, "data: 1\n\ndata: 2\n\n", 18), ACN_ERR_ABORTED);
    assert_int_equal(t.events, 1);
    acn_sse_free(&parser);
    acn_buf_free(&t.text);
}

static void test_large_stream_one_byte_at_a_time(void **state)
{
    /* 10,000 events fed bytewise: the same count as fed whole. */
    static const char event[] = "event: content_block_delta\r\ndata: {\"text\":\"hi\"}\r\n\r\n";
    acn_buf input;
    acn_sse_parser parser;
    transcript t = {0};
    size_t i;
    int n;

    (void)state;
    acn_buf_init(&input, 1 << 22);
    for (n = 0; n < 10000; n++)
        acn_buf_append(&input, event, strlen(event));
    acn_buf_init(&t.text, 1 << 22);
    acn_sse_init(&parser, 0, record, &t);
    for (i = 0; i < input.len; i++)
        assert_int_equal(acn_sse_feed(&parser, input.ptr + i, 1), ACN_OK);
    assert_int_equal(t.events, 10000);
    acn_sse_free(&parser);
    acn_buf_free(&t.text);
    acn_buf_free(&input);
}

/* Feeds `input` in chunks of `step` bytes into a parser bounded by `max`; returns the
 * first status that is not ACN_OK (or ACN_OK), and checks the budget held at every step. */
static acn_status feed_bounded(const char *input, size_t len, size_t step, size_t max, transcript *t)
{
    acn_sse_parser parser;
    acn_status status = ACN_OK;
    size_t off;

    acn_sse_init(&parser, max, record, t);
    for (off = 0; off < len && status == ACN_OK; off += step) {
        status = acn_sse_feed(&parser, input + off, len - off < step ? len - off : step);
        assert_true(parser.own_budget.used <= max);
        assert_int_equal(parser.own_budget.used,
                         parser.line.cap + parser.data.cap + parser.event_type.cap + parser.last_id.cap);
    }
    acn_sse_free(&parser);
    assert_int_equal(parser.own_budget.used, 0);
    return status;
}

static void test_line_data_type_and_id_share_one_budget(void **state)
{
    char input[2048];
    size_t len;
    size_t head;
    int i;
    transcript t = {0};

    (void)state;
    acn_buf_init(&t.text, 1 << 16);
    /* 200-byte id and type, then 90-byte data lines: about 820 bytes of data fit a
     * data buffer bounded by 1024 alone, but not beside the id and the type. */
    head = (size_t)snprintf(input, sizeof input, "id: %0200d\nevent: %0200d\n", 0, 0);
    len = head;
    for (i = 0; i < 9; i++)
        len += (size_t)snprintf(input + len, sizeof input - len, "data: %090d\n", i);
    len += (size_t)snprintf(input + len, sizeof input - len, "\n");
    assert_int_equal(feed_bounded(input, len, len, 1024, &t), ACN_ERR_LIMIT);
    assert_int_equal(t.events, 0);
    /* Split into small chunks the line buffer counts too: still refused. */
    assert_int_equal(feed_bounded(input, len, 7, 1024, &t), ACN_ERR_LIMIT);
    /* Without the id and the type the same data fits. */
    assert_int_equal(feed_bounded(input + head, len - head, 7, 1024, &t), ACN_OK);
    assert_int_equal(t.events, 1);
    acn_buf_free(&t.text);
}

static void test_an_event_type_over_the_cap_is_malformed(void **state)
{
    char input[700];
    transcript t = {0};
    size_t len;

    (void)state;
    acn_buf_init(&t.text, 1 << 16);
    len = (size_t)snprintf(input, sizeof input, "event: %0256d\ndata: 1\n\n", 0);
    assert_int_equal(feed_bounded(input, len, 5, ACN_DEFAULT_MAX_EVENT_BYTES, &t), ACN_OK);
    assert_int_equal(t.events, 1);
    len = (size_t)snprintf(input, sizeof input, "event: %0257d\ndata: 1\n\n", 0);
    assert_int_equal(feed_bounded(input, len, 5, ACN_DEFAULT_MAX_EVENT_BYTES, &t), ACN_ERR_MALFORMED);
    assert_int_equal(t.events, 1);
    acn_buf_free(&t.text);
}

static void test_an_id_over_the_cap_is_ignored_and_the_last_id_stays(void **state)
{
    char input[700];
    char expected[700];

    (void)state;
    snprintf(input, sizeof input, "id: a\ndata: 1\n\nid: %0257d\ndata: 2\n\nid: %0256d\ndata: 3\n\n", 0, 0);
    snprintf(expected, sizeof expected, "message|1|a|-1\nmessage|2|a|-1\nmessage|3|%0256d|-1\n", 0);
    check_stream(input, expected);
}

static void test_a_huge_event_line_without_end_stops_at_the_budget(void **state)
{
    static char chunk[4096];
    acn_sse_parser parser;
    transcript t = {0};
    acn_status status;
    int i;

    (void)state;
    memset(chunk, 'x', sizeof chunk);
    acn_buf_init(&t.text, 4096);
    acn_sse_init(&parser, 64 * 1024, record, &t);
    status = acn_sse_feed(&parser, "event: ", 7);
    for (i = 0; i < 100 && status == ACN_OK; i++)
        status = acn_sse_feed(&parser, chunk, sizeof chunk);
    assert_int_equal(status, ACN_ERR_LIMIT);
    assert_true(i <= 17);
    assert_true(parser.own_budget.used <= 64 * 1024);
    acn_sse_free(&parser);
    acn_buf_free(&t.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_event_defaults_to_message),
        cmocka_unit_test(test_event_type_and_multiline_data),
        cmocka_unit_test(test_event_type_resets_after_dispatch),
        cmocka_unit_test(test_all_line_endings),
        cmocka_unit_test(test_leading_bom_stripped_once),
        cmocka_unit_test(test_comments_ignored),
        cmocka_unit_test(test_field_without_colon),
        cmocka_unit_test(test_only_one_leading_space_removed),
        cmocka_unit_test(test_a_form_feed_is_data_not_a_line_end_or_a_space),
        cmocka_unit_test(test_empty_data_dispatches_nothing),
        cmocka_unit_test(test_id_persists_and_nul_ignored),
        cmocka_unit_test(test_retry_digits_only),
        cmocka_unit_test(test_unknown_fields_ignored),
        cmocka_unit_test(test_unterminated_event_discarded),
        cmocka_unit_test(test_data_may_contain_nul),
        cmocka_unit_test(test_line_over_bound_is_an_error),
        cmocka_unit_test(test_event_over_bound_is_an_error),
        cmocka_unit_test(test_callback_can_stop_the_parser),
        cmocka_unit_test(test_large_stream_one_byte_at_a_time),
        cmocka_unit_test(test_line_data_type_and_id_share_one_budget),
        cmocka_unit_test(test_an_event_type_over_the_cap_is_malformed),
        cmocka_unit_test(test_an_id_over_the_cap_is_ignored_and_the_last_id_stays),
        cmocka_unit_test(test_a_huge_event_line_without_end_stops_at_the_budget),
    };

    return cmocka_run_group_tests_name("sse", tests, NULL, NULL);
}
