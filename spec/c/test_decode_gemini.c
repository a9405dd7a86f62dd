/*
 * test_decode_gemini.c: the Gemini streamGenerateContent (alt=sse) dialect, against
 * the documented GenerateContentResponse (candidates[].content.parts with text,
 * thought and functionCall parts, finishReason, usageMetadata, promptFeedback, an
 * error object). Every stream is fed whole, split at every byte, one and seven bytes
 * at a time, and as parsed SSE events.
 */
#include "decode_helpers.h"

#define P ACN_PROVIDER_GEMINI

#define IDS ",\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"resp_1\"}\r\n\r\n"

static void text_chunks_then_the_finishing_chunk(void **state)
{
    (void)state;
    expect_events(
        P,
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Hel\"}],\"role\": \"model\"},"
        "\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"totalTokenCount\": 9}" IDS
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"lo \\u00e9\"},{\"text\": \"!\"}],"
        "\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": "
        "{\"promptTokenCount\": 9,\"candidatesTokenCount\": 3,\"totalTokenCount\": 12}" IDS,
        ACN_OK, 1,
        "message_start id=resp_1 name=gemini-2.5-flash\n"
        "text_delta 0 text=Hel\n"
        "usage usage=9,-1,-1,-1\n"
        "text_delta 0 text=lo \xc3\xa9\n"
        "text_delta 0 text=!\n"
        "usage usage=9,3,-1,-1\n"
        "stop reason=end_turn text=STOP\n"
        "done\n");
}

static void thought_parts_are_thinking_whatever_the_key_order(void **state)
{
    (void)state;
    expect_events(
        P,
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"plan\",\"thought\": true},"
        "{\"thought\": true,\"text\": \" more\"},{\"text\": \"answer\",\"thought\": false}]}}]}\n\n",
        ACN_OK, 0, "thinking_delta 0 text=plan\nthinking_delta 0 text= more\ntext_delta 0 text=answer\n");
}

static void function_calls_arrive_whole_with_synthesized_ids(void **state)
{
    (void)state;
    expect_events(
        P,
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": {\"name\": \"get_weather\","
        "\"args\": {\"city\": \"M\\u00fcnchen\",\"days\": [1, 2.5],\"opts\": {\"x\": null,\"y\": true}}},"
        "\"thoughtSignature\": \"CiQB\"},{\"functionCall\": {\"args\": {},\"name\": \"now\"}}],"
        "\"role\": \"model\"},\"index\": 0}]}\n\n"
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": {\"name\": \"noargs\"}}]},"
        "\"finishReason\": \"STOP\"}]}\n\n",
        ACN_OK, 1,
        "tool_call_start 0 id=call_0 name=get_weather text=CiQB\n"
        "tool_args_delta 0 text={\"city\":\"M\xc3\xbcnchen\",\"days\":[1,2.5],\"opts\":{\"x\":null,\"y\":"
        "true}}\n"
        "tool_call_end 0\n"
        "tool_call_start 1 id=call_1 name=now\n"
        "tool_args_delta 1 text={}\n"
        "tool_call_end 1\n"
        "tool_call_start 2 id=call_2 name=noargs\n"
        "tool_call_end 2\n"
        "stop reason=tool_use text=STOP\n"
        "done\n");
}

static void function_call_id_is_kept_when_sent(void **state)
{
    (void)state;
    expect_events(
        P,
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": {\"name\": \"f\",\"args\": "
        "{\"a\": 1},\"id\": \"fc_9\"}}]}}]}\n\n",
        ACN_OK, 0,
        "tool_call_start 0 id=fc_9 name=f\n"
        "tool_args_delta 0 text={\"a\":1}\n"
        "tool_call_end 0\n");
}

