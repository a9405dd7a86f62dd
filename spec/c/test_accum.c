/* test_accum.c: the accumulator: text, thinking, tool calls, usage, stop reason,
 * bounds, flushing that never splits a UTF-8 character, and the failure it decides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "accum.h"

/* ---- helpers: hand-made events, as a decoder would emit them ---- */

static acn_event blank(acn_event_type type, int index)
{
    acn_event event;

    memset(&event, 0, sizeof(event));
    event.type = type;
    event.index = index;
    event.input_tokens = -1;
    event.output_tokens = -1;
    event.cache_read_tokens = -1;
    event.cache_write_tokens = -1;
    return event;
}

static void add(acn_accum *accum, acn_event event)
{
    assert_int_equal(acn_accum_add(accum, &event), ACN_OK);
}

static acn_event text_event(acn_event_type type, int index, const char *text, size_t len)
{
    acn_event event = blank(type, index);

    event.text = text;
    event.text_len = len;
    return event;
}

static void add_text(acn_accum *accum, acn_event_type type, int index, const char *text)
{
    add(accum, text_event(type, index, text, strlen(text)));
}

static void start_call(acn_accum *accum, int index, const char *id, const char *name, int server)
{
    acn_event event = blank(ACN_EVENT_TOOL_CALL_START, index);

    event.id = id;
    event.id_len = strlen(id);
    event.name = name;
    event.name_len = strlen(name);
    event.server_tool = server;
    add(accum, event);
}

static void stop(acn_accum *accum, acn_stop_reason reason, const char *provider_reason)
{
    acn_event event = text_event(ACN_EVENT_STOP, -1, provider_reason, strlen(provider_reason));

    event.stop_reason = reason;
    add(accum, event);
}

static void done(acn_accum *accum)
{
    add(accum, blank(ACN_EVENT_DONE, -1));
}

static const acn_failure *finish_ok(acn_accum *accum, acn_provider provider)
{
    return acn_accum_finish(accum, provider, 0, ACN_OK, NULL, 0);
}

static void assert_buf(const acn_buf *buf, const char *expected)
{
    assert_int_equal(buf->len, strlen(expected));
    if (buf->len > 0)
        assert_memory_equal(buf->ptr, expected, buf->len);
}

/* 1 when bytes are whole, valid UTF-8 characters. */
static int valid_utf8(const unsigned char *bytes, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t need;
        size_t k;

        if (bytes[i] < 0x80)
            need = 1;
        else if (bytes[i] >= 0xC2 && bytes[i] <= 0xDF)
            need = 2;
        else if (bytes[i] >= 0xE0 && bytes[i] <= 0xEF)
            need = 3;
        else if (bytes[i] >= 0xF0 && bytes[i] <= 0xF4)
            need = 4;
        else
            return 0;
        if (i + need > len)
            return 0;
        for (k = 1; k < need; k++) {
            if ((bytes[i + k] & 0xC0) != 0x80)
                return 0;
        }
        i += need;
    }
    return 1;
}

/* ---- text and flushing ---- */

static void test_text_deltas_concatenate_and_a_whole_stream_has_no_failure(void **state)
{
    acn_accum accum;

    (void)state;
    acn_accum_init(&accum, 0);
    add_text(&accum, ACN_EVENT_TEXT_DELTA, 0, "Hello");
    add_text(&accum, ACN_EVENT_TEXT_DELTA, 0, ", ");
    add_text(&accum, ACN_EVENT_TEXT_DELTA, 1, "world");
    stop(&accum, ACN_STOP_END_TURN, "end_turn");
    done(&accum);
    assert_int_equal(finish_ok(&accum, ACN_PROVIDER_ANTHROPIC)->kind, ACN_FAILURE_NONE);
    assert_buf(&accum.text, "Hello, world");
    assert_int_equal(accum.stop_reason, ACN_STOP_END_TURN);
    assert_buf(&accum.provider_stop_reason, "end_turn");
    acn_accum_free(&accum);
}

/* Feeds `sample` as one delta per piece cut at `cuts`, flushing after each delta, and
 * checks every flush is whole characters and all flushes together are the sample. */
static void feed_cut(const char *sample, size_t len, const size_t *cuts, size_t cut_count)
{
    acn_accum accum;
    acn_accum_chunk chunk;
    char joined[64];
    size_t joined_len = 0;
    size_t from = 0;
    size_t i;

    acn_accum_init(&accum, 0);
    for (i = 0; i <= cut_count; i++) {
        size_t to = i < cut_count ? cuts[i] : len;

        add(&accum, text_event(ACN_EVENT_TEXT_DELTA, 0, sample + from, to - from));
        if (acn_accum_flush_text(&accum, 0, &chunk)) {
            assert_true(valid_utf8((const unsigned char *)chunk.delta, chunk.delta_len));
            assert_true(valid_utf8((const unsigned char *)chunk.all, chunk.all_len));
            assert_true(chunk.delta + chunk.delta_len == chunk.all + chunk.all_len);
            memcpy(joined + joined_len, chunk.delta, chunk.delta_len);
            joined_len += chunk.delta_len;
        }
        assert_int_equal(joined_len, acn_utf8_complete_prefix(sample, to));
        from = to;
    }
    assert_false(acn_accum_text_pending(&accum));
    assert_int_equal(joined_len, len);
    assert_memory_equal(joined, sample, len);
    acn_accum_free(&accum);
}

