/*
 * test_decode_anthropic.c: the Anthropic Messages streaming dialect, against the
 * documented event sequence (message_start, content_block_*, message_delta,
 * message_stop, ping, error). Every stream is fed whole, split at every byte, one
 * and seven bytes at a time, and as parsed SSE events, with identical results.
 */
#include "decode_helpers.h"

#define P ACN_PROVIDER_ANTHROPIC

#define MESSAGE_START                                                                                        \
    "event: message_start\n"                                                                                 \
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":"         \
    "\"assistant\",\"content\":[],\"model\":\"claude-x\",\"stop_reason\":null,\"stop_sequence\":null,"       \
    "\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":3,\"cache_read_input_tokens\":7,"        \
    "\"output_tokens\":1}}}\n\n"

static void text_stream_gives_start_deltas_usage_stop_and_done(void **state)
{
    (void)state;
    expect_events(
        P,
        MESSAGE_START
        "event: content_block_start\n"
        "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":"
        "\"\"}}\n\n"
        "event: ping\ndata: {\"type\": \"ping\"}\n\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
        "\"Hi\"}}\n\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
        "\" there\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
        "event: message_delta\n"
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},"
        "\"usage\":{\"output_tokens\":15}}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        ACN_OK, 1,
        "message_start id=msg_1 name=claude-x\n"
        "usage usage=25,1,7,3\n"
        "ping\n"
        "text_delta 0 text=Hi\n"
        "text_delta 0 text= there\n"
        "block_end 0\n"
        "usage usage=-1,15,-1,-1\n"
        "stop reason=end_turn text=end_turn\n"
        "done\n");
}

static void json_escapes_arrive_as_utf8(void **state)
{
    (void)state;
    expect_events(
        P,
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
        "\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\t\\n\xe2\x80\x94\"}}\n\n",
        ACN_OK, 0, "text_delta 0 text=caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\" \\ / \t\\n\xe2\x80\x94\n");
}

/* The compact text delta takes a fast path; the same payload with one space added
 * takes the general JSON walk. Both must agree on every string, valid or not. */
static void fast_text_path_agrees_with_the_general_path(void **state)
{
    static const char *const bodies[] = {
        "plain ascii",
        "",
        "caf\\u00e9 \\u20ac \\ud83d\\ude00 \\uD83D\\uDE00 \\u00E9",
        "\\\" \\\\ \\/ \\b \\f \\n \\r \\t",
        "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf",
        "lone high \\ud83d end",
        "lone low \\ude00 end",
        "high then text \\ud83dx",
        "high then high \\ud83d\\ud83d",
        "nul \\u0000 inside",
        "bad hex \\u00g9",
        "short \\u00",
        "bad escape \\x",
        "trailing backslash \\",
        "raw \x01 control",
        "raw quote \" inside",
        "overlong \xc0\x80",
        "surrogate in utf8 \xed\xa0\x80",
        "truncated \xe2\x82",
        "invalid \xff byte",
        "too big \xf4\x90\x80\x80",
        "\\u0041\\u00410",
    };
    static const char *const indexes[] = {"0", "7", "4095", "4096", "01", "123456", "-1", "1.0"};
    size_t i;
    size_t j;

    (void)state;
    for (i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        for (j = 0; j < sizeof indexes / sizeof indexes[0]; j++) {
            char fast[512];
            char general[512];
            decoded a;
            decoded b;

            snprintf(
                fast, sizeof fast,
                "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":%s,\"delta\":"
                "{\"type\":\"text_delta\",\"text\":\"%s\"}}\n\n",
                indexes[j], bodies[i]);
            snprintf(
                general, sizeof general,
                "event: content_block_delta\ndata: {\"type\": \"content_block_delta\",\"index\":%s,\"delta\":"
                "{\"type\":\"text_delta\",\"text\":\"%s\"}}\n\n",
                indexes[j], bodies[i]);
            decode_once(P, 0, fast, &a);
            decode_once(P, 0, general, &b);
            if (strcmp(a.transcript, b.transcript) != 0 || a.status != b.status)
                fail_msg("body %zu index %s: fast path gave status %d\n%s\ngeneral path gave status %d\n%s",
                         i, indexes[j], a.status, a.transcript, b.status, b.transcript);
            decoded_free(&a);
            decoded_free(&b);
        }
    }
}

