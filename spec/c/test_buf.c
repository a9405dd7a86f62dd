/* test_buf.c: the bounded buffer and the budget several buffers share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "acn.h"

static void growth_never_overshoots_the_bound(void **state)
{
    acn_buf buf;
    size_t i;

    (void)state;
    acn_buf_init(&buf, 1000);
    for (i = 0; i < 1000; i++) {
        assert_int_equal(acn_buf_push(&buf, 'x'), ACN_OK);
        /* Doubling would reach 1024: the capacity stops at the bound and its NUL. */
        assert_true(buf.cap <= 1001);
    }
    assert_int_equal(buf.cap, 1001);
    assert_int_equal(acn_buf_push(&buf, 'x'), ACN_ERR_LIMIT);
    assert_int_equal(buf.len, 1000);
    acn_buf_free(&buf);
}

static void buffers_sharing_a_budget_hold_no_more_than_it_together(void **state)
{
    acn_budget budget;
    acn_buf a, b;
    char chunk[100];
    acn_status status = ACN_OK;
    size_t a_len;

    (void)state;
    memset(chunk, 'x', sizeof chunk);
    acn_budget_init(&budget, 1000);
    acn_buf_init(&a, 1000);
    acn_buf_init(&b, 1000);
    acn_buf_share(&a, &budget);
    acn_buf_share(&b, &budget);
    assert_int_equal(acn_buf_append(&a, chunk, 100), ACN_OK);
    assert_int_equal(acn_buf_append(&a, chunk, 100), ACN_OK);
    assert_int_equal(acn_buf_append(&a, chunk, 100), ACN_OK);
    a_len = a.len;
    /* Alone, b could take 999 bytes; with a holding its share it gets only the rest. */
    while (status == ACN_OK) {
        status = acn_buf_append(&b, chunk, 100);
        assert_true(budget.used <= budget.max);
        assert_int_equal(budget.used, a.cap + b.cap);
    }
    assert_int_equal(status, ACN_ERR_LIMIT);
    assert_true(b.len < 1000 - a_len);
    assert_true(b.len >= 1000 - a.cap - 100 - 1);
    /* Freeing gives the capacity back, and the buffer keeps counting against it. */
    acn_buf_free(&a);
    assert_int_equal(budget.used, b.cap);
    assert_ptr_equal(a.budget, &budget);
    assert_int_equal(acn_buf_append(&b, chunk, 100), ACN_OK);
    assert_int_equal(budget.used, a.cap + b.cap);
    acn_buf_free(&b);
    assert_int_equal(budget.used, 0);
}

static void the_last_growth_within_a_budget_is_exact(void **state)
{
    acn_budget budget;
    acn_buf buf;
    char chunk[600];

    (void)state;
    memset(chunk, 'x', sizeof chunk);
    acn_budget_init(&budget, 700);
    acn_buf_init(&buf, 10000);
    acn_buf_share(&buf, &budget);
    /* Doubling from 64 would ask for 1024; the budget allows the 601 bytes needed. */
    assert_int_equal(acn_buf_append(&buf, chunk, 600), ACN_OK);
    assert_int_equal(buf.cap, 601);
    assert_int_equal(acn_buf_append(&buf, chunk, 100), ACN_ERR_LIMIT);
    acn_buf_free(&buf);
    assert_int_equal(budget.used, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(growth_never_overshoots_the_bound),
        cmocka_unit_test(buffers_sharing_a_budget_hold_no_more_than_it_together),
        cmocka_unit_test(the_last_growth_within_a_budget_is_exact),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