static void test_flush_never_splits_2_3_or_4_byte_characters_at_any_cut(void **state)
{
    /* a, e-acute (2 bytes), euro sign (3), grinning face (4), b */
    static const char sample[] = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"
                                 "b";
    size_t len = sizeof(sample) - 1;
    size_t i;
    size_t j;
    size_t cuts[16];

    (void)state;
    for (i = 1; i < len; i++) {
        feed_cut(sample, len, &i, 1); /* one cut at every position */
        for (j = i + 1; j < len; j++) {
            cuts[0] = i;
            cuts[1] = j;
            feed_cut(sample, len, cuts, 2); /* every pair of cuts */
        }
    }
    for (i = 0; i + 1 < len; i++)
        cuts[i] = i + 1;
    feed_cut(sample, len, cuts, len - 1); /* one byte at a time */
}

static void test_flush_hands_out_only_what_is_new_and_final_flush_hands_out_the_rest(void **state)
{
    acn_accum accum;
    acn_accum_chunk chunk;

    (void)state;
    acn_accum_init(&accum, 0);
    assert_false(acn_accum_flush_text(&accum, 0, &chunk));
    assert_int_equal(chunk.all_len, 0);
    add_text(&accum, ACN_EVENT_TEXT_DELTA, 0, "Hi ");
    assert_true(acn_accum_text_pending(&accum));
    assert_true(acn_accum_flush_text(&accum, 0, &chunk));
    assert_int_equal(chunk.delta_len, 3);
    assert_false(acn_accum_text_pending(&accum));
    assert_false(acn_accum_flush_text(&accum, 0, &chunk));
    assert_int_equal(chunk.all_len, 3);
    add(&accum, text_event(ACN_EVENT_TEXT_DELTA, 0, "there \xE2\x82", 8));
    assert_true(acn_accum_flush_text(&accum, 0, &chunk));
    assert_int_equal(chunk.delta_len, 6);
    assert_memory_equal(chunk.delta, "there ", 6);
    assert_false(acn_accum_text_pending(&accum));
    /* The stream ended inside a character: the final flush does not keep it back. */
    assert_true(acn_accum_flush_text(&accum, 1, &chunk));
    assert_int_equal(chunk.delta_len, 2);
    assert_int_equal(chunk.all_len, 11);
    acn_accum_free(&accum);
}

static void test_thinking_flushes_apart_from_text(void **state)
{
    acn_accum accum;
    acn_accum_chunk chunk;

    (void)state;
    acn_accum_init(&accum, 0);
    add(&accum, text_event(ACN_EVENT_THINKING_DELTA, 0, "Let me think \xF0\x9F", 15));
    add_text(&accum, ACN_EVENT_TEXT_DELTA, 1, "Answer");
    assert_true(acn_accum_flush_thinking(&accum, 0, &chunk));
    assert_int_equal(chunk.delta_len, 13);
    assert_false(acn_accum_thinking_pending(&accum));
    assert_true(acn_accum_text_pending(&accum));
    add(&accum, text_event(ACN_EVENT_THINKING_DELTA, 0, "\xA4\x94.", 3));
    assert_true(acn_accum_flush_thinking(&accum, 0, &chunk));
    assert_int_equal(chunk.delta_len, 5);
    assert_memory_equal(chunk.delta, "\xF0\x9F\xA4\x94.", 5);
    acn_accum_free(&accum);
}

/* ---- thinking blocks ---- */

static void test_thinking_blocks_keep_text_signature_and_redacted_data(void **state)
{
    acn_accum accum;

    (void)state;
    acn_accum_init(&accum, 0);
    add_text(&accum, ACN_EVENT_THINKING_DELTA, 0, "First, ");
    add_text(&accum, ACN_EVENT_THINKING_DELTA, 0, "the sum.");
    add_text(&accum, ACN_EVENT_SIGNATURE_DELTA, 0, "EqQBCgIY");
    add_text(&accum, ACN_EVENT_SIGNATURE_DELTA, 0, "Ag==");
    add(&accum, blank(ACN_EVENT_BLOCK_END, 0));
    add_text(&accum, ACN_EVENT_REDACTED_THINKING, 1, "EmwKAhgBEgy3va3pzix");
    add(&accum, blank(ACN_EVENT_BLOCK_END, 1));
    add_text(&accum, ACN_EVENT_THINKING_DELTA, 2, "Then the rest.");
    add_text(&accum, ACN_EVENT_TEXT_DELTA, 3, "42");
    stop(&accum, ACN_STOP_END_TURN, "end_turn");
    done(&accum);
    assert_int_equal(finish_ok(&accum, ACN_PROVIDER_ANTHROPIC)->kind, ACN_FAILURE_NONE);

    assert_buf(&accum.thinking, "First, the sum.Then the rest.");
    assert_buf(&accum.text, "42");
    assert_int_equal(accum.block_count, 3);
    assert_int_equal(accum.blocks[0].type, ACN_ACCUM_BLOCK_THINKING);
    assert_buf(&accum.blocks[0].thinking, "First, the sum.");
    assert_buf(&accum.blocks[0].signature, "EqQBCgIYAg==");
    assert_int_equal(accum.blocks[1].type, ACN_ACCUM_BLOCK_REDACTED);
    assert_buf(&accum.blocks[1].thinking, "EmwKAhgBEgy3va3pzix");
    assert_int_equal(accum.blocks[2].type, ACN_ACCUM_BLOCK_THINKING);
    assert_buf(&accum.blocks[2].thinking, "Then the rest.");
    assert_buf(&accum.blocks[2].signature, "");
    acn_accum_free(&accum);
}