static void key_order_and_whitespace_do_not_matter(void **state)
{
    (void)state;
    expect_events(P,
                  "event: content_block_delta\n"
                  "data: { \"delta\" : { \"text\" : \"a\" , \"type\" : \"text_delta\" } ,\n"
                  "data:   \"index\" : 2 , \"type\" : \"content_block_delta\" }\n\n",
                  ACN_OK, 0, "text_delta 2 text=a\n");
}

static void event_name_is_used_when_the_payload_has_no_type(void **state)
{
    (void)state;
    expect_events(P, "event: ping\ndata: {}\n\nevent: message_stop\ndata: {}\n\n", ACN_OK, 1, "ping\ndone\n");
}

static void tool_use_streams_start_argument_fragments_and_end(void **state)
{
    (void)state;
    expect_events(
        P,
        "event: content_block_start\n"
        "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":"
        "\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}}\n\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
        "\"partial_json\":\"\"}}\n\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
        "\"partial_json\":\"{\\\"city\\\": \\\"Pa\"}}\n\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
        "\"partial_json\":\"ris\\\"}\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
        "event: message_delta\n"
        "data: "
        "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":"
        "40}}\n\n",
        ACN_OK, 0,
        "tool_call_start 1 id=toolu_1 name=get_weather\n"
        "tool_args_delta 1 text={\"city\": \"Pa\n"
        "tool_args_delta 1 text=ris\"}\n"
        "tool_call_end 1\n"
        "usage usage=-1,40,-1,-1\n"
        "stop reason=tool_use text=tool_use\n");
}

static void input_given_whole_at_block_start_is_one_fragment(void **state)
{
    (void)state;
    expect_events(
        P,
        "event: content_block_start\n"
        "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\","
        "\"id\":\"toolu_2\",\"name\":\"f\",\"input\":{\"a\": [1, 2.50, true, null], \"b\": \"\\u00e9\"}}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        ACN_OK, 0,
        "tool_call_start 0 id=toolu_2 name=f\n"
        "tool_args_delta 0 text={\"a\":[1,2.50,true,null],\"b\":\"\xc3\xa9\"}\n"
        "tool_call_end 0\n");
}

static void server_tool_use_is_marked_and_its_result_block_ignored(void **state)
{
    (void)state;
    expect_events(
        P,
        "event: content_block_start\n"
        "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":"
        "\"server_tool_use\",\"id\":\"srvtoolu_1\",\"name\":\"web_search\",\"input\":{}}}\n\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
        "\"partial_json\":\"{\\\"query\\\":\\\"x\\\"}\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
        "event: content_block_start\n"
        "data: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":"
        "\"web_search_tool_result\",\"tool_use_id\":\"srvtoolu_1\",\"content\":[{\"type\":"
        "\"web_search_result\",\"title\":\"T\",\"url\":\"https://example.com\"}]}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":2}\n\n",
        ACN_OK, 0,
        "tool_call_start 1 id=srvtoolu_1 name=web_search server\n"
        "tool_args_delta 1 text={\"query\":\"x\"}\n"
        "tool_call_end 1\n");
}

static void thinking_signature_and_redacted_thinking(void **state)
{
    (void)state;
    expect_events(
        P,
        "event: content_block_start\n"
        "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\","
        "\"thinking\":\"\",\"signature\":\"\"}}\n\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\","
        "\"thinking\":\"Let me think.\"}}\n\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\","
        "\"signature\":\"EqQBCgIYAh\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
        "event: content_block_start\n"
        "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":"
        "\"redacted_thinking\",\"data\":\"EmwKAhgB\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
        ACN_OK, 0,
        "thinking_delta 0 text=Let me think.\n"
        "signature_delta 0 text=EqQBCgIYAh\n"
        "block_end 0\n"
        "redacted_thinking 1 text=EmwKAhgB\n"
        "block_end 1\n");
}

static void citations_delta_carries_the_citation_as_json(void **state)
{
    (void)state;
    expect_events(
        P,
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"citations_delta\","
        "\"citation\":{\"type\":\"char_location\",\"cited_text\":\"The grass is green.\","
        "\"document_index\":0,\"start_char_index\":0,\"end_char_index\":20}}}\n\n",
        ACN_OK, 0,
        "citation 1 text={\"type\":\"char_location\",\"cited_text\":\"The grass is green.\","
        "\"document_index\":0,\"start_char_index\":0,\"end_char_index\":20}\n");
}

