/*
 * test_decode_openai.c: the OpenAI Chat Completions streaming dialect, against the
 * documented chunk format (chat.completion.chunk with choices[].delta, tool_calls by
 * index, finish_reason, the usage chunk, [DONE], an error object). Every stream is fed
 * whole, split at every byte, one and seven bytes at a time, and as parsed SSE events.
 */
#include "decode_helpers.h"

#define P ACN_PROVIDER_OPENAI

#define CHUNK(choices)                                                                                       \
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1764339000,\"model\":"    \
    "\"gpt-4o\",\"system_fingerprint\":\"fp_1\",\"choices\":[" choices "],\"usage\":null}\n\n"

static void text_chunks_give_start_deltas_stop_and_done(void **state)
{
    (void)state;
    expect_events(
        P,
        CHUNK("{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},"
              "\"logprobs\":null,\"finish_reason\":null}")
            CHUNK("{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"logprobs\":null,\"finish_reason\":null}")
                CHUNK("{\"index\":0,\"delta\":{\"content\":\"lo \\u00e9\\ud83d\\ude00\\n\"},\"logprobs\":"
                      "null,\"finish_reason\":null}") CHUNK("{\"index\":0,\"delta\":{},\"logprobs\":null,"
                                                            "\"finish_reason\":\"stop\"}") "data: [DONE]\n\n",
        ACN_OK, 1,
        "message_start id=chatcmpl-1 name=gpt-4o\n"
        "text_delta 0 text=Hel\n"
        "text_delta 0 text=lo \xc3\xa9\xf0\x9f\x98\x80\\n\n"
        "stop reason=end_turn text=stop\n"
        "done\n");
}

static void azure_prompt_filter_chunk_does_not_start_the_message(void **state)
{
    (void)state;
    expect_events(
        P,
        "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\","
        "\"prompt_filter_results\":[{\"prompt_index\":0,\"content_filter_results\":{\"hate\":{"
        "\"filtered\":false,\"severity\":\"safe\"}}}]}\n\n"
        "data: {\"choices\":[{\"content_filter_results\":{},\"delta\":{\"content\":\"Hi\",\"role\":"
        "\"assistant\"},\"finish_reason\":null,\"index\":0,\"logprobs\":null}],\"created\":1764339000,"
        "\"id\":\"chatcmpl-az1\",\"model\":\"gpt-4o-2024-11-20\",\"object\":\"chat.completion.chunk\","
        "\"system_fingerprint\":\"fp_ee1d74bde0\"}\n\n",
        ACN_OK, 0, "message_start id=chatcmpl-az1 name=gpt-4o-2024-11-20\ntext_delta 0 text=Hi\n");
}

static void usage_chunk_with_empty_choices(void **state)
{
    (void)state;
    expect_events(P,
                  "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":"
                  "\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":19,\"completion_tokens\":10,"
                  "\"total_tokens\":29,\"prompt_tokens_details\":{\"cached_tokens\":4,\"audio_tokens\":0},"
                  "\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n"
                  "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,"
                  "\"prompt_tokens_details\":{\"cached_tokens\":null}}}\n\n",
                  ACN_OK, 0,
                  "message_start id=chatcmpl-1 name=gpt-4o\n"
                  "usage usage=19,10,4,-1\n"
                  "usage usage=1,2,-1,-1\n");
}

static void parallel_tool_calls_interleave_by_index_and_end_at_finish(void **state)
{
    (void)state;
    expect_events(
        P,
        CHUNK(
            "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,"
            "\"id\":"
            "\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},"
            "\"finish_reason\":null}")
            CHUNK("{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":"
                  "\"function\","
                  "\"function\":{\"name\":\"get_time\",\"arguments\":\"{\\\"tz\"}}]},\"finish_reason\":null}")
                CHUNK("{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
                      "\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},\"finish_reason\":null}")
                    CHUNK("{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":"
                          "\"\\\":\\\"UTC\\\"}\"}}]},\"finish_reason\":null}")
                        CHUNK(
                            "{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}") "data: [DONE]\n\n",
        ACN_OK, 1,
        "message_start id=chatcmpl-1 name=gpt-4o\n"
        "tool_call_start 0 id=call_a name=get_weather\n"
        "tool_call_start 1 id=call_b name=get_time\n"
        "tool_args_delta 1 text={\"tz\n"
        "tool_args_delta 0 text={\"city\":\"Paris\"}\n"
        "tool_args_delta 1 text=\":\"UTC\"}\n"
        "tool_call_end 0\n"
        "tool_call_end 1\n"
        "stop reason=tool_use text=tool_calls\n"
        "done\n");
}