/* ---- tool calls ---- */

static void test_parallel_tool_calls_concatenate_arguments_per_call(void **state)
{
    acn_accum accum;

    (void)state;
    acn_accum_init(&accum, 0);
    /* OpenAI interleaves fragments of parallel calls by index. */
    start_call(&accum, 0, "call_a", "get_weather", 0);
    add_text(&accum, ACN_EVENT_TOOL_ARGS_DELTA, 0, "{\"city\":");
    start_call(&accum, 1, "call_b", "get_time", 0);
    add_text(&accum, ACN_EVENT_TOOL_ARGS_DELTA, 1, "{\"zone\"");
    add_text(&accum, ACN_EVENT_TOOL_ARGS_DELTA, 0, "\"Paris\"}");
    add_text(&accum, ACN_EVENT_TOOL_ARGS_DELTA, 1, ":\"CET\"}");
    add(&accum, blank(ACN_EVENT_TOOL_CALL_END, 0));
    add(&accum, blank(ACN_EVENT_TOOL_CALL_END, 1));
    stop(&accum, ACN_STOP_TOOL_USE, "tool_calls");
    done(&accum);
    assert_int_equal(finish_ok(&accum, ACN_PROVIDER_OPENAI)->kind, ACN_FAILURE_NONE);

    assert_int_equal(accum.call_count, 2);
    assert_buf(&accum.calls[0].id, "call_a");
    assert_buf(&accum.calls[0].name, "get_weather");
    assert_buf(&accum.calls[0].arguments, "{\"city\":\"Paris\"}");
    assert_buf(&accum.calls[1].id, "call_b");
    assert_buf(&accum.calls[1].name, "get_time");
    assert_buf(&accum.calls[1].arguments, "{\"zone\":\"CET\"}");
    assert_false(accum.calls[0].invalid);
    assert_false(accum.calls[1].invalid);
    assert_int_equal(accum.stop_reason, ACN_STOP_TOOL_USE);
    acn_accum_free(&accum);
}

static void test_empty_or_blank_arguments_mean_an_empty_object(void **state)
{
    acn_accum accum;

    (void)state;
    acn_accum_init(&accum, 0);
    start_call(&accum, 1, "toolu_1", "list_projects", 0);
    add_text(&accum, ACN_EVENT_TOOL_ARGS_DELTA, 1, "");
    add(&accum, blank(ACN_EVENT_BLOCK_END, 1)); /* Anthropic ends a tool_use block with block end */
    start_call(&accum, 2, "toolu_2", "list_users", 0);
    add_text(&accum, ACN_EVENT_TOOL_ARGS_DELTA, 2, " \n ");
    add(&accum, blank(ACN_EVENT_TOOL_CALL_END, 2));
    stop(&accum, ACN_STOP_TOOL_USE, "tool_use");
    done(&accum);
    assert_int_equal(finish_ok(&accum, ACN_PROVIDER_ANTHROPIC)->kind, ACN_FAILURE_NONE);
    assert_buf(&accum.calls[0].arguments, "{}");
    assert_buf(&accum.calls[1].arguments, "{}");
    acn_accum_free(&accum);
}

static void expect_malformed_arguments(const char *arguments)
{
    acn_accum accum;
    const acn_failure *failure;

    acn_accum_init(&accum, 0);
    add_text(&accum, ACN_EVENT_TEXT_DELTA, 0, "Checking.");
    start_call(&accum, 1, "toolu_x", "search", 0);
    add_text(&accum, ACN_EVENT_TOOL_ARGS_DELTA, 1, arguments);
    add(&accum, blank(ACN_EVENT_TOOL_CALL_END, 1));
    stop(&accum, ACN_STOP_TOOL_USE, "tool_use");
    done(&accum);
    failure = finish_ok(&accum, ACN_PROVIDER_ANTHROPIC);
    if (failure->kind != ACN_FAILURE_MALFORMED_STREAM)
        fail_msg("arguments %s gave failure %s, expected malformed_stream", arguments,
                 acn_failure_kind_name(failure->kind));
    assert_true(accum.calls[0].invalid);
    assert_non_null(strstr(accum.malformed_detail, "search"));
    /* What came before the bad call is kept. */
    assert_buf(&accum.text, "Checking.");
    acn_accum_free(&accum);
}

