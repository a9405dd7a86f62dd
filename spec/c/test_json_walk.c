/*
 * test_json_walk.c: the path-tracking layer over yajl's callback parser: paths,
 * array positions, skipping, capture as compact JSON, bounds, and reuse of one walk
 * across documents and after errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_walk.h"

/* What the listener saw, one line per callback. */
typedef struct seen {
    acn_buf log;
    const char *capture_at; /* on_open captures the container at this path */
    const char *skip_at;    /* on_open skips the container at this path */
    const char *watch;      /* on_scalar logs "HIT" when the path matches */
    int stop_on_scalar;
} seen;

static void logf_(seen *s, const char *format, ...)
{
    char line[512];
    va_list args;
    int n;

    va_start(args, format);
    n = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    acn_buf_append(&s->log, line, (size_t)n);
}

static int on_scalar(void *ctx, const acn_json_walk *w, acn_json_kind kind, const char *text, size_t len)
{
    seen *s = ctx;
    static const char *const kinds[] = {"string", "number", "true", "false", "null"};

    logf_(s, "%s depth=%zu %.*s%s\n", kinds[kind], acn_json_walk_depth(w), (int)len, text != NULL ? text : "",
          s->watch != NULL && acn_json_walk_at(w, s->watch) ? " HIT" : "");
    return s->stop_on_scalar;
}

static int on_open(void *ctx, const acn_json_walk *w, int is_array)
{
    seen *s = ctx;

    logf_(s, "open %s depth=%zu\n", is_array ? "array" : "map", acn_json_walk_depth(w));
    if (s->capture_at != NULL && acn_json_walk_at(w, s->capture_at))
        return ACN_JSON_CAPTURE;
    if (s->skip_at != NULL && acn_json_walk_at(w, s->skip_at))
        return ACN_JSON_SKIP;
    return ACN_JSON_DESCEND;
}

static int on_close(void *ctx, const acn_json_walk *w, int is_array)
{
    seen *s = ctx;

    logf_(s, "close %s depth=%zu\n", is_array ? "array" : "map", acn_json_walk_depth(w));
    return 0;
}

static int on_capture(void *ctx, const acn_json_walk *w, const char *json, size_t len)
{
    seen *s = ctx;

    (void)w;
    logf_(s, "capture %.*s\n", (int)len, json);
    return 0;
}

static const acn_json_listener listener = {on_scalar, on_open, on_close, on_capture};

static acn_status walk_once(acn_json_walk *w, seen *s, const char *json)
{
    acn_buf_clear(&s->log);
    return acn_json_walk_parse(w, json, strlen(json), &listener, s);
}

static void setup_seen(seen *s)
{
    memset(s, 0, sizeof *s);
    acn_buf_init(&s->log, 1 << 20);
}

static void reports_scalars_with_their_paths(void **state)
{
    acn_json_walk w;
    seen s;

    (void)state;
    setup_seen(&s);
    acn_json_walk_init(&w, 1 << 16);
    s.watch = "a.b[].c";
    assert_int_equal(
        walk_once(&w, &s, "{\"a\": {\"b\": [{\"c\": 1}, {\"c\": \"x\\u00e9\", \"d\": null}]}, \"c\": true}"),
        ACN_OK);
    assert_string_equal(s.log.ptr, "open map depth=0\n"
                                   "open map depth=1\n"
                                   "open array depth=2\n"
                                   "open map depth=3\n"
                                   "number depth=4 1 HIT\n"
                                   "close map depth=3\n"
                                   "open map depth=3\n"
                                   "string depth=4 x\xc3\xa9 HIT\n"
                                   "null depth=4 \n"
                                   "close map depth=3\n"
                                   "close array depth=2\n"
                                   "close map depth=1\n"
                                   "true depth=1 \n"
                                   "close map depth=0\n");
    acn_json_walk_free(&w);
    acn_buf_free(&s.log);
}

static int index_probe(void *ctx, const acn_json_walk *w, acn_json_kind kind, const char *text, size_t len)
{
    seen *s = ctx;

    (void)kind;
    logf_(s, "%.*s@%ld,%ld ", (int)len, text, acn_json_walk_index(w, 0), acn_json_walk_index(w, 1));
    return 0;
}