static void every_stop_reason_maps(void **state)
{
    static const char *const sent[] = {"end_turn",
                                       "tool_use",
                                       "max_tokens",
                                       "stop_sequence",
                                       "refusal",
                                       "pause_turn",
                                       "model_context_window_exceeded"};
    static const char *const mapped[] = {"end_turn", "tool_use",   "max_tokens", "stop_sequence",
                                         "refusal",  "pause_turn", "max_tokens"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof sent / sizeof sent[0]; i++) {
        char input[512];
        char expected[256];

        snprintf(input, sizeof input,
                 "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"%s\","
                 "\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}\n\n",
                 sent[i]);
        snprintf(expected, sizeof expected, "usage usage=-1,9,-1,-1\nstop reason=%s text=%s\n", mapped[i],
                 sent[i]);
        expect_events(P, input, ACN_OK, 0, expected);
    }
}

static void message_delta_usage_may_carry_every_count(void **state)
{
    (void)state;
    expect_events(P,
                  "event: message_delta\n"
                  "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{"
                  "\"input_tokens\":10682,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":5,"
                  "\"output_tokens\":510,\"server_tool_use\":{\"web_search_requests\":1}}}\n\n",
                  ACN_OK, 0, "usage usage=10682,510,5,0\nstop reason=end_turn text=end_turn\n");
}

static void negative_usage_counts_are_not_sent(void **state)
{
    (void)state;
    expect_events(P,
                  "event: message_delta\n"
                  "data: {\"type\":\"message_delta\",\"delta\":{},\"usage\":{"
                  "\"input_tokens\":-10,\"cache_creation_input_tokens\":-1,\"cache_read_input_tokens\":5,"
                  "\"output_tokens\":-9223372036854775807}}\n\n",
                  ACN_OK, 0, "usage usage=-1,-1,5,-1\n");
}

static void error_event_passes_type_message_and_payload(void **state)
{
    (void)state;
    expect_events(
        P,
        MESSAGE_START "event: error\n"
                      "data: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", "
                      "\"message\": \"Overloaded\"}}\n\n",
        ACN_OK, 1,
        "message_start id=msg_1 name=claude-x\n"
        "usage usage=25,1,7,3\n"
        "error name=overloaded_error text=Overloaded raw={\"type\": \"error\", \"error\": {\"type\": "
        "\"overloaded_error\", \"message\": \"Overloaded\"}}\n");
}

static void error_event_that_is_not_json_is_still_an_error(void **state)
{
    (void)state;
    expect_events(
        P, "event: error\ndata: upstream connect error or disconnect/reset before headers\n\n", ACN_OK, 1,
        "error text=upstream connect error or disconnect/reset before headers raw=upstream connect error or "
        "disconnect/reset before headers\n");
    expect_events(P, "event: error\ndata: \"Overloaded\"\n\n", ACN_OK, 1,
                  "error text=\"Overloaded\" raw=\"Overloaded\"\n");
    expect_events(P,
                  "event: error\ndata: {\"error\": {\"type\": \"api_error\", \"message\": \"Internal\"}}\n\n",
                  ACN_OK, 1,
                  "error name=api_error text=Internal raw={\"error\": {\"type\": \"api_error\", \"message\": "
                  "\"Internal\"}}\n");
}

static void unknown_event_types_are_ignored_unparsed(void **state)
{
    (void)state;
    expect_events(P,
                  "event: future_event\ndata: {not json at all\n\n"
                  "event: content_block_delta\n"
                  "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"future_delta\","
                  "\"x\":1}}\n\n"
                  "data: {\"type\":\"future_type\",\"value\":[1,{\"a\":2}]}\n\n"
                  ": a comment\n\n",
                  ACN_OK, 0, "");
}

static void truncated_stream_is_not_done_and_drops_the_partial_event(void **state)
{
    (void)state;
    expect_events(
        P,
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
        "\"kept\"}}\n\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_d",
        ACN_OK, 0, "text_delta 0 text=kept\n");
}

