/* test_utf8.c: the one UTF-8 sequence check, against RFC 3629's table of
 * well-formed byte sequences, and the one code point encoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "utf8.h"

#include <string.h>

static size_t check(const char *bytes, size_t len)
{
    return acn_utf8_sequence((const unsigned char *)bytes, len);
}

static void test_well_formed_sequences_of_each_length(void **state)
{
    (void)state;
    assert_int_equal(check("A", 1), 1);
    assert_int_equal(check("\xC3\xA9", 2), 2);         /* é */
    assert_int_equal(check("\xE2\x82\xAC", 3), 3);     /* € */
    assert_int_equal(check("\xF0\x9F\x98\x80", 4), 4); /* 😀 */
    assert_int_equal(check("\xF4\x8F\xBF\xBF", 4), 4); /* U+10FFFF */
    assert_int_equal(check("\xED\x9F\xBF", 3), 3);     /* U+D7FF, just below the surrogates */
}

static void test_overlong_forms_are_refused(void **state)
{
    (void)state;
    assert_int_equal(check("\xC0\xAF", 2), 0);
    assert_int_equal(check("\xC1\xBF", 2), 0);
    assert_int_equal(check("\xE0\x80\xAF", 3), 0);
    assert_int_equal(check("\xF0\x80\x80\xAF", 4), 0);
}

static void test_surrogates_and_code_points_past_the_last_are_refused(void **state)
{
    (void)state;
    assert_int_equal(check("\xED\xA0\x80", 3), 0); /* U+D800 */
    assert_int_equal(check("\xED\xBF\xBF", 3), 0); /* U+DFFF */
    assert_int_equal(check("\xF4\x90\x80\x80", 4), 0);
    assert_int_equal(check("\xF5\x80\x80\x80", 4), 0);
    assert_int_equal(check("\xFF", 1), 0);
}

static void test_stray_and_cut_short_sequences_are_refused(void **state)
{
    (void)state;
    assert_int_equal(check("\x80", 1), 0);         /* a continuation byte alone */
    assert_int_equal(check("\xE2\x82", 2), 0);     /* cut short by the length */
    assert_int_equal(check("\xE2\x82\xAC", 2), 0); /* the same, the byte is past len */
    assert_int_equal(check("\xE2\x41\xAC", 3), 0); /* a non-continuation inside */
    assert_int_equal(check("\xF0\x9F\x98\x41", 4), 0);
}

static void test_complete_prefix_holds_back_only_incomplete_sequences(void **state)
{
    (void)state;
    assert_int_equal(acn_utf8_complete_prefix("", 0), 0);
    assert_int_equal(acn_utf8_complete_prefix("abc", 3), 3);
    assert_int_equal(acn_utf8_complete_prefix("a\xC3", 2), 1);
    assert_int_equal(acn_utf8_complete_prefix("a\xC3\xA9", 3), 3);
    assert_int_equal(acn_utf8_complete_prefix("a\xE2\x82", 3), 1);
    assert_int_equal(acn_utf8_complete_prefix("a\xE2\x82\xAC", 4), 4);
    assert_int_equal(acn_utf8_complete_prefix("\xF0\x9F\x98", 3), 0);
    assert_int_equal(acn_utf8_complete_prefix("\xF0\x9F\x98\x80", 4), 4);
    /* Bytes no character can continue are not held: waiting would never end. */
    assert_int_equal(acn_utf8_complete_prefix("a\x80\x80\x80", 4), 4);
    assert_int_equal(acn_utf8_complete_prefix("a\xFF", 2), 2);
    assert_int_equal(acn_utf8_complete_prefix("a\xC0", 2), 2);
}

static void test_code_points_encode_to_the_sequences_the_check_accepts(void **state)
{
    static const struct {
        unsigned long cp;
        const char *bytes;
    } cases[] = {{0x41, "A"},
                 {0x7F, "\x7F"},
                 {0x80, "\xC2\x80"},
                 {0xE9, "\xC3\xA9"},
                 {0x7FF, "\xDF\xBF"},
                 {0x800, "\xE0\xA0\x80"},
                 {0x20AC, "\xE2\x82\xAC"},
                 {0xFFFD, "\xEF\xBF\xBD"},
                 {0x10000, "\xF0\x90\x80\x80"},
                 {0x1F600, "\xF0\x9F\x98\x80"},
                 {0x10FFFF, "\xF4\x8F\xBF\xBF"}};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[4];
        size_t n = acn_utf8_encode(cases[i].cp, out);

        assert_int_equal(n, strlen(cases[i].bytes));
        assert_memory_equal(out, cases[i].bytes, n);
        assert_int_equal(check(out, n), n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_well_formed_sequences_of_each_length),
        cmocka_unit_test(test_overlong_forms_are_refused),
        cmocka_unit_test(test_surrogates_and_code_points_past_the_last_are_refused),
        cmocka_unit_test(test_stray_and_cut_short_sequences_are_refused),
        cmocka_unit_test(test_complete_prefix_holds_back_only_incomplete_sequences),
        cmocka_unit_test(test_code_points_encode_to_the_sequences_the_check_accepts),
    };

    return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