static void test_arguments_that_are_not_one_json_object_fail_as_malformed_stream(void **state)
{
    (void)state;
    expect_malformed_arguments("{\"q\": \"x\"");
    expect_malformed_arguments("{\"q\": }");
    expect_malformed_arguments("[1, 2]");
    expect_malformed_arguments("\"just a string\"");
    expect_malformed_arguments("{} {}");
    expect_malformed_arguments("{\"q\": \"\xFF\"}");
}

/* Arguments {"a": [[...]]} whose arrays and object nest `depth` levels in all. */
static size_t nested_arguments(char *out, size_t depth)
{
    size_t i, n = 0;

    memcpy(out, "{\"a\":", 5);
    n = 5;
    for (i = 1; i < depth; i++)
        out[n++] = '[';
    for (i = 1; i < depth; i++)
        out[n++] = ']';
    out[n++] = '}';
    return n;
}

/* The failure one call with these arguments gives (kind NONE when they pass); detail copied out. */
static acn_failure_kind arguments_verdict(const char *arguments, size_t len, char *detail, size_t cap)
{
    acn_accum accum;
    acn_failure_kind kind;

    acn_accum_init(&accum, 0);
    start_call(&accum, 0, "call_deep", "lookup", 0);
    add(&accum, text_event(ACN_EVENT_TOOL_ARGS_DELTA, 0, arguments, len));
    add(&accum, blank(ACN_EVENT_TOOL_CALL_END, 0));
    done(&accum);
    kind = finish_ok(&accum, ACN_PROVIDER_ANTHROPIC)->kind;
    snprintf(detail, cap, "%s", accum.failure.detail);
    acn_accum_free(&accum);
    return kind;
}

static void test_arguments_nested_to_the_json_depth_pass_and_one_deeper_fail(void **state)
{
    char deep[2 * (ACN_JSON_MAX_DEPTH + 2) + 8];
    char detail[ACN_FAILURE_DETAIL_MAX];
    size_t n;

    (void)state;
    assert_int_equal(ACN_JSON_MAX_DEPTH, 100); /* Ruby's JSON max_nesting default */
    n = nested_arguments(deep, ACN_JSON_MAX_DEPTH);
    assert_int_equal(arguments_verdict(deep, n, detail, sizeof(detail)), ACN_FAILURE_NONE);
    n = nested_arguments(deep, ACN_JSON_MAX_DEPTH + 1);
    assert_int_equal(arguments_verdict(deep, n, detail, sizeof(detail)), ACN_FAILURE_MALFORMED_STREAM);
    if (strstr(detail, "nest deeper than 100 levels") == NULL || strstr(detail, "lookup") == NULL)
        fail_msg("detail: %s", detail);
}

static void test_arguments_nested_300_deep_fail_as_malformed_stream(void **state)
{
    char deep[2 * 300 + 8];
    char detail[ACN_FAILURE_DETAIL_MAX];
    size_t n = nested_arguments(deep, 300);

    (void)state;
    assert_int_equal(arguments_verdict(deep, n, detail, sizeof(detail)), ACN_FAILURE_MALFORMED_STREAM);
    assert_non_null(strstr(detail, "nest deeper"));
}

static void test_a_number_token_past_its_length_fails_as_malformed_stream(void **state)
{
    char args[ACN_ACCUM_MAX_NUMBER_CHARS + 16];
    char detail[ACN_FAILURE_DETAIL_MAX];
    size_t n;

    (void)state;
    memcpy(args, "{\"n\":", 5);
    memset(args + 5, '7', ACN_ACCUM_MAX_NUMBER_CHARS);
    args[5 + ACN_ACCUM_MAX_NUMBER_CHARS] = '}';
    n = 6 + ACN_ACCUM_MAX_NUMBER_CHARS;
    assert_int_equal(arguments_verdict(args, n, detail, sizeof(detail)), ACN_FAILURE_NONE);
    memcpy(args, "{\"n\":-", 6);
    memset(args + 6, '7', ACN_ACCUM_MAX_NUMBER_CHARS);
    args[6 + ACN_ACCUM_MAX_NUMBER_CHARS] = '}';
    n = 7 + ACN_ACCUM_MAX_NUMBER_CHARS;
    assert_int_equal(arguments_verdict(args, n, detail, sizeof(detail)), ACN_FAILURE_MALFORMED_STREAM);
    if (strstr(detail, "number longer than 100 characters") == NULL)
        fail_msg("detail: %s", detail);
}

static void test_arguments_with_a_comment_are_malformed(void **state)
{
    (void)state;
    expect_malformed_arguments("{\"q\": /* \" */ 1}");
    expect_malformed_arguments("{\"q\": 1} // trailing");
}