static void several_calls_in_one_delta_and_a_missing_id(void **state)
{
    (void)state;
    expect_events(
        P,
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"name\":\"a\",\"arguments\":"
        "\"{}\"}},{\"id\":\"\",\"function\":{\"name\":\"b\",\"arguments\":\"{\\\"x\\\":1}\"}}]}}]}\n\n"
        "data: [DONE]\n\n",
        ACN_OK, 1,
        "tool_call_start 0 id=call_0 name=a\n"
        "tool_args_delta 0 text={}\n"
        "tool_call_start 1 id=call_1 name=b\n"
        "tool_args_delta 1 text={\"x\":1}\n"
        "tool_call_end 0\n"
        "tool_call_end 1\n"
        "done\n");
}

/* A choice's index names it wherever it stands; one without stands for its position;
 * the first choice with index 0 is the one read. */
static void the_choice_with_index_0_is_read_wherever_it_stands(void **state)
{
    (void)state;
    expect_events(
        P,
        "data: {\"choices\":[{\"index\":1,\"delta\":{\"content\":\"B\"}},{\"delta\":{\"content\":\"X\"}},"
        "{\"delta\":{\"content\":\"A\",\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":{\"name\":"
        "\"f\"}}]},\"index\":0,\"finish_reason\":\"tool_calls\"},{\"index\":0,\"delta\":{\"content\":"
        "\"C\"}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"D\"}}]}\n\n",
        ACN_OK, 1,
        "text_delta 0 text=A\n"
        "tool_call_start 0 id=c name=f\n"
        "tool_call_end 0\n"
        "stop reason=tool_use text=tool_calls\n"
        "text_delta 0 text=D\n"
        "done\n");
}

static void a_negative_choice_index_is_malformed_wherever_it_stands(void **state)
{
    decoded out;

    (void)state;
    decode_once(P, 0, "data: {\"choices\":[{\"index\":-1,\"delta\":{\"content\":\"N\"}}]}\n\n", &out);
    assert_int_equal(out.status, ACN_ERR_MALFORMED);
    assert_string_equal(out.transcript, "");
    decoded_free(&out);
    decode_once(P, 0, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"A\"}},{\"index\":-2}]}\n\n",
                &out);
    assert_int_equal(out.status, ACN_ERR_MALFORMED);
    assert_string_equal(out.transcript, "");
    decoded_free(&out);
}

static void arguments_sent_as_an_object_are_passed_as_json(void **state)
{
    (void)state;
    expect_events(
        P,
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_o\","
        "\"function\":{\"name\":\"f\",\"arguments\":{\"city\": \"Paris\", \"days\": [1, 2]}}}]},"
        "\"finish_reason\":\"tool_calls\"}]}\n\n",
        ACN_OK, 1,
        "tool_call_start 0 id=call_o name=f\n"
        "tool_args_delta 0 text={\"city\":\"Paris\",\"days\":[1,2]}\n"
        "tool_call_end 0\n"
        "stop reason=tool_use text=tool_calls\n"
        "done\n");
}

static void done_ends_calls_that_never_got_a_finish_reason(void **state)
{
    (void)state;
    expect_events(
        P,
        CHUNK("{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":3,\"id\":\"call_z\",\"function\":{"
              "\"name\":\"f\",\"arguments\":\"\"}}]}}") "data: [DONE]\n\n",
        ACN_OK, 1,
        "message_start id=chatcmpl-1 name=gpt-4o\n"
        "tool_call_start 3 id=call_z name=f\n"
        "tool_call_end 3\n"
        "done\n");
}

static void refusal_text_is_text_and_the_stop_reason_is_refusal(void **state)
{
    (void)state;
    expect_events(P,
                  CHUNK("{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"refusal\":\"\"}}")
                      CHUNK("{\"index\":0,\"delta\":{\"refusal\":\"I can't help with that.\"}}")
                          CHUNK("{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}"),
                  ACN_OK, 1,
                  "message_start id=chatcmpl-1 name=gpt-4o\n"
                  "text_delta 0 text=I can't help with that.\n"
                  "stop reason=refusal text=stop\n"
                  "done\n");
}

static void every_finish_reason_maps(void **state)
{
    static const char *const sent[] = {"stop", "tool_calls", "function_call", "length", "content_filter"};
    static const char *const mapped[] = {"end_turn", "tool_use", "tool_use", "max_tokens", "refusal"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof sent / sizeof sent[0]; i++) {
        char input[256];
        char expected[128];

        snprintf(input, sizeof input,
                 "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"%s\"}]}\n\n", sent[i]);
        /* ended by the close after the finish_reason, as compatible servers end */
        snprintf(expected, sizeof expected, "stop reason=%s text=%s\ndone\n", mapped[i], sent[i]);
        expect_events(P, input, ACN_OK, 1, expected);
    }
}

static void only_the_choice_with_index_0_is_read(void **state)
{
    (void)state;
    expect_events(
        P,
        "data: {\"choices\":[{\"index\":1,\"delta\":{\"content\":\"second\"},\"finish_reason\":\"length\"},"
        "{\"index\":0,\"delta\":{\"content\":\"other position\"}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"first\"}}]}\n\n",
        ACN_OK, 0, "text_delta 0 text=other position\ntext_delta 0 text=first\n");
}

/* JSON key order means nothing (RFC 8259), and Azure OpenAI sends a choice's index
 * after its delta, and a tool call's after its function: the choice is the same. */
static void a_choice_index_after_its_delta_still_picks_the_choice(void **state)
{
    (void)state;
    expect_events(
        P,
        "data: {\"choices\":[{\"delta\":{\"content\":\"one\"},\"index\":0}]}\n\n"
        "data: "
        "{\"choices\":[{\"delta\":{\"content\":\"two\",\"refusal\":\"no\",\"tool_calls\":[{\"function\":"
        "{\"name\":\"g\",\"arguments\":\"{}\"},\"id\":\"call_g\",\"index\":0}]},\"finish_reason\":\"length\","
        "\"index\":1}]}\n\n"
        "data: "
        "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\"},"
        "\"id\":\"call_f\",\"index\":2},{\"function\":{\"arguments\":\"\\\":1}\"},\"index\":2}]},\"index\":0}"
        "]}\n\n"
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\",\"index\":0}]}\n\n"
        "data: [DONE]\n\n",
        ACN_OK, 1,
        "text_delta 0 text=one\n"
        "tool_call_start 2 id=call_f name=f\n"
        "tool_args_delta 2 text={\"a\n"
        "tool_args_delta 2 text=\":1}\n"
        "tool_call_end 2\n"
        "stop reason=tool_use text=stop\n"
        "done\n");
}

static void reasoning_from_compatible_servers_is_thinking(void **state)
{
    (void)state;
    expect_events(P,
                  "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"Hmm.\"}}]}\n\n"
                  "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\" Yes.\"}}]}\n\n",
                  ACN_OK, 0, "thinking_delta 0 text=Hmm.\nthinking_delta 0 text= Yes.\n");
}

static void legacy_function_call_is_call_zero(void **state)
{
    (void)state;
    expect_events(
        P,
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"function_call\":{\"name\":\"f\",\"arguments\":"
        "\"\"}}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"function_call\":{\"arguments\":\"{}\"}}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"function_call\"}]}\n\n",
        ACN_OK, 1,
        "tool_call_start 0 id=call_0 name=f\n"
        "tool_args_delta 0 text={}\n"
        "tool_call_end 0\n"
        "stop reason=tool_use text=function_call\n"
        "done\n");
}

static void stop_after_tool_calls_is_tool_use(void **state)
{
    (void)state;
    expect_events(
        P,
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":"
        "{\"name\":\"f\",\"arguments\":\"{}\"}}]},\"finish_reason\":\"stop\"}]}\n\n",
        ACN_OK, 1,
        "tool_call_start 0 id=c name=f\n"
        "tool_args_delta 0 text={}\n"
        "tool_call_end 0\n"
        "stop reason=tool_use text=stop\n"
        "done\n");
}

static void error_object_in_a_data_payload(void **state)
{
    (void)state;
    expect_events(
        P,
        "data: {\"error\":{\"message\":\"The server had an error.\",\"type\":\"server_error\",\"param\":"
        "null,\"code\":null}}\n\n",
        ACN_OK, 1,
        "error name=server_error text=The server had an error. raw={\"error\":{\"message\":\"The server "
        "had an error.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n");
    expect_events(
        P, "data: {\"error\":{\"message\":\"Slow down\",\"code\":\"rate_limit_exceeded\"}}\n\n", ACN_OK, 1,
        "error name=rate_limit_exceeded text=Slow down raw={\"error\":{\"message\":\"Slow down\",\"code\":"
        "\"rate_limit_exceeded\"}}\n");
    expect_events(P, "data: {\"error\": \"Internal server error\"}\n\n", ACN_OK, 1,
                  "error text=Internal server error raw={\"error\": \"Internal server error\"}\n");
}

static void stream_without_done_is_not_done(void **state)
{
    (void)state;
    expect_events(P, CHUNK("{\"index\":0,\"delta\":{\"content\":\"cut\"}}") "data: {\"choices\":[{\"ind",
                  ACN_OK, 0, "message_start id=chatcmpl-1 name=gpt-4o\ntext_delta 0 text=cut\n");
}

/* Compatible servers that send no [DONE]: a body that ends after the choice's
 * finish_reason is whole, with the usage chunk that followed it; one that ends
 * before any finish_reason is still cut off (stream_without_done_is_not_done). */
static void a_close_after_the_finish_reason_is_done(void **state)
{
    (void)state;
    expect_events(P,
                  CHUNK("{\"index\":0,\"delta\":{\"content\":\"whole\"}}")
                      CHUNK("{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}"),
                  ACN_OK, 1,
                  "message_start id=chatcmpl-1 name=gpt-4o\n"
                  "text_delta 0 text=whole\n"
                  "stop reason=end_turn text=stop\n"
                  "done\n");
}

static void a_close_after_finish_and_usage_keeps_the_usage_and_ends_calls(void **state)
{
    (void)state;
    expect_events(
        P,
        CHUNK("{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"function\":{"
              "\"name\":\"f\",\"arguments\":\"{}\"}}]}}")
            CHUNK("{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}") "data: "
                                                                                 "{\"choices\":[],\"usage\":{"
                                                                                 "\"prompt_tokens\":7,"
                                                                                 "\"completion_tokens\":3,"
                                                                                 "\"prompt_tokens_details\":{"
                                                                                 "\"cached_tokens\":5}}}\n\n",
        ACN_OK, 1,
        "message_start id=chatcmpl-1 name=gpt-4o\n"
        "tool_call_start 0 id=call_1 name=f\n"
        "tool_args_delta 0 text={}\n"
        "tool_call_end 0\n"
        "stop reason=tool_use text=tool_calls\n"
        "usage usage=7,3,5,-1\n"
        "done\n");
}

static void done_payload_must_be_exact(void **state)
{
    decoded out;

    (void)state;
    decode_once(P, 0, "data: [DONE] \n\n", &out);
    assert_int_equal(out.status, ACN_ERR_MALFORMED);
    assert_int_equal(out.done, 0);
    decoded_free(&out);
}

static void malformed_chunks_fail(void **state)
{
    static const char *const inputs[] = {
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":\"0\"}]}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1.5}]}}]}\n\n",
        "data: {\"usage\":{\"prompt_tokens\":\"12\"}}\n\n",
        "data: null\n\n",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        decoded out;

        decode_once(P, 0, inputs[i], &out);
        if (out.status != ACN_ERR_MALFORMED)
            fail_msg("input %zu: status %d, expected malformed (%s)", i, out.status, out.error);
        assert_string_equal(out.transcript, "");
        decoded_free(&out);
    }
}

static void tool_call_index_past_the_bound_is_a_limit(void **state)
{
    decoded out;

    (void)state;
    decode_once(P, 0,
                "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":5000,\"id\":\"c\","
                "\"function\":{\"name\":\"f\"}}]}}]}\n\n",
                &out);
    assert_int_equal(out.status, ACN_ERR_LIMIT);
    assert_string_equal(out.transcript, "");
    decoded_free(&out);
}

FIXTURE_TEST(text)
FIXTURE_TEST(text_no_usage_crlf)
FIXTURE_TEST(tool_calls_parallel)
FIXTURE_TEST(text_then_tool_call)
FIXTURE_TEST(refusal)
FIXTURE_TEST(stop_length)
FIXTURE_TEST(stop_content_filter)
FIXTURE_TEST(error_mid_stream)
FIXTURE_TEST(truncated)
FIXTURE_TEST(text_cached)
FIXTURE_TEST(no_done)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_chunks_give_start_deltas_stop_and_done),
        cmocka_unit_test(azure_prompt_filter_chunk_does_not_start_the_message),
        cmocka_unit_test(usage_chunk_with_empty_choices),
        cmocka_unit_test(parallel_tool_calls_interleave_by_index_and_end_at_finish),
        cmocka_unit_test(several_calls_in_one_delta_and_a_missing_id),
        cmocka_unit_test(the_choice_with_index_0_is_read_wherever_it_stands),
        cmocka_unit_test(a_negative_choice_index_is_malformed_wherever_it_stands),
        cmocka_unit_test(arguments_sent_as_an_object_are_passed_as_json),
        cmocka_unit_test(done_ends_calls_that_never_got_a_finish_reason),
        cmocka_unit_test(refusal_text_is_text_and_the_stop_reason_is_refusal),
        cmocka_unit_test(every_finish_reason_maps),
        cmocka_unit_test(only_the_choice_with_index_0_is_read),
        cmocka_unit_test(a_choice_index_after_its_delta_still_picks_the_choice),
        cmocka_unit_test(reasoning_from_compatible_servers_is_thinking),
        cmocka_unit_test(legacy_function_call_is_call_zero),
        cmocka_unit_test(stop_after_tool_calls_is_tool_use),
        cmocka_unit_test(error_object_in_a_data_payload),
        cmocka_unit_test(stream_without_done_is_not_done),
        cmocka_unit_test(a_close_after_the_finish_reason_is_done),
        cmocka_unit_test(a_close_after_finish_and_usage_keeps_the_usage_and_ends_calls),
        cmocka_unit_test(done_payload_must_be_exact),
        cmocka_unit_test(malformed_chunks_fail),
        cmocka_unit_test(tool_call_index_past_the_bound_is_a_limit),
        cmocka_unit_test(fixture_text),
        cmocka_unit_test(fixture_text_cached),
        cmocka_unit_test(fixture_no_done),
        cmocka_unit_test(fixture_text_no_usage_crlf),
        cmocka_unit_test(fixture_tool_calls_parallel),
        cmocka_unit_test(fixture_text_then_tool_call),
        cmocka_unit_test(fixture_refusal),
        cmocka_unit_test(fixture_stop_length),
        cmocka_unit_test(fixture_stop_content_filter),
        cmocka_unit_test(fixture_error_mid_stream),
        cmocka_unit_test(fixture_truncated),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
