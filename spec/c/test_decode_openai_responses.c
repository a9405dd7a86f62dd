/*
 * test_decode_openai_responses.c: the OpenAI Responses streaming dialect, against the
 * documented event format (response.created, output items added and done, text, refusal,
 * function-call-argument and reasoning-summary deltas, response.completed / .incomplete /
 * .failed, the error event). Every stream is fed whole, split at every byte, one and seven
 * bytes at a time, and as parsed SSE events.
 */
#include "decode_helpers.h"

#define P ACN_PROVIDER_OPENAI_RESPONSES

#define EV(type, fields) "event: " type "\ndata: {\"type\":\"" type "\",\"sequence_number\":1," fields "}\n\n"
#define CREATED                                                                                              \
    EV("response.created", "\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":"             \
                           "\"in_progress\",\"model\":\"gpt-5.1\",\"output\":[],\"tools\":[{\"type\":"       \
                           "\"function\",\"name\":\"x\"}],\"usage\":null}")
#define COMPLETED(usage)                                                                                     \
    EV("response.completed", "\"response\":{\"id\":\"resp_1\",\"status\":\"completed\",\"model\":"           \
                             "\"gpt-5.1\",\"output\":[{\"type\":\"message\",\"content\":[{\"type\":"         \
                             "\"output_text\",\"text\":\"ignored\"}]}],\"usage\":" usage "}")

static void text_deltas_then_completed_with_usage(void **state)
{
    (void)state;
    expect_events(
        P,
        CREATED EV("response.output_text.delta",
                   "\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hel\"")
            EV("response.output_text.delta", "\"item_id\":\"msg_1\",\"output_index\":0,\"content_"
                                             "index\":0,\"delta\":\"lo \\u00e9\"")
                EV("response.output_text.done", "\"item_id\":\"msg_1\",\"output_index\":0,\"text\":"
                                                "\"Hello \\u00e9\"")
                    COMPLETED("{\"input_tokens\":12,\"input_tokens_details\":{\"cached_tokens\":8},"
                              "\"output_tokens\":3,\"output_tokens_details\":{\"reasoning_tokens\":0},"
                              "\"total_tokens\":15}"),
        ACN_OK, 1,
        "message_start id=resp_1 name=gpt-5.1\n"
        "text_delta 0 text=Hel\n"
        "text_delta 0 text=lo \xc3\xa9\n"
        "usage usage=12,3,8,-1\n"
        "stop reason=end_turn text=completed\n"
        "done\n");
}

static void reasoning_item_is_a_thinking_block_with_its_id_and_encrypted_content(void **state)
{
    (void)state;
    expect_events(
        P,
        CREATED EV("response.output_item.added", "\"output_index\":0,\"item\":{\"id\":\"rs_1\",\"type\":"
                                                 "\"reasoning\",\"summary\":[]}")
            EV("response.reasoning_summary_part.added",
               "\"item_id\":\"rs_1\",\"output_index\":0,\"summary_index\":0,\"part\":{\"type\":\"summary_"
               "text\"}") EV("response.reasoning_summary_text.delta",
                             "\"item_id\":\"rs_1\",\"output_index\":0,\"summary_index\":0,\"delta\":\"First."
                             "\"") EV("response.reasoning_summary_part.added",
                                      "\"item_id\":\"rs_1\",\"output_index\":0,\"summary_index\":1,\"part\":{"
                                      "}")
                EV("response.reasoning_summary_text.delta",
                   "\"item_id\":\"rs_1\",\"output_index\":0,\"summary_index\":1,\"delta\":\"Second.\"")
                    EV("response.output_item.done",
                       "\"output_index\":0,\"item\":{\"id\":\"rs_1\",\"type\":\"reasoning\",\"summary\":"
                       "[{\"type\":\"summary_text\",\"text\":\"First.\"}],\"encrypted_content\":\"gAAA==\"}")
                        COMPLETED("{\"input_tokens\":5,\"output_tokens\":9}"),
        ACN_OK, 1,
        "message_start id=resp_1 name=gpt-5.1\n"
        "thinking_delta 0 id=rs_1 text=First.\n"
        "thinking_delta 0 id=rs_1 text=\\n\\n\n"
        "thinking_delta 0 id=rs_1 text=Second.\n"
        "signature_delta 0 id=rs_1 text=gAAA==\n"
        "block_end 0\n"
        "usage usage=5,9,-1,-1\n"
        "stop reason=end_turn text=completed\n"
        "done\n");
}