static void malformed_json_fails_and_stays_failed(void **state)
{
    acn_decoder d;
    transcript t = {0};
    static const char good[] = "event: ping\ndata: {\"type\":\"ping\"}\n\n";
    static const char bad[] = "event: content_block_delta\n"
                              "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
                              "\"text_delta\",\"text\":\"lost\"}\n\n";

    (void)state;
    acn_buf_init(&t.text, 1 << 16);
    assert_int_equal(acn_decoder_init(&d, P, 0, record, &t), ACN_OK);
    assert_int_equal(acn_decoder_feed(&d, good, strlen(good)), ACN_OK);
    assert_int_equal(acn_decoder_feed(&d, bad, strlen(bad)), ACN_ERR_MALFORMED);
    assert_non_null(strstr(acn_decoder_error(&d), "malformed JSON"));
    assert_non_null(strstr(acn_decoder_error(&d), "content_block_delta"));
    /* nothing from the bad payload was emitted, and every later call fails the same way */
    assert_string_equal(t.text.ptr, "ping\n");
    assert_int_equal(acn_decoder_feed(&d, good, strlen(good)), ACN_ERR_MALFORMED);
    assert_int_equal(acn_decoder_finish(&d), ACN_ERR_MALFORMED);
    assert_string_equal(t.text.ptr, "ping\n");
    acn_decoder_free(&d);
    acn_buf_free(&t.text);
}

static void payloads_that_are_not_objects_are_malformed(void **state)
{
    static const char *const inputs[] = {"event: ping\ndata: [1]\n\n", "event: ping\ndata: \"ping\"\n\n",
                                         "event: ping\ndata: {} {}\n\n", "event: ping\ndata:    \n\n",
                                         "event: ping\ndata: {\"a\":\"\xff\"}\n\n"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        decoded out;

        decode_once(P, 0, inputs[i], &out);
        if (out.status != ACN_ERR_MALFORMED)
            fail_msg("input %zu: status %d, expected malformed", i, out.status);
        assert_string_equal(out.transcript, "");
        assert_true(strlen(out.error) > 0);
        decoded_free(&out);
    }
}

static void block_events_need_an_index_in_range(void **state)
{
    decoded out;

    (void)state;
    decode_once(
        P, 0,
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n",
        &out);
    assert_int_equal(out.status, ACN_ERR_MALFORMED);
    assert_non_null(strstr(out.error, "index"));
    decoded_free(&out);
    decode_once(P, 0,
                "event: content_block_delta\n"
                "data: {\"type\":\"content_block_delta\",\"index\":99999999999999999999,\"delta\":{}}\n\n",
                &out);
    assert_int_equal(out.status, ACN_ERR_MALFORMED);
    decoded_free(&out);
    decode_once(
        P, 0,
        "event: content_block_start\n"
        "data: {\"type\":\"content_block_start\",\"index\":4096,\"content_block\":{\"type\":\"text\"}}\n\n",
        &out);
    assert_int_equal(out.status, ACN_ERR_LIMIT);
    decoded_free(&out);
    decode_once(P, 0, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":-1}\n\n",
                &out);
    assert_int_equal(out.status, ACN_ERR_LIMIT);
    decoded_free(&out);
}

static void events_over_the_bound_fail_with_limit(void **state)
{
    decoded out;
    char input[600];

    (void)state;
    snprintf(
        input, sizeof input,
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
        "\"%0300d\"}}\n\n",
        0);
    decode_once(P, 256, input, &out);
    assert_int_equal(out.status, ACN_ERR_LIMIT);
    assert_non_null(strstr(out.error, "256"));
    decoded_free(&out);
    decode_once(P, 1024, input, &out);
    assert_int_equal(out.status, ACN_OK);
    decoded_free(&out);
}

static void callback_can_stop_decoding(void **state)
{
    acn_decoder d;
    transcript t = {0};
    static const char input[] = "event: ping\ndata: {}\n\nevent: ping\ndata: {}\n\nevent: ping\ndata: {}\n\n";

    (void)state;
    acn_buf_init(&t.text, 1 << 16);
    t.stop_after = 2;
    assert_int_equal(acn_decoder_init(&d, P, 0, record, &t), ACN_OK);
    assert_int_equal(acn_decoder_feed(&d, input, strlen(input)), ACN_ERR_ABORTED);
    assert_int_equal(t.events, 2);
    assert_int_equal(acn_decoder_feed(&d, input, strlen(input)), ACN_ERR_ABORTED);
    assert_int_equal(t.events, 2);
    acn_decoder_free(&d);
    acn_buf_free(&t.text);
}