static void reports_array_positions(void **state)
{
    static const acn_json_listener probe = {index_probe, NULL, NULL, NULL};
    acn_json_walk w;
    seen s;
    static const char json[] = "[[\"a\", \"b\"], {\"k\": \"c\"}, \"d\"]";

    (void)state;
    setup_seen(&s);
    acn_json_walk_init(&w, 1 << 16);
    assert_int_equal(acn_json_walk_parse(&w, json, strlen(json), &probe, &s), ACN_OK);
    assert_string_equal(s.log.ptr, "a@0,0 b@0,1 c@1,-1 d@2,-1 ");
    acn_json_walk_free(&w);
    acn_buf_free(&s.log);
}

static void path_matching_is_exact(void **state)
{
    acn_json_walk w;
    seen s;

    (void)state;
    setup_seen(&s);
    acn_json_walk_init(&w, 1 << 16);
    s.watch = "ab";
    assert_int_equal(walk_once(&w, &s, "{\"a\": 1, \"abc\": 2, \"ab\": 3, \"x\": {\"ab\": 4}, \"y\": [5]}"),
                     ACN_OK);
    assert_non_null(strstr(s.log.ptr, "number depth=1 3 HIT\n"));
    assert_null(strstr(s.log.ptr, "1 HIT"));
    assert_null(strstr(s.log.ptr, "2 HIT"));
    assert_null(strstr(s.log.ptr, "4 HIT"));
    s.watch = "y[]";
    assert_int_equal(walk_once(&w, &s, "{\"y\": [5], \"y2\": [6], \"z\": {\"y\": [7]}}"), ACN_OK);
    assert_non_null(strstr(s.log.ptr, "5 HIT"));
    assert_null(strstr(s.log.ptr, "6 HIT"));
    assert_null(strstr(s.log.ptr, "7 HIT"));
    s.watch = "";
    assert_int_equal(walk_once(&w, &s, "42"), ACN_OK);
    assert_string_equal(s.log.ptr, "number depth=0 42 HIT\n");
    acn_json_walk_free(&w);
    acn_buf_free(&s.log);
}

static void captures_a_container_as_compact_json(void **state)
{
    acn_json_walk w;
    seen s;

    (void)state;
    setup_seen(&s);
    acn_json_walk_init(&w, 1 << 16);
    s.capture_at = "args";
    assert_int_equal(
        walk_once(&w, &s,
                  "{\"args\": { \"s\": \"\\u00e9\\n\\\"\", \"n\": [1, -2.50e+3, true, false, null], "
                  "\"o\": {} }, \"after\": 1}"),
        ACN_OK);
    assert_string_equal(s.log.ptr,
                        "open map depth=0\n"
                        "open map depth=1\n"
                        "capture {\"s\":\"\xc3\xa9\\n\\\"\",\"n\":[1,-2.50e+3,true,false,null],\"o\":{}}\n"
                        "number depth=1 1\n"
                        "close map depth=0\n");
    /* a second capture in the next document starts clean */
    assert_int_equal(walk_once(&w, &s, "{\"args\": []}"), ACN_OK);
    assert_non_null(strstr(s.log.ptr, "capture []\n"));
    acn_json_walk_free(&w);
    acn_buf_free(&s.log);
}

static void capture_is_bounded(void **state)
{
    acn_json_walk w;
    seen s;

    (void)state;
    setup_seen(&s);
    acn_json_walk_init(&w, 16);
    s.capture_at = "args";
    assert_int_equal(walk_once(&w, &s, "{\"args\": {\"k\": \"0123456789abcdef\"}}"), ACN_ERR_LIMIT);
    assert_non_null(strstr(acn_json_walk_error(&w), "size limit"));
    assert_int_equal(walk_once(&w, &s, "{\"args\": {\"k\": 1}}"), ACN_OK);
    assert_non_null(strstr(s.log.ptr, "capture {\"k\":1}\n"));
    acn_json_walk_free(&w);
    acn_buf_free(&s.log);
}

static void skipped_containers_report_nothing(void **state)
{
    acn_json_walk w;
    seen s;

    (void)state;
    setup_seen(&s);
    acn_json_walk_init(&w, 1 << 16);
    s.skip_at = "big";
    assert_int_equal(walk_once(&w, &s, "{\"big\": [{\"a\": [1, 2, {\"b\": 3}]}], \"k\": 4}"), ACN_OK);
    assert_string_equal(s.log.ptr,
                        "open map depth=0\nopen array depth=1\nnumber depth=1 4\nclose map depth=0\n");
    /* skipped values are still validated */
    assert_int_equal(walk_once(&w, &s, "{\"big\": [tru]}"), ACN_ERR_MALFORMED);
    acn_json_walk_free(&w);
    acn_buf_free(&s.log);
}