static void test_tool_calls_past_the_limit_fail_the_reply_even_on_one_reused_index(void **state)
{
    acn_accum accum;
    const acn_failure *failure;
    acn_event event;
    int i;

    (void)state;
    acn_accum_init(&accum, 0);
    for (i = 0; i < ACN_ACCUM_MAX_TOOL_CALLS; i++) {
        start_call(&accum, 7, "toolu_same", "ping", 0);
        add_text(&accum, ACN_EVENT_TOOL_ARGS_DELTA, 7, "{}");
    }
    assert_int_equal(accum.call_count, ACN_ACCUM_MAX_TOOL_CALLS);
    event = blank(ACN_EVENT_TOOL_CALL_START, 7);
    assert_int_equal(acn_accum_add(&accum, &event), ACN_ERR_LIMIT);
    /* Refused from then on, so a hostile stream stops here. */
    assert_int_equal(acn_accum_add(&accum, &event), ACN_ERR_LIMIT);
    assert_int_equal(accum.call_count, ACN_ACCUM_MAX_TOOL_CALLS);
    failure = acn_accum_finish(&accum, ACN_PROVIDER_ANTHROPIC, 1, ACN_OK, NULL, 0);
    assert_int_equal(failure->kind, ACN_FAILURE_MALFORMED_STREAM);
    if (strstr(failure->detail, "more than 128 tool calls") == NULL)
        fail_msg("detail: %s", failure->detail);
    acn_accum_free(&accum);
}

static void test_nul_bytes_are_removed_from_text_and_thinking(void **state)
{
    acn_accum accum;
    acn_accum_chunk chunk;

    (void)state;
    acn_accum_init(&accum, 0);
    add(&accum, text_event(ACN_EVENT_TEXT_DELTA, 0, "a\0b\0", 4));
    add(&accum, text_event(ACN_EVENT_TEXT_DELTA, 0, "\0\0", 2));
    add(&accum, text_event(ACN_EVENT_TEXT_DELTA, 0, "c", 1));
    add(&accum, text_event(ACN_EVENT_THINKING_DELTA, 1, "\0hm\0m", 5));
    assert_buf(&accum.text, "abc");
    assert_buf(&accum.thinking, "hmm");
    assert_true(acn_accum_flush_text(&accum, 1, &chunk));
    assert_int_equal(chunk.all_len, 3);
    assert_null(memchr(chunk.all, '\0', chunk.all_len));
    acn_accum_free(&accum);
}

static void test_arguments_for_a_call_never_started_are_malformed(void **state)
{
    acn_accum accum;

    (void)state;
    acn_accum_init(&accum, 0);
    add_text(&accum, ACN_EVENT_TOOL_ARGS_DELTA, 3, "{\"a\":1}");
    done(&accum);
    assert_int_equal(finish_ok(&accum, ACN_PROVIDER_OPENAI)->kind, ACN_FAILURE_MALFORMED_STREAM);
    assert_int_equal(accum.call_count, 0);
    acn_accum_free(&accum);
}

static void test_a_call_that_never_ended_is_dropped_at_finish(void **state)
{
    acn_accum accum;

    (void)state;
    acn_accum_init(&accum, 0);
    start_call(&accum, 0, "call_1", "f", 0);
    add_text(&accum, ACN_EVENT_TOOL_ARGS_DELTA, 0, "{\"a\":[1,2.5,true,null]}");
    add(&accum, blank(ACN_EVENT_TOOL_CALL_END, 0));
    start_call(&accum, 1, "call_2", "g", 0);
    add_text(&accum, ACN_EVENT_TOOL_ARGS_DELTA, 1, "{\"path\":\"/us");
    /* The connection dropped inside the second call's arguments. */
    assert_int_equal(finish_ok(&accum, ACN_PROVIDER_OPENAI)->kind, ACN_FAILURE_CONNECTION_LOST);
    assert_int_equal(accum.call_count, 1);
    assert_buf(&accum.calls[0].id, "call_1");
    assert_false(accum.calls[0].invalid);
    acn_accum_free(&accum);
}

static void test_thinking_blocks_are_kept_for_anthropic_only(void **state)
{
    acn_accum accum;

    (void)state;
    acn_accum_init(&accum, 0);
    add_text(&accum, ACN_EVENT_THINKING_DELTA, 0, "Considering.");
    add_text(&accum, ACN_EVENT_TEXT_DELTA, 0, "Done.");
    stop(&accum, ACN_STOP_END_TURN, "STOP");
    done(&accum);
    assert_int_equal(finish_ok(&accum, ACN_PROVIDER_GEMINI)->kind, ACN_FAILURE_NONE);
    assert_buf(&accum.thinking, "Considering.");
    assert_int_equal(accum.block_count, 0);
    acn_accum_free(&accum);
}

