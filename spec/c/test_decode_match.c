/* test_decode_match.c: the dialects' one way to compare a payload's strings and
 * keys with their names, and their stop-reason tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "decode_match.h"
#include "dialect.h"

#include <string.h>

static void test_a_string_matches_only_its_exact_bytes(void **state)
{
    (void)state;
    assert_true(acn_decode_is("ping", 4, "ping"));
    assert_false(acn_decode_is("ping", 3, "ping"));  /* a prefix */
    assert_false(acn_decode_is("pings", 5, "ping")); /* longer */
    assert_false(acn_decode_is("PING", 4, "ping"));  /* no case folding */
    assert_false(acn_decode_is("pi\0g", 4, "pi"));   /* a NUL inside never matches */
    assert_true(acn_decode_is("", 0, ""));
    assert_false(acn_decode_is(NULL, 0, "ping")); /* a key that was not kept */
}

static void test_one_of_reads_the_list_to_its_end(void **state)
{
    static const char *const names[] = {"message_start", "ping", "error", NULL};

    (void)state;
    assert_true(acn_decode_one_of("error", 5, names));
    assert_true(acn_decode_one_of("message_start", 13, names));
    assert_false(acn_decode_one_of("message", 7, names));
    assert_false(acn_decode_one_of("", 0, names));
}

static void test_a_stop_table_maps_its_names_and_gives_its_default_for_any_other(void **state)
{
    static const acn_stop_name table[] = {
        {"tool_use", ACN_STOP_TOOL_USE},
        {"max_tokens", ACN_STOP_MAX_TOKENS},
        {NULL, ACN_STOP_REFUSAL},
    };

    (void)state;
    assert_int_equal(acn_decode_stop_reason(table, "tool_use", 8), ACN_STOP_TOOL_USE);
    assert_int_equal(acn_decode_stop_reason(table, "max_tokens", 10), ACN_STOP_MAX_TOKENS);
    assert_int_equal(acn_decode_stop_reason(table, "max", 3), ACN_STOP_REFUSAL);
    assert_int_equal(acn_decode_stop_reason(table, "", 0), ACN_STOP_REFUSAL);
}

/* The dialects' tables, through their entries: each keeps its own default. */
static void test_each_dialect_keeps_its_own_default_for_an_unknown_reason(void **state)
{
    (void)state;
    assert_int_equal(acn_dialect_of(ACN_PROVIDER_ANTHROPIC)->stop_reason("new_reason", 10),
                     ACN_STOP_END_TURN);
    assert_int_equal(acn_dialect_of(ACN_PROVIDER_OPENAI)->stop_reason("new_reason", 10), ACN_STOP_END_TURN);
    assert_int_equal(acn_dialect_of(ACN_PROVIDER_GEMINI)->stop_reason("NEW_REASON", 10), ACN_STOP_REFUSAL);
    assert_int_equal(acn_dialect_of(ACN_PROVIDER_GEMINI)->stop_reason("STOP", 4), ACN_STOP_END_TURN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_string_matches_only_its_exact_bytes),
        cmocka_unit_test(test_one_of_reads_the_list_to_its_end),
        cmocka_unit_test(test_a_stop_table_maps_its_names_and_gives_its_default_for_any_other),
        cmocka_unit_test(test_each_dialect_keeps_its_own_default_for_an_unknown_reason),
    };

    return cmocka_run_group_tests_name("decode_match", tests, NULL, NULL);
}
