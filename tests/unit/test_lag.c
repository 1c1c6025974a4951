/*
 * tests/unit/test_lag.c — lag in seconds and ETA (include/lag.h).
 */
#include "lag.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static void test_lag_zero_when_caught_up(void **state)
{
    (void)state;
    /* nothing to apply, heartbeat 1 s old: caught up */
    assert_true(lag_seconds(0, 1000.0, 999.0, NAN) == 0);
    /* nothing to apply and no heartbeat at all */
    assert_true(lag_seconds(0, 1000.0, NAN, NAN) == 0);
}

static void test_lag_from_newest_source_time(void **state)
{
    (void)state;
    /* behind: age of the newest applied source time (heartbeat or commit) */
    assert_true(fabs(lag_seconds(500, 1000.0, 990.0, NAN) - 10.0) < 1e-9);
    assert_true(fabs(lag_seconds(500, 1000.0, 990.0, 995.0) - 5.0) < 1e-9);
    /* caught up in bytes but the heartbeat is stale: start is not applying */
    assert_true(fabs(lag_seconds(0, 1000.0, 900.0, NAN) - 100.0) < 1e-9);
    /* nothing known */
    assert_true(isnan(lag_seconds(500, 1000.0, NAN, NAN)));
    assert_true(isnan(lag_seconds(-1, 1000.0, 990.0, NAN)));
}

static void test_eta(void **state)
{
    (void)state;
    /* lag shrinks by 100 bytes/s: 1000 bytes left -> 10 s */
    assert_true(fabs(lag_eta(0, 3000, 20, 1000, 1000) - 10.0) < 1e-9);
    /* growing or flat: no ETA */
    assert_true(isnan(lag_eta(0, 1000, 20, 3000, 3000)));
    assert_true(isnan(lag_eta(0, 1000, 20, 1000, 1000)));
    /* no lag: 0 */
    assert_true(lag_eta(0, 1000, 20, 3000, 0) == 0);
    /* one sample only (same time) */
    assert_true(isnan(lag_eta(5, 1000, 5, 1000, 1000)));
}

static void test_in_step(void **state)
{
    (void)state;
    assert_true(lag_in_step(0, NAN));
    assert_true(lag_in_step(0, 0));
    /* a few bytes (the heartbeat's own WAL), everything older than 2 s applied */
    assert_true(lag_in_step(120, 0.0));
    assert_true(lag_in_step(120, 2.0));
    assert_false(lag_in_step(120, 2.5));
    assert_false(lag_in_step(120, NAN));
    assert_false(lag_in_step(-1, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lag_zero_when_caught_up),
        cmocka_unit_test(test_lag_from_newest_source_time),
        cmocka_unit_test(test_eta),
        cmocka_unit_test(test_in_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