static void test_a_call_start_carries_its_signature(void **state)
{
    acn_accum accum;
    acn_event event = blank(ACN_EVENT_TOOL_CALL_START, 0);

    (void)state;
    acn_accum_init(&accum, 0);
    event.id = "call_0";
    event.id_len = 6;
    event.name = "lookup";
    event.name_len = 6;
    event.text = "CiQB0e2K";
    event.text_len = 8;
    add(&accum, event);
    add(&accum, blank(ACN_EVENT_TOOL_CALL_END, 0));
    start_call(&accum, 1, "call_1", "lookup", 0);
    add(&accum, blank(ACN_EVENT_TOOL_CALL_END, 1));
    /* A call cut off before its end is dropped at finish: its buffers must go too. */
    event.index = 2;
    add(&accum, event);
    stop(&accum, ACN_STOP_TOOL_USE, "STOP");
    done(&accum);
    assert_int_equal(finish_ok(&accum, ACN_PROVIDER_GEMINI)->kind, ACN_FAILURE_NONE);
    assert_int_equal(accum.call_count, 2);
    assert_buf(&accum.calls[0].signature, "CiQB0e2K");
    assert_int_equal(accum.calls[1].signature.len, 0);
    acn_accum_free(&accum);
}

static void test_server_tool_calls_are_kept_and_marked(void **state)
{
    acn_accum accum;

    (void)state;
    acn_accum_init(&accum, 0);
    start_call(&accum, 0, "srvtoolu_1", "web_search", 1);
    add_text(&accum, ACN_EVENT_TOOL_ARGS_DELTA, 0, "{\"query\":\"ruby 3.4\"}");
    add(&accum, blank(ACN_EVENT_BLOCK_END, 0));
    add_text(&accum, ACN_EVENT_TEXT_DELTA, 1, "Ruby 3.4 shipped.");
    stop(&accum, ACN_STOP_END_TURN, "end_turn");
    done(&accum);
    assert_int_equal(finish_ok(&accum, ACN_PROVIDER_ANTHROPIC)->kind, ACN_FAILURE_NONE);
    assert_int_equal(accum.call_count, 1);
    assert_true(accum.calls[0].server);
    assert_buf(&accum.calls[0].arguments, "{\"query\":\"ruby 3.4\"}");
    assert_int_equal(accum.stop_reason, ACN_STOP_END_TURN);
    acn_accum_free(&accum);
}

static void test_the_accumulator_keeps_the_decoders_stop_reason(void **state)
{
    acn_accum accum;

    (void)state;
    /* Gemini's STOP after a function call is made TOOL_USE by its decoder alone
     * (decode_gemini.c, held by test_decode_gemini); the accumulator takes the STOP
     * event as it came and decides nothing about it a second time. */
    acn_accum_init(&accum, 0);
    start_call(&accum, 0, "", "get_weather", 0);
    add_text(&accum, ACN_EVENT_TOOL_ARGS_DELTA, 0, "{\"city\":\"Oslo\"}");
    add(&accum, blank(ACN_EVENT_TOOL_CALL_END, 0));
    stop(&accum, ACN_STOP_END_TURN, "STOP");
    done(&accum);
    assert_int_equal(finish_ok(&accum, ACN_PROVIDER_GEMINI)->kind, ACN_FAILURE_NONE);
    assert_int_equal(accum.stop_reason, ACN_STOP_END_TURN);
    assert_buf(&accum.provider_stop_reason, "STOP");
    acn_accum_free(&accum);
}

/* ---- usage, message ---- */

static void test_usage_last_reported_value_wins_and_unsent_fields_stay_unset(void **state)
{
    acn_accum accum;
    acn_event usage = blank(ACN_EVENT_USAGE, -1);
    acn_event start = blank(ACN_EVENT_MESSAGE_START, -1);

    (void)state;
    acn_accum_init(&accum, 0);
    start.id = "msg_01";
    start.id_len = 6;
    start.name = "claude-sonnet-4-5";
    start.name_len = strlen(start.name);
    add(&accum, start);
    usage.input_tokens = 25;
    usage.output_tokens = 1;
    usage.cache_read_tokens = 0;
    add(&accum, usage);
    usage = blank(ACN_EVENT_USAGE, -1);
    usage.output_tokens = 15;
    add(&accum, usage);
    usage.output_tokens = 73; /* cumulative: the last value wins */
    add(&accum, usage);
    assert_int_equal(accum.input_tokens, 25);
    assert_int_equal(accum.output_tokens, 73);
    assert_int_equal(accum.cache_read_tokens, 0);
    assert_int_equal(accum.cache_write_tokens, -1);
    assert_buf(&accum.message_id, "msg_01");
    assert_buf(&accum.model, "claude-sonnet-4-5");
    acn_accum_free(&accum);
}

/* ---- failures ---- */

static void test_a_stream_without_its_terminal_event_is_incomplete_with_no_stop_reason(void **state)
{
    acn_accum accum;
    const acn_failure *failure;

    (void)state;
    acn_accum_init(&accum, 0);
    add_text(&accum, ACN_EVENT_TEXT_DELTA, 0, "Half an ans");
    stop(&accum, ACN_STOP_END_TURN, "end_turn");
    failure = finish_ok(&accum, ACN_PROVIDER_ANTHROPIC);
    assert_int_equal(failure->kind, ACN_FAILURE_CONNECTION_LOST);
    assert_int_equal(accum.stop_reason, ACN_STOP_NONE);
    assert_int_equal(accum.provider_stop_reason.len, 0);
    assert_buf(&accum.text, "Half an ans");
    acn_accum_free(&accum);
}