static void unknown_provider_is_refused(void **state)
{
    acn_decoder d;

    (void)state;
    assert_int_equal(acn_decoder_init(&d, (acn_provider)7, 0, record, NULL), ACN_ERR_MALFORMED);
    assert_int_equal(acn_decoder_feed(&d, "x", 1), ACN_ERR_MALFORMED);
    acn_decoder_free(&d);
}

static void one_decoder_decodes_many_streams_worth_of_payloads(void **state)
{
    acn_decoder d;
    transcript t = {0};
    static const char delta[] = "event: content_block_delta\n"
                                "data: "
                                "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_"
                                "delta\",\"text\":\"ab\"}}\n\n";
    int i;

    (void)state;
    acn_buf_init(&t.text, 1 << 20);
    assert_int_equal(acn_decoder_init(&d, P, 0, record, &t), ACN_OK);
    for (i = 0; i < 5000; i++)
        assert_int_equal(acn_decoder_feed(&d, delta, strlen(delta)), ACN_OK);
    assert_int_equal(t.events, 5000);
    acn_decoder_free(&d);
    acn_buf_free(&t.text);
}

FIXTURE_TEST(text)
FIXTURE_TEST(text_crlf_cached)
FIXTURE_TEST(tool_use_parallel)
FIXTURE_TEST(thinking)
FIXTURE_TEST(thinking_tool_use)
FIXTURE_TEST(citations)
FIXTURE_TEST(server_tool_use)
FIXTURE_TEST(stop_max_tokens)
FIXTURE_TEST(stop_sequence)
FIXTURE_TEST(stop_refusal)
FIXTURE_TEST(stop_pause_turn)
FIXTURE_TEST(stop_context_window_exceeded)
FIXTURE_TEST(error_overloaded)
FIXTURE_TEST(truncated)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_stream_gives_start_deltas_usage_stop_and_done),
        cmocka_unit_test(json_escapes_arrive_as_utf8),
        cmocka_unit_test(fast_text_path_agrees_with_the_general_path),
        cmocka_unit_test(key_order_and_whitespace_do_not_matter),
        cmocka_unit_test(event_name_is_used_when_the_payload_has_no_type),
        cmocka_unit_test(tool_use_streams_start_argument_fragments_and_end),
        cmocka_unit_test(input_given_whole_at_block_start_is_one_fragment),
        cmocka_unit_test(server_tool_use_is_marked_and_its_result_block_ignored),
        cmocka_unit_test(thinking_signature_and_redacted_thinking),
        cmocka_unit_test(citations_delta_carries_the_citation_as_json),
        cmocka_unit_test(every_stop_reason_maps),
        cmocka_unit_test(message_delta_usage_may_carry_every_count),
        cmocka_unit_test(negative_usage_counts_are_not_sent),
        cmocka_unit_test(error_event_passes_type_message_and_payload),
        cmocka_unit_test(error_event_that_is_not_json_is_still_an_error),
        cmocka_unit_test(unknown_event_types_are_ignored_unparsed),
        cmocka_unit_test(truncated_stream_is_not_done_and_drops_the_partial_event),
        cmocka_unit_test(malformed_json_fails_and_stays_failed),
        cmocka_unit_test(payloads_that_are_not_objects_are_malformed),
        cmocka_unit_test(block_events_need_an_index_in_range),
        cmocka_unit_test(events_over_the_bound_fail_with_limit),
        cmocka_unit_test(callback_can_stop_decoding),
        cmocka_unit_test(unknown_provider_is_refused),
        cmocka_unit_test(one_decoder_decodes_many_streams_worth_of_payloads),
        cmocka_unit_test(fixture_text),
        cmocka_unit_test(fixture_text_crlf_cached),
        cmocka_unit_test(fixture_tool_use_parallel),
        cmocka_unit_test(fixture_thinking),
        cmocka_unit_test(fixture_thinking_tool_use),
        cmocka_unit_test(fixture_citations),
        cmocka_unit_test(fixture_server_tool_use),
        cmocka_unit_test(fixture_stop_max_tokens),
        cmocka_unit_test(fixture_stop_sequence),
        cmocka_unit_test(fixture_stop_refusal),
        cmocka_unit_test(fixture_stop_pause_turn),
        cmocka_unit_test(fixture_stop_context_window_exceeded),
        cmocka_unit_test(fixture_error_overloaded),
        cmocka_unit_test(fixture_truncated),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