/* {"k": [[...]]}: a map whose "k" holds arrays, `depth` levels in all. */
static char *nested(size_t depth)
{
    char *json = malloc(2 * depth + 16);
    size_t i, n = 0;

    assert_non_null(json);
    memcpy(json, "{\"k\":", 5);
    n = 5;
    for (i = 1; i < depth; i++)
        json[n++] = '[';
    for (i = 1; i < depth; i++)
        json[n++] = ']';
    json[n++] = '}';
    json[n] = '\0';
    return json;
}

static void nesting_past_the_json_depth_is_malformed_walked_skipped_or_captured(void **state)
{
    const char *how[] = {NULL, "k", "k"};
    acn_json_walk w;
    seen s;
    int i;

    (void)state;
    setup_seen(&s);
    acn_json_walk_init(&w, 1 << 16);
    for (i = 0; i < 3; i++) {
        char *ok = nested(ACN_JSON_MAX_DEPTH);
        char *deep = nested(ACN_JSON_MAX_DEPTH + 1);

        s.skip_at = i == 1 ? how[i] : NULL;
        s.capture_at = i == 2 ? how[i] : NULL;
        assert_int_equal(walk_once(&w, &s, ok), ACN_OK);
        assert_int_equal(walk_once(&w, &s, deep), ACN_ERR_MALFORMED);
        assert_non_null(strstr(acn_json_walk_error(&w), "nested deeper than 100 levels"));
        /* the walk goes on after the refusal */
        assert_int_equal(walk_once(&w, &s, ok), ACN_OK);
        free(ok);
        free(deep);
    }
    acn_json_walk_free(&w);
    acn_buf_free(&s.log);
}

static void forty_thousand_levels_behind_a_comment_are_refused_without_recursion(void **state)
{
    size_t levels = 40000, n = 0, i;
    char *json = malloc(levels * 2 + 64);
    acn_json_walk w;
    seen s;

    (void)state;
    assert_non_null(json);
    n = (size_t)sprintf(json, "{\"error\": /* \" */ ");
    for (i = 0; i < levels; i++)
        json[n++] = '[';
    for (i = 0; i < levels; i++)
        json[n++] = ']';
    json[n++] = '}';
    json[n] = '\0';
    setup_seen(&s);
    acn_json_walk_init(&w, 1 << 16);
    assert_int_equal(walk_once(&w, &s, json), ACN_ERR_MALFORMED);
    /* without the comment, the nesting bound refuses it */
    memmove(json + 10, json + 18, n - 18 + 1);
    assert_int_equal(walk_once(&w, &s, json), ACN_ERR_MALFORMED);
    assert_non_null(strstr(acn_json_walk_error(&w), "nested deeper"));
    acn_json_walk_free(&w);
    acn_buf_free(&s.log);
    free(json);
}

static void comments_are_refused(void **state)
{
    acn_json_walk w;
    seen s;

    (void)state;
    setup_seen(&s);
    acn_json_walk_init(&w, 1 << 16);
    assert_int_equal(walk_once(&w, &s, "{\"a\": 1 /* note */}"), ACN_ERR_MALFORMED);
    assert_int_equal(walk_once(&w, &s, "// note\n{\"a\": 1}"), ACN_ERR_MALFORMED);
    assert_int_equal(walk_once(&w, &s, "{\"a\": 1}"), ACN_OK);
    acn_json_walk_free(&w);
    acn_buf_free(&s.log);
}