static void test_the_decoder_seeing_the_terminal_event_is_enough(void **state)
{
    acn_accum accum;

    (void)state;
    acn_accum_init(&accum, 0);
    add_text(&accum, ACN_EVENT_TEXT_DELTA, 0, "ok");
    stop(&accum, ACN_STOP_MAX_TOKENS, "length");
    assert_int_equal(acn_accum_finish(&accum, ACN_PROVIDER_OPENAI, 1, ACN_OK, NULL, 1)->kind,
                     ACN_FAILURE_NONE);
    assert_int_equal(accum.stop_reason, ACN_STOP_MAX_TOKENS);
    acn_accum_free(&accum);
}

static void test_a_mid_stream_error_event_is_classified_from_its_payload(void **state)
{
    static const char payload[] =
        "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}";
    acn_accum accum;
    acn_event error = blank(ACN_EVENT_ERROR, -1);
    const acn_failure *failure;

    (void)state;
    acn_accum_init(&accum, 0);
    add_text(&accum, ACN_EVENT_TEXT_DELTA, 0, "Partial");
    error.name = "overloaded_error";
    error.name_len = strlen(error.name);
    error.text = "Overloaded";
    error.text_len = strlen(error.text);
    error.raw = payload;
    error.raw_len = strlen(payload);
    add(&accum, error);
    failure = acn_accum_finish(&accum, ACN_PROVIDER_ANTHROPIC, 0, ACN_OK, NULL, 1);
    assert_int_equal(failure->kind, ACN_FAILURE_OVERLOADED);
    assert_buf(&accum.error_type, "overloaded_error");
    assert_buf(&accum.text, "Partial");
    acn_accum_free(&accum);
}

static void test_decoder_errors_become_malformed_or_too_large(void **state)
{
    acn_accum accum;

    (void)state;
    acn_accum_init(&accum, 0);
    add_text(&accum, ACN_EVENT_TEXT_DELTA, 0, "x");
    assert_int_equal(
        acn_accum_finish(&accum, ACN_PROVIDER_OPENAI, 0, ACN_ERR_MALFORMED, "not JSON: {", 0)->kind,
        ACN_FAILURE_MALFORMED_STREAM);
    acn_accum_free(&accum);

    acn_accum_init(&accum, 0);
    assert_int_not_equal(
        acn_accum_finish(&accum, ACN_PROVIDER_OPENAI, 0, ACN_ERR_LIMIT, "event over 16 MiB", 0)->kind,
        ACN_FAILURE_NONE);
    assert_int_equal(accum.failure.kind, ACN_FAILURE_MALFORMED_STREAM);
    assert_non_null(strstr(accum.failure.detail, "16 MiB"));
    acn_accum_free(&accum);
}

static void test_a_refusal_without_text_fails_as_refusal_and_with_text_does_not(void **state)
{
    acn_accum accum;

    (void)state;
    acn_accum_init(&accum, 0);
    stop(&accum, ACN_STOP_REFUSAL, "refusal");
    done(&accum);
    assert_int_equal(finish_ok(&accum, ACN_PROVIDER_ANTHROPIC)->kind, ACN_FAILURE_REFUSAL);
    assert_int_equal(accum.stop_reason, ACN_STOP_REFUSAL);
    assert_true(strlen(accum.failure.message) > 0);
    acn_accum_free(&accum);

    acn_accum_init(&accum, 0);
    add_text(&accum, ACN_EVENT_TEXT_DELTA, 0, "I can't help with that.");
    stop(&accum, ACN_STOP_REFUSAL, "content_filter");
    done(&accum);
    assert_int_equal(finish_ok(&accum, ACN_PROVIDER_OPENAI)->kind, ACN_FAILURE_NONE);
    assert_int_equal(accum.stop_reason, ACN_STOP_REFUSAL);
    acn_accum_free(&accum);
}

static void test_a_failure_set_before_finish_is_kept(void **state)
{
    acn_accum accum;
    acn_failure cancelled;

    (void)state;
    memset(&cancelled, 0, sizeof(cancelled));
    cancelled.kind = ACN_FAILURE_CANCELLED;
    cancelled.action = ACN_ACTION_FAIL;
    acn_accum_init(&accum, 0);
    add_text(&accum, ACN_EVENT_TEXT_DELTA, 0, "Some");
    stop(&accum, ACN_STOP_END_TURN, "end_turn");
    acn_accum_set_failure(&accum, &cancelled);
    assert_int_equal(finish_ok(&accum, ACN_PROVIDER_ANTHROPIC)->kind, ACN_FAILURE_CANCELLED);
    assert_int_equal(accum.stop_reason, ACN_STOP_NONE);
    assert_buf(&accum.text, "Some");
    /* finish is idempotent */
    assert_int_equal(finish_ok(&accum, ACN_PROVIDER_ANTHROPIC)->kind, ACN_FAILURE_CANCELLED);
    acn_accum_free(&accum);
}

