/* test_dialect.c: the dialect table (dialect.h): one complete entry per provider,
 * names that parse back, and each entry's stop reasons and accumulator quirks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "dialect.h"

static void every_provider_has_a_complete_entry_whose_name_parses_back(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < ACN_PROVIDER_COUNT; i++) {
        const acn_dialect *dialect = acn_dialect_of((acn_provider)i);
        acn_provider parsed = ACN_PROVIDER_COUNT;

        assert_non_null(dialect);
        assert_non_null(dialect->name);
        assert_non_null(dialect->listener);
        assert_non_null(dialect->begin);
        assert_non_null(dialect->end);
        assert_non_null(dialect->stop_reason);
        assert_string_equal(acn_provider_name((acn_provider)i), dialect->name);
        assert_int_equal(acn_provider_parse(dialect->name, strlen(dialect->name), &parsed), 0);
        assert_int_equal(parsed, i);
    }
    assert_string_equal(acn_provider_name(ACN_PROVIDER_ANTHROPIC), "anthropic");
    assert_string_equal(acn_provider_name(ACN_PROVIDER_OPENAI), "openai");
    assert_string_equal(acn_provider_name(ACN_PROVIDER_GEMINI), "gemini");
    assert_string_equal(acn_provider_name(ACN_PROVIDER_OPENAI_RESPONSES), "openai_responses");
}

static void a_value_that_is_no_provider_has_no_entry(void **state)
{
    acn_provider parsed = ACN_PROVIDER_GEMINI;

    (void)state;
    assert_null(acn_dialect_of(ACN_PROVIDER_COUNT));
    assert_null(acn_dialect_of((acn_provider)-1));
    assert_string_equal(acn_provider_name(ACN_PROVIDER_COUNT), "unknown");
    assert_int_equal(acn_provider_parse("mistral", 7, &parsed), -1);
    assert_int_equal(acn_provider_parse("open", 4, &parsed), -1);      /* a prefix is not a name */
    assert_int_equal(acn_provider_parse("openai2", 7, &parsed), -1);   /* nor a longer word */
    assert_int_equal(acn_provider_parse("Anthropic", 9, &parsed), -1); /* names are exact */
    assert_int_equal(parsed, ACN_PROVIDER_GEMINI);                     /* untouched on failure */
}

typedef struct stop_case {
    acn_provider provider;
    const char *text;
    acn_stop_reason reason;
} stop_case;

static void each_dialect_maps_its_own_stop_reasons(void **state)
{
    static const stop_case cases[] = {
        {ACN_PROVIDER_ANTHROPIC, "end_turn", ACN_STOP_END_TURN},
        {ACN_PROVIDER_ANTHROPIC, "tool_use", ACN_STOP_TOOL_USE},
        {ACN_PROVIDER_ANTHROPIC, "max_tokens", ACN_STOP_MAX_TOKENS},
        {ACN_PROVIDER_ANTHROPIC, "model_context_window_exceeded", ACN_STOP_MAX_TOKENS},
        {ACN_PROVIDER_ANTHROPIC, "stop_sequence", ACN_STOP_STOP_SEQUENCE},
        {ACN_PROVIDER_ANTHROPIC, "refusal", ACN_STOP_REFUSAL},
        {ACN_PROVIDER_ANTHROPIC, "pause_turn", ACN_STOP_PAUSE_TURN},
        {ACN_PROVIDER_ANTHROPIC, "something_new", ACN_STOP_END_TURN},
        {ACN_PROVIDER_ANTHROPIC, "STOP", ACN_STOP_END_TURN},
        {ACN_PROVIDER_OPENAI, "stop", ACN_STOP_END_TURN},
        {ACN_PROVIDER_OPENAI, "tool_calls", ACN_STOP_TOOL_USE},
        {ACN_PROVIDER_OPENAI, "function_call", ACN_STOP_TOOL_USE},
        {ACN_PROVIDER_OPENAI, "length", ACN_STOP_MAX_TOKENS},
        {ACN_PROVIDER_OPENAI, "content_filter", ACN_STOP_REFUSAL},
        {ACN_PROVIDER_OPENAI, "max_tokens", ACN_STOP_END_TURN}, /* Anthropic's word, not OpenAI's */
        {ACN_PROVIDER_GEMINI, "STOP", ACN_STOP_END_TURN}, /* TOOL_USE after a call: the decoder's rule */
        {ACN_PROVIDER_GEMINI, "FINISH_REASON_UNSPECIFIED", ACN_STOP_END_TURN},
        {ACN_PROVIDER_GEMINI, "MAX_TOKENS", ACN_STOP_MAX_TOKENS},
        {ACN_PROVIDER_GEMINI, "MALFORMED_FUNCTION_CALL", ACN_STOP_END_TURN},
        {ACN_PROVIDER_GEMINI, "SAFETY", ACN_STOP_REFUSAL},
        {ACN_PROVIDER_GEMINI, "OTHER", ACN_STOP_REFUSAL},
        /* Responses: incomplete_details.reason; a completed response's stop is the decoder's */
        {ACN_PROVIDER_OPENAI_RESPONSES, "max_output_tokens", ACN_STOP_MAX_TOKENS},
        {ACN_PROVIDER_OPENAI_RESPONSES, "content_filter", ACN_STOP_REFUSAL},
        {ACN_PROVIDER_OPENAI_RESPONSES, "completed", ACN_STOP_END_TURN},
        {ACN_PROVIDER_OPENAI_RESPONSES, "length", ACN_STOP_END_TURN}, /* Chat Completions' word */
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const acn_dialect *dialect = acn_dialect_of(cases[i].provider);
        size_t len = strlen(cases[i].text);

        if (dialect->stop_reason(cases[i].text, len) != cases[i].reason)
            fail_msg("%s %s: got %s, want %s", dialect->name, cases[i].text,
                     acn_stop_reason_name(dialect->stop_reason(cases[i].text, len)),
                     acn_stop_reason_name(cases[i].reason));
        assert_int_equal(acn_decoder_stop_reason(cases[i].provider, cases[i].text, len), cases[i].reason);
    }
}

static void anthropic_and_responses_take_their_thinking_blocks_back(void **state)
{
    (void)state;
    assert_true(acn_dialect_of(ACN_PROVIDER_ANTHROPIC)->keeps_thinking_blocks);
    assert_true(acn_dialect_of(ACN_PROVIDER_OPENAI_RESPONSES)->keeps_thinking_blocks);
    assert_false(acn_dialect_of(ACN_PROVIDER_OPENAI)->keeps_thinking_blocks);
    assert_false(acn_dialect_of(ACN_PROVIDER_GEMINI)->keeps_thinking_blocks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_provider_has_a_complete_entry_whose_name_parses_back),
        cmocka_unit_test(a_value_that_is_no_provider_has_no_entry),
        cmocka_unit_test(each_dialect_maps_its_own_stop_reasons),
        cmocka_unit_test(anthropic_and_responses_take_their_thinking_blocks_back),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