static void every_finish_reason_maps(void **state)
{
    static const char *const sent[] = {"STOP",      "MAX_TOKENS",
                                       "SAFETY",    "RECITATION",
                                       "BLOCKLIST", "PROHIBITED_CONTENT",
                                       "SPII",      "OTHER",
                                       "LANGUAGE",  "MALFORMED_FUNCTION_CALL"};
    static const char *const mapped[] = {"end_turn", "max_tokens", "refusal", "refusal", "refusal",
                                         "refusal",  "refusal",    "refusal", "refusal", "end_turn"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof sent / sizeof sent[0]; i++) {
        char input[256];
        char expected[128];

        snprintf(input, sizeof input, "data: {\"candidates\": [{\"finishReason\": \"%s\",\"index\": 0}]}\n\n",
                 sent[i]);
        snprintf(expected, sizeof expected, "stop reason=%s text=%s\ndone\n", mapped[i], sent[i]);
        expect_events(P, input, ACN_OK, 1, expected);
    }
}

static void prompt_block_reason_is_a_terminal_refusal(void **state)
{
    (void)state;
    expect_events(
        P,
        "data: {\"promptFeedback\": {\"blockReason\": \"SAFETY\",\"safetyRatings\": [{\"category\": "
        "\"HARM_CATEGORY_HARASSMENT\",\"probability\": \"HIGH\",\"blocked\": true}]},\"usageMetadata\": "
        "{\"promptTokenCount\": 37,\"totalTokenCount\": 37}" IDS,
        ACN_OK, 1,
        "message_start id=resp_1 name=gemini-2.5-flash\n"
        "usage usage=37,-1,-1,-1\n"
        "stop reason=refusal text=SAFETY\n"
        "done\n");
}

static void usage_output_adds_thoughts_and_cached_is_cache_read(void **state)
{
    (void)state;
    expect_events(P,
                  "data: {\"usageMetadata\": {\"promptTokenCount\": 14,\"candidatesTokenCount\": 13,"
                  "\"totalTokenCount\": 262,\"cachedContentTokenCount\": 4,\"thoughtsTokenCount\": 235,"
                  "\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 14}]}}\n\n"
                  "data: {\"usageMetadata\": {\"thoughtsTokenCount\": 7}}\n\n",
                  ACN_OK, 0, "usage usage=14,248,4,-1\nusage usage=-1,7,-1,-1\n");
}

static void usage_sums_saturate_and_negative_counts_are_not_sent(void **state)
{
    (void)state;
    expect_events(P,
                  "data: {\"usageMetadata\": {\"candidatesTokenCount\": 9223372036854775807,"
                  "\"thoughtsTokenCount\": 9223372036854775807}}\n\n"
                  "data: {\"usageMetadata\": {\"promptTokenCount\": -5,\"candidatesTokenCount\": -3,"
                  "\"thoughtsTokenCount\": 4,\"cachedContentTokenCount\": -1}}\n\n"
                  "data: {\"usageMetadata\": {\"promptTokenCount\": -5,\"candidatesTokenCount\": -3}}\n\n",
                  ACN_OK, 0, "usage usage=-1,9223372036854775807,-1,-1\nusage usage=-1,4,-1,-1\n");
}

static void only_the_first_candidate_is_read(void **state)
{
    (void)state;
    expect_events(
        P,
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"one\"}]},\"index\": 0},"
        "{\"content\": {\"parts\": [{\"text\": \"two\"}]},\"finishReason\": \"SAFETY\",\"index\": 1}]}\n\n",
        ACN_OK, 0, "text_delta 0 text=one\n");
}

static void other_part_kinds_are_ignored(void **state)
{
    (void)state;
    expect_events(
        P,
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"inlineData\": {\"mimeType\": \"image/png\","
        "\"data\": \"iVBO\"}},{\"executableCode\": {\"language\": \"PYTHON\",\"code\": \"print(1)\"}},"
        "{\"text\": \"\"},{\"text\": \"ok\"}]},\"citationMetadata\": {\"citationSources\": [{\"uri\": "
        "\"https://example.com\"}]}}]}\n\n",
        ACN_OK, 0, "text_delta 0 text=ok\n");
}

static void error_object_in_a_data_chunk(void **state)
{
    (void)state;
    expect_events(
        P,
        "data: {\"error\": {\"code\": 503,\"message\": \"The model is overloaded.\",\"status\": "
        "\"UNAVAILABLE\"}}\n\n",
        ACN_OK, 1,
        "error name=UNAVAILABLE text=The model is overloaded. raw={\"error\": {\"code\": 503,\"message\": "
        "\"The model is overloaded.\",\"status\": \"UNAVAILABLE\"}}\n");
}