static void deep_paths_and_long_keys_never_match(void **state)
{
    acn_json_walk w;
    seen s;
    acn_buf json;
    int i;

    (void)state;
    setup_seen(&s);
    acn_json_walk_init(&w, 1 << 16);
    acn_buf_init(&json, 1 << 16);
    for (i = 0; i < ACN_JSON_WALK_MAX_DEPTH + 4; i++)
        acn_buf_append(&json, "{\"a\":", 5);
    acn_buf_append(&json, "1", 1);
    for (i = 0; i < ACN_JSON_WALK_MAX_DEPTH + 4; i++)
        acn_buf_push(&json, '}');
    s.watch = "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a";
    assert_int_equal(walk_once(&w, &s, json.ptr), ACN_OK);
    assert_null(strstr(s.log.ptr, "HIT"));
    s.watch = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    assert_int_equal(walk_once(&w, &s, "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": 1}"), ACN_OK);
    assert_null(strstr(s.log.ptr, "HIT"));
    acn_buf_free(&json);
    acn_json_walk_free(&w);
    acn_buf_free(&s.log);
}

static void one_value_per_parse_and_reuse_after_errors(void **state)
{
    acn_json_walk w;
    seen s;

    (void)state;
    setup_seen(&s);
    acn_json_walk_init(&w, 1 << 16);
    assert_int_equal(walk_once(&w, &s, "{} {}"), ACN_ERR_MALFORMED);
    assert_non_null(strstr(acn_json_walk_error(&w), "more than one"));
    assert_int_equal(walk_once(&w, &s, "{\"a\": "), ACN_ERR_MALFORMED);
    assert_int_equal(walk_once(&w, &s, ""), ACN_ERR_MALFORMED);
    assert_int_equal(walk_once(&w, &s, "{\"a\": 1}"), ACN_OK);
    assert_int_equal(walk_once(&w, &s, "   "), ACN_ERR_MALFORMED);
    assert_int_equal(walk_once(&w, &s, "\"\xc3\""), ACN_ERR_MALFORMED);
    s.stop_on_scalar = 1;
    assert_int_equal(walk_once(&w, &s, "[1, 2]"), ACN_ERR_ABORTED);
    s.stop_on_scalar = 0;
    assert_int_equal(walk_once(&w, &s, "[1, 2]"), ACN_OK);
    assert_string_equal(s.log.ptr,
                        "open array depth=0\nnumber depth=1 1\nnumber depth=1 2\nclose array depth=0\n");
    acn_json_walk_free(&w);
    acn_buf_free(&s.log);
}

/* An unfinished token after the value must not pass, nor reach the next parse. */
static void text_after_the_value_is_malformed_and_not_carried_over(void **state)
{
    acn_json_walk w;
    seen s;

    (void)state;
    setup_seen(&s);
    acn_json_walk_init(&w, 1 << 16);
    assert_int_equal(walk_once(&w, &s, "{}\"o:rrr{"), ACN_ERR_MALFORMED);
    assert_non_null(strstr(acn_json_walk_error(&w), "after the JSON value"));
    assert_int_equal(walk_once(&w, &s, "\"abc\" 1"), ACN_ERR_MALFORMED);
    assert_int_equal(walk_once(&w, &s, "[1] \t\r\n"), ACN_OK);
    assert_int_equal(walk_once(&w, &s, "7 "), ACN_OK);
    assert_int_equal(walk_once(&w, &s, "12"), ACN_OK);
    acn_buf_clear(&s.log);
    assert_int_equal(walk_once(&w, &s, "\"x\""), ACN_OK);
    assert_string_equal(s.log.ptr, "string depth=0 x\n");
    acn_json_walk_free(&w);
    acn_buf_free(&s.log);
}

/* RFC 8259's whitespace is space, tab, LF and CR; yajl alone would also skip a form
 * feed or vertical tab, before, inside or after the value. */
static void form_feeds_and_vertical_tabs_are_not_whitespace(void **state)
{
    static const char *const texts[] = {"\f{}",  "{\f}",    "{\"a\":\f1}", "[1]\f",
                                        "\v[1]", "[1,\v2]", "\"a\fb\""};
    acn_json_walk w;
    seen s;
    size_t i;

    (void)state;
    setup_seen(&s);
    acn_json_walk_init(&w, 1 << 16);
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        acn_buf_clear(&s.log);
        assert_int_equal(walk_once(&w, &s, texts[i]), ACN_ERR_MALFORMED);
        assert_int_equal(s.log.len, 0); /* nothing reported from a text that is no JSON */
    }
    assert_int_equal(walk_once(&w, &s, " \t\r\n{\"a\":\"\\f\"} "), ACN_OK); /* the escape is fine */
    acn_json_walk_free(&w);
    acn_buf_free(&s.log);
}

