/* test_throttle.c: flush decisions as a function of monotonic time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "throttle.h"

#define MS 1000000ULL

static void test_first_delta_flushes_at_once(void **state)
{
    acn_throttle throttle;

    (void)state;
    acn_throttle_init(&throttle, 100 * MS);
    assert_true(acn_throttle_should_flush(&throttle, ACN_FLUSH_DELTA, 5 * MS));
}

static void test_later_deltas_wait_for_the_interval(void **state)
{
    acn_throttle throttle;

    (void)state;
    acn_throttle_init(&throttle, 100 * MS);
    acn_throttle_should_flush(&throttle, ACN_FLUSH_DELTA, 1000 * MS);
    acn_throttle_flushed(&throttle, 1000 * MS);
    assert_false(acn_throttle_should_flush(&throttle, ACN_FLUSH_DELTA, 1050 * MS));
    assert_false(acn_throttle_should_flush(&throttle, ACN_FLUSH_DELTA, 1099 * MS));
    assert_true(acn_throttle_should_flush(&throttle, ACN_FLUSH_DELTA, 1100 * MS));
}

static void test_deadline_tracks_pending_text(void **state)
{
    acn_throttle throttle;

    (void)state;
    acn_throttle_init(&throttle, 100 * MS);
    assert_true(acn_throttle_deadline(&throttle) == UINT64_MAX);
    acn_throttle_should_flush(&throttle, ACN_FLUSH_DELTA, 1000 * MS);
    acn_throttle_flushed(&throttle, 1000 * MS);
    assert_true(acn_throttle_deadline(&throttle) == UINT64_MAX);
    acn_throttle_should_flush(&throttle, ACN_FLUSH_DELTA, 1010 * MS);
    assert_true(acn_throttle_deadline(&throttle) == 1100 * MS);
    /* With no new byte, the timer flushes the pending text once the interval is up. */
    assert_false(acn_throttle_should_flush(&throttle, ACN_FLUSH_TIMER, 1099 * MS));
    assert_true(acn_throttle_should_flush(&throttle, ACN_FLUSH_TIMER, 1100 * MS));
}

static void test_block_end_tool_call_and_stream_end_flush_pending_text(void **state)
{
    acn_throttle throttle;
    acn_flush_reason reasons[] = {ACN_FLUSH_BLOCK_END, ACN_FLUSH_TOOL_CALL, ACN_FLUSH_STREAM_END};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        acn_throttle_init(&throttle, 100 * MS);
        acn_throttle_should_flush(&throttle, ACN_FLUSH_DELTA, 0);
        acn_throttle_flushed(&throttle, 0);
        /* Nothing pending: nothing to flush. */
        assert_false(acn_throttle_should_flush(&throttle, reasons[i], 1 * MS));
        assert_false(acn_throttle_should_flush(&throttle, ACN_FLUSH_DELTA, 2 * MS));
        assert_true(acn_throttle_should_flush(&throttle, reasons[i], 3 * MS));
    }
}

static void test_zero_interval_flushes_every_delta(void **state)
{
    acn_throttle throttle;
    uint64_t t;

    (void)state;
    acn_throttle_init(&throttle, 0);
    for (t = 0; t < 10; t++) {
        assert_true(acn_throttle_should_flush(&throttle, ACN_FLUSH_DELTA, t));
        acn_throttle_flushed(&throttle, t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_delta_flushes_at_once),
        cmocka_unit_test(test_later_deltas_wait_for_the_interval),
        cmocka_unit_test(test_deadline_tracks_pending_text),
        cmocka_unit_test(test_block_end_tool_call_and_stream_end_flush_pending_text),
        cmocka_unit_test(test_zero_interval_flushes_every_delta),
    };

    return cmocka_run_group_tests_name("throttle", tests, NULL, NULL);
}