static void stream_without_a_finishing_chunk_is_not_done(void **state)
{
    (void)state;
    expect_events(P,
                  "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"cut\"}]}}]}\r\n\r\n"
                  "data: {\"candidates\": [{\"content\": {\"parts\": [{\"te",
                  ACN_OK, 0, "text_delta 0 text=cut\n");
}

static void deeply_nested_arguments_are_refused_not_crashed(void **state)
{
    acn_buf input;
    decoded out;
    int i;

    (void)state;
    acn_buf_init(&input, 1 << 20);
    acn_buf_append(
        &input,
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": {\"name\": \"f\","
        "\"args\": ",
        strlen("data: {\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": {\"name\": \"f\","
               "\"args\": "));
    for (i = 0; i < 200; i++)
        acn_buf_append(&input, "{\"a\":", 5);
    acn_buf_append(&input, "1", 1);
    for (i = 0; i < 200; i++)
        acn_buf_push(&input, '}');
    acn_buf_append(&input, "}}]}}]}\n\n", strlen("}}]}}]}\n\n"));
    decode_once(P, 0, input.ptr, &out);
    /* Malformed, as Ruby's JSON.parse (max_nesting 100) finds it. */
    assert_int_equal(out.status, ACN_ERR_MALFORMED);
    assert_non_null(strstr(out.error, "nested deeper than 100 levels"));
    assert_string_equal(out.transcript, "");
    decoded_free(&out);
    acn_buf_free(&input);
}

static void malformed_chunks_fail(void **state)
{
    static const char *const inputs[] = {
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"x\"}]}}]\n\n",
        "data: {\"usageMetadata\": {\"promptTokenCount\": -}}\n\n",
        "data: [{\"candidates\": []}]\n\n",
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

FIXTURE_TEST(text)
FIXTURE_TEST(function_calls_parallel)
FIXTURE_TEST(function_call_with_id)
FIXTURE_TEST(thinking)
FIXTURE_TEST(text_and_function_call)
FIXTURE_TEST(stop_max_tokens)
FIXTURE_TEST(stop_safety)
FIXTURE_TEST(stop_recitation_no_text)
FIXTURE_TEST(block_reason)
FIXTURE_TEST(error_mid_stream)
FIXTURE_TEST(truncated)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_chunks_then_the_finishing_chunk),
        cmocka_unit_test(thought_parts_are_thinking_whatever_the_key_order),
        cmocka_unit_test(function_calls_arrive_whole_with_synthesized_ids),
        cmocka_unit_test(function_call_id_is_kept_when_sent),
        cmocka_unit_test(every_finish_reason_maps),
        cmocka_unit_test(prompt_block_reason_is_a_terminal_refusal),
        cmocka_unit_test(usage_output_adds_thoughts_and_cached_is_cache_read),
        cmocka_unit_test(usage_sums_saturate_and_negative_counts_are_not_sent),
        cmocka_unit_test(only_the_first_candidate_is_read),
        cmocka_unit_test(other_part_kinds_are_ignored),
        cmocka_unit_test(error_object_in_a_data_chunk),
        cmocka_unit_test(stream_without_a_finishing_chunk_is_not_done),
        cmocka_unit_test(deeply_nested_arguments_are_refused_not_crashed),
        cmocka_unit_test(malformed_chunks_fail),
        cmocka_unit_test(fixture_text),
        cmocka_unit_test(fixture_function_calls_parallel),
        cmocka_unit_test(fixture_function_call_with_id),
        cmocka_unit_test(fixture_thinking),
        cmocka_unit_test(fixture_text_and_function_call),
        cmocka_unit_test(fixture_stop_max_tokens),
        cmocka_unit_test(fixture_stop_safety),
        cmocka_unit_test(fixture_stop_recitation_no_text),
        cmocka_unit_test(fixture_block_reason),
        cmocka_unit_test(fixture_error_mid_stream),
        cmocka_unit_test(fixture_truncated),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