static void a_moved_walk_rebuilds_its_parser(void **state)
{
    acn_json_walk *first = malloc(sizeof *first);
    acn_json_walk *second = malloc(sizeof *second);
    seen s;

    (void)state;
    setup_seen(&s);
    acn_json_walk_init(first, 1 << 16);
    assert_int_equal(walk_once(first, &s, "[1]"), ACN_OK);
    memcpy(second, first, sizeof *first);
    memset(first, 0xAA, sizeof *first);
    free(first);
    assert_int_equal(walk_once(second, &s, "[2]"), ACN_OK);
    assert_string_equal(s.log.ptr, "open array depth=0\nnumber depth=1 2\nclose array depth=0\n");
    acn_json_walk_free(second);
    free(second);
    acn_buf_free(&s.log);
}

/* yajl writes "\udc00" as bytes that are not UTF-8, "\ud800" alone as "?", and
 * pairs a high surrogate with any \u escape after it; each unpaired one is U+FFFD. */
static void unpaired_surrogate_escapes_become_the_replacement_character(void **state)
{
    acn_json_walk w;
    seen s;

    (void)state;
    setup_seen(&s);
    acn_json_walk_init(&w, 1 << 16);
    assert_int_equal(walk_once(&w, &s,
                               "[\"a\\udc00b\", \"\\ud800\", \"\\uD800\\u0041\", \"\\ud83d\\ude00?\", "
                               "\"\\\\ud800\\\"\", \"x\\\\\\\\\\udfff\"]"),
                     ACN_OK);
    assert_string_equal(s.log.ptr, "open array depth=0\n"
                                   "string depth=1 a\xef\xbf\xbd"
                                   "b\n"
                                   "string depth=1 \xef\xbf\xbd\n"
                                   "string depth=1 \xef\xbf\xbd"
                                   "A\n"
                                   "string depth=1 \xf0\x9f\x98\x80?\n"
                                   "string depth=1 \\ud800\"\n"
                                   "string depth=1 x\\\\\xef\xbf\xbd\n"
                                   "close array depth=0\n");
    /* captured values and keys are decoded the same way */
    s.capture_at = "c";
    assert_int_equal(walk_once(&w, &s, "{\"c\": {\"k\\udc00\": \"v\\ud800\"}}"), ACN_OK);
    assert_non_null(strstr(s.log.ptr, "capture {\"k\xef\xbf\xbd\":\"v\xef\xbf\xbd\"}\n"));
    acn_json_walk_free(&w);
    acn_buf_free(&s.log);
}

static void integers_parse_strictly(void **state)
{
    long long v = 0;

    (void)state;
    assert_int_equal(acn_json_integer("0", 1, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(acn_json_integer("-42", 3, &v), 0);
    assert_int_equal(v, -42);
    assert_int_equal(acn_json_integer("9223372036854775807", 19, &v), 0);
    assert_true(v == LLONG_MAX);
    assert_int_equal(acn_json_integer("9223372036854775808", 19, &v), -1);
    assert_int_equal(acn_json_integer("1.0", 3, &v), -1);
    assert_int_equal(acn_json_integer("1e3", 3, &v), -1);
    assert_int_equal(acn_json_integer("-", 1, &v), -1);
    assert_int_equal(acn_json_integer("", 0, &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reports_scalars_with_their_paths),
        cmocka_unit_test(reports_array_positions),
        cmocka_unit_test(path_matching_is_exact),
        cmocka_unit_test(captures_a_container_as_compact_json),
        cmocka_unit_test(capture_is_bounded),
        cmocka_unit_test(skipped_containers_report_nothing),
        cmocka_unit_test(nesting_past_the_json_depth_is_malformed_walked_skipped_or_captured),
        cmocka_unit_test(forty_thousand_levels_behind_a_comment_are_refused_without_recursion),
        cmocka_unit_test(comments_are_refused),
        cmocka_unit_test(deep_paths_and_long_keys_never_match),
        cmocka_unit_test(one_value_per_parse_and_reuse_after_errors),
        cmocka_unit_test(text_after_the_value_is_malformed_and_not_carried_over),
        cmocka_unit_test(form_feeds_and_vertical_tabs_are_not_whitespace),
        cmocka_unit_test(a_moved_walk_rebuilds_its_parser),
        cmocka_unit_test(unpaired_surrogate_escapes_become_the_replacement_character),
        cmocka_unit_test(integers_parse_strictly),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