/* ---- bounds ---- */

static void test_the_reply_is_bounded_and_the_bound_sticks(void **state)
{
    acn_accum accum;
    char chunk[40];
    acn_event event;
    int i;
    acn_status status = ACN_OK;

    (void)state;
    memset(chunk, 'x', sizeof(chunk));
    acn_accum_init(&accum, 100);
    event = text_event(ACN_EVENT_TEXT_DELTA, 0, chunk, sizeof(chunk));
    for (i = 0; i < 3 && status == ACN_OK; i++)
        status = acn_accum_add(&accum, &event);
    assert_int_equal(status, ACN_ERR_LIMIT);
    assert_int_equal(i, 3);
    assert_int_equal(accum.text.len, 80);
    assert_true(accum.total <= 100);
    /* Later events are refused too, even small ones. */
    event = text_event(ACN_EVENT_THINKING_DELTA, 0, "y", 1);
    assert_int_equal(acn_accum_add(&accum, &event), ACN_ERR_LIMIT);
    assert_int_equal(acn_accum_on_event(&accum, &event), 1);
    event = blank(ACN_EVENT_DONE, -1);
    assert_int_equal(acn_accum_add(&accum, &event), ACN_ERR_LIMIT);
    assert_int_not_equal(finish_ok(&accum, ACN_PROVIDER_ANTHROPIC)->kind, ACN_FAILURE_NONE);
    assert_int_not_equal(accum.failure.kind, ACN_FAILURE_CONNECTION_LOST);
    acn_accum_free(&accum);
}

static void test_tool_calls_and_blocks_count_against_the_bound(void **state)
{
    acn_accum accum;
    acn_event event = blank(ACN_EVENT_TOOL_CALL_START, 0);
    acn_status status = ACN_OK;
    int i;

    (void)state;
    acn_accum_init(&accum, 10 * ACN_ACCUM_ENTRY_COST);
    event.id = "c";
    event.id_len = 1;
    event.name = "f";
    event.name_len = 1;
    for (i = 0; i < 1000 && status == ACN_OK; i++) {
        event.index = i;
        status = acn_accum_add(&accum, &event);
    }
    assert_int_equal(status, ACN_ERR_LIMIT);
    assert_true(accum.call_count <= 10);
    assert_true(acn_accum_memsize(&accum) > 0);
    acn_accum_free(&accum);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_deltas_concatenate_and_a_whole_stream_has_no_failure),
        cmocka_unit_test(test_flush_never_splits_2_3_or_4_byte_characters_at_any_cut),
        cmocka_unit_test(test_flush_hands_out_only_what_is_new_and_final_flush_hands_out_the_rest),
        cmocka_unit_test(test_thinking_flushes_apart_from_text),
        cmocka_unit_test(test_thinking_blocks_keep_text_signature_and_redacted_data),
        cmocka_unit_test(test_parallel_tool_calls_concatenate_arguments_per_call),
        cmocka_unit_test(test_empty_or_blank_arguments_mean_an_empty_object),
        cmocka_unit_test(test_arguments_that_are_not_one_json_object_fail_as_malformed_stream),
        cmocka_unit_test(test_arguments_nested_to_the_json_depth_pass_and_one_deeper_fail),
        cmocka_unit_test(test_arguments_nested_300_deep_fail_as_malformed_stream),
        cmocka_unit_test(test_a_number_token_past_its_length_fails_as_malformed_stream),
        cmocka_unit_test(test_arguments_with_a_comment_are_malformed),
        cmocka_unit_test(test_tool_calls_past_the_limit_fail_the_reply_even_on_one_reused_index),
        cmocka_unit_test(test_nul_bytes_are_removed_from_text_and_thinking),
        cmocka_unit_test(test_arguments_for_a_call_never_started_are_malformed),
        cmocka_unit_test(test_a_call_that_never_ended_is_dropped_at_finish),
        cmocka_unit_test(test_thinking_blocks_are_kept_for_anthropic_only),
        cmocka_unit_test(test_a_call_start_carries_its_signature),
        cmocka_unit_test(test_server_tool_calls_are_kept_and_marked),
        cmocka_unit_test(test_the_accumulator_keeps_the_decoders_stop_reason),
        cmocka_unit_test(test_usage_last_reported_value_wins_and_unsent_fields_stay_unset),
        cmocka_unit_test(test_a_stream_without_its_terminal_event_is_incomplete_with_no_stop_reason),
        cmocka_unit_test(test_the_decoder_seeing_the_terminal_event_is_enough),
        cmocka_unit_test(test_a_mid_stream_error_event_is_classified_from_its_payload),
        cmocka_unit_test(test_decoder_errors_become_malformed_or_too_large),
        cmocka_unit_test(test_a_refusal_without_text_fails_as_refusal_and_with_text_does_not),
        cmocka_unit_test(test_a_failure_set_before_finish_is_kept),
        cmocka_unit_test(test_the_reply_is_bounded_and_the_bound_sticks),
        cmocka_unit_test(test_tool_calls_and_blocks_count_against_the_bound),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