static void function_call_items_are_tool_calls_keyed_by_call_id(void **state)
{
    (void)state;
    expect_events(
        P,
        CREATED EV("response.output_item.added",
                   "\"output_index\":1,\"item\":{\"id\":\"fc_1\",\"type\":\"function_call\",\"status\":"
                   "\"in_progress\",\"arguments\":\"\",\"call_id\":\"call_a\",\"name\":\"get_weather\"}")
            EV("response.function_call_arguments.delta",
               "\"item_id\":\"fc_1\",\"output_index\":1,\"delta\":"
               "\"{\\\"city\\\":\"") EV("response.function_call_arguments.delta",
                                        "\"item_id\":\"fc_1\",\"output_index\":1,"
                                        "\"delta\":\"\\\"Paris\\\"}\"")
                EV("response.function_call_arguments.done",
                   "\"item_id\":\"fc_1\",\"output_index\":1,\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"")
                    EV("response.output_item.done",
                       "\"output_index\":1,\"item\":{\"id\":\"fc_1\",\"type\":\"function_call\","
                       "\"arguments\":"
                       "\"{\\\"city\\\":\\\"Paris\\\"}\",\"call_id\":\"call_a\",\"name\":\"get_weather\"}")
                        COMPLETED("{\"input_tokens\":5,\"output_tokens\":9}"),
        ACN_OK, 1,
        "message_start id=resp_1 name=gpt-5.1\n"
        "tool_call_start 1 id=call_a name=get_weather\n"
        "tool_args_delta 1 text={\"city\":\n"
        "tool_args_delta 1 text=\"Paris\"}\n"
        "tool_call_end 1\n"
        "usage usage=5,9,-1,-1\n"
        "stop reason=tool_use text=completed\n"
        "done\n");
}

static void a_call_seen_only_when_done_starts_with_its_whole_arguments(void **state)
{
    (void)state;
    expect_events(
        P,
        EV("response.output_item.done",
           "\"output_index\":0,\"item\":{\"type\":\"function_call\",\"arguments\":\"{}\",\"call_id\":"
           "\"call_z\",\"name\":\"now\"}") COMPLETED("{}"),
        ACN_OK, 1,
        "tool_call_start 0 id=call_z name=now\n"
        "tool_args_delta 0 text={}\n"
        "tool_call_end 0\n"
        "message_start id=resp_1 name=gpt-5.1\n"
        "stop reason=tool_use text=completed\n"
        "done\n");
}

static void incomplete_stops_for_its_reason(void **state)
{
    (void)state;
    expect_events(P,
                  EV("response.incomplete", "\"response\":{\"id\":\"r\",\"status\":\"incomplete\","
                                            "\"incomplete_details\":{\"reason\":\"max_output_tokens\"}}"),
                  ACN_OK, 1,
                  "message_start id=r\n"
                  "stop reason=max_tokens text=max_output_tokens\n"
                  "done\n");
    expect_events(P,
                  EV("response.incomplete", "\"response\":{\"status\":\"incomplete\",\"incomplete_details\":{"
                                            "\"reason\":\"content_filter\"}}"),
                  ACN_OK, 1,
                  "stop reason=refusal text=content_filter\n"
                  "done\n");
}

static void refusal_deltas_are_text_and_stop_as_refusal(void **state)
{
    (void)state;
    expect_events(P,
                  EV("response.refusal.delta", "\"item_id\":\"m\",\"output_index\":0,\"delta\":\"No.\"")
                      COMPLETED("{}"),
                  ACN_OK, 1,
                  "text_delta 0 text=No.\n"
                  "message_start id=resp_1 name=gpt-5.1\n"
                  "stop reason=refusal text=completed\n"
                  "done\n");
}

static void error_event_and_failed_response_are_errors(void **state)
{
    (void)state;
    expect_events(
        P,
        "event: error\ndata: {\"type\":\"error\",\"code\":\"rate_limit_exceeded\",\"message\":"
        "\"Slow down\",\"param\":null}\n\n",
        ACN_OK, 1,
        "error name=rate_limit_exceeded text=Slow down raw={\"type\":\"error\",\"code\":\"rate_limit_"
        "exceeded\",\"message\":\"Slow down\",\"param\":null}\n");
    expect_events(P,
                  EV("response.failed",
                     "\"response\":{\"id\":\"r\",\"status\":\"failed\",\"error\":{\"code\":"
                     "\"server_error\",\"message\":\"Bad \\\"luck\\\"\\n\"}}"),
                  ACN_OK, 1,
                  "error name=server_error text=Bad \"luck\"\\n raw={\"error\":{\"code\":\"server_error\","
                  "\"message\":\"Bad \\\"luck\\\"\\u000a\"}}\n");
}

static void events_named_only_by_their_type_are_read(void **state)
{
    (void)state;
    expect_events(P,
                  "data: {\"type\":\"response.output_text.delta\",\"output_index\":0,\"delta\":\"Hi\"}\n\n"
                  "data: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\"}}\n\n",
                  ACN_OK, 1,
                  "text_delta 0 text=Hi\n"
                  "stop reason=end_turn text=completed\n"
                  "done\n");
}

static void a_stream_without_a_terminal_event_is_not_done(void **state)
{
    (void)state;
    expect_events(P, CREATED EV("response.output_text.delta", "\"output_index\":0,\"delta\":\"Hi\""), ACN_OK,
                  0,
                  "message_start id=resp_1 name=gpt-5.1\n"
                  "text_delta 0 text=Hi\n");
}

static void a_delta_without_an_output_index_is_malformed(void **state)
{
    decoded out;

    (void)state;
    decode_once(P, 0, EV("response.function_call_arguments.delta", "\"delta\":\"{}\""), &out);
    assert_int_equal(out.status, ACN_ERR_MALFORMED);
    assert_non_null(strstr(out.error, "output_index"));
    decoded_free(&out);
}

/* The fast path's text delta gives what the general path gives for the same
 * payload with its keys in another order; near misses take the general path. */
static void a_text_delta_decodes_the_same_on_the_fast_path(void **state)
{
    static const char *const fast[] = {
        "{\"type\":\"response.output_text.delta\",\"sequence_number\":4,\"item_id\":\"msg_1\",\"output_"
        "index\":1,\"content_index\":0,\"delta\":\"H\\u00e9\\\"\\n\",\"logprobs\":[],\"obfuscation\":\"x1\"}",
        "{\"type\":\"response.output_text.delta\",\"item_id\":\"msg_1\",\"output_index\":0,\"content_"
        "index\":0,\"delta\":\"H\\u00e9\\\"\\n\"}",
        "{\"type\":\"response.output_text.delta\",\"item_id\":\"msg_1\",\"output_index\":0,\"content_"
        "index\":0,\"delta\":\"H\\u00e9\\\"\\n\",\"sequence_number\":1}",
    };
    static const char general[] =
        "data: "
        "{\"delta\":\"H\\u00e9\\\"\\n\",\"type\":\"response.output_text.delta\",\"output_index\":0}\n\n";
    char input[512];
    decoded a;
    decoded b;
    size_t i;

    (void)state;
    decode_once(P, 0, general, &b);
    assert_string_equal(b.transcript, "text_delta 0 text=H\xc3\xa9\"\\n\n");
    for (i = 0; i < sizeof(fast) / sizeof(fast[0]); i++) {
        snprintf(input, sizeof input, "data: %s\n\n", fast[i]);
        decode_once(P, 0, input, &a);
        assert_string_equal(a.transcript, b.transcript);
        assert_int_equal(a.status, ACN_OK);
        decoded_free(&a);
    }
    decoded_free(&b);
    /* a trailing comma, a byte past the object, or a key twice is not JSON on either path */
    decode_once(P, 0,
                "data: {\"type\":\"response.output_text.delta\",\"item_id\":\"m\",\"output_index\":0,"
                "\"content_index\":0,\"delta\":\"x\",}\n\n",
                &a);
    assert_int_equal(a.status, ACN_ERR_MALFORMED);
    decoded_free(&a);
    decode_once(P, 0,
                "data: {\"type\":\"response.output_text.delta\",\"item_id\":\"m\",\"output_index\":0,"
                "\"content_index\":0,\"delta\":\"x\"}}\n\n",
                &a);
    assert_int_equal(a.status, ACN_ERR_MALFORMED);
    decoded_free(&a);
    decode_once(P, 0,
                "data: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"item_id\":\"m\","
                "\"output_index\":0,\"content_index\":0,\"delta\":\"x\",\"sequence_number\":2}\n\n",
                &a);
    assert_string_equal(a.transcript,
                        "text_delta 0 text=x\n"); /* JSON allows it; the general path reads it */
    decoded_free(&a);
}

FIXTURE_TEST(text)
FIXTURE_TEST(reasoning_tool_call)
FIXTURE_TEST(text_then_tool_calls)
FIXTURE_TEST(incomplete_max_output_tokens)
FIXTURE_TEST(refusal)
FIXTURE_TEST(error_event)
FIXTURE_TEST(failed)
FIXTURE_TEST(type_only_crlf)
FIXTURE_TEST(truncated)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_deltas_then_completed_with_usage),
        cmocka_unit_test(reasoning_item_is_a_thinking_block_with_its_id_and_encrypted_content),
        cmocka_unit_test(function_call_items_are_tool_calls_keyed_by_call_id),
        cmocka_unit_test(a_call_seen_only_when_done_starts_with_its_whole_arguments),
        cmocka_unit_test(incomplete_stops_for_its_reason),
        cmocka_unit_test(refusal_deltas_are_text_and_stop_as_refusal),
        cmocka_unit_test(error_event_and_failed_response_are_errors),
        cmocka_unit_test(events_named_only_by_their_type_are_read),
        cmocka_unit_test(a_stream_without_a_terminal_event_is_not_done),
        cmocka_unit_test(a_delta_without_an_output_index_is_malformed),
        cmocka_unit_test(a_text_delta_decodes_the_same_on_the_fast_path),
        cmocka_unit_test(fixture_text),
        cmocka_unit_test(fixture_reasoning_tool_call),
        cmocka_unit_test(fixture_text_then_tool_calls),
        cmocka_unit_test(fixture_incomplete_max_output_tokens),
        cmocka_unit_test(fixture_refusal),
        cmocka_unit_test(fixture_error_event),
        cmocka_unit_test(fixture_failed),
        cmocka_unit_test(fixture_type_only_crlf),
        cmocka_unit_test(fixture_truncated),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
