/* tests/unit/test_lsn.c — LSN parse, format, compare. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lsn.h"

static void parse_and_format(void **state)
{
    (void)state;
    lsn_t l;
    char buf[LSN_STRLEN];
    assert_true(lsn_parse("16/B374D848", &l));
    assert_int_equal(l, 0x16B374D848ULL);
    assert_string_equal(lsn_format(l, buf, sizeof buf), "16/B374D848");
    assert_true(lsn_parse("0/0", &l));
    assert_int_equal(l, 0);
    assert_true(lsn_parse("FFFFFFFF/FFFFFFFF", &l));
    assert_int_equal(l, UINT64_MAX);
    assert_string_equal(lsn_format(l, buf, sizeof buf), "FFFFFFFF/FFFFFFFF");
    assert_true(lsn_parse("a/b", &l));
    assert_int_equal(l, 0xA0000000BULL);
}

static void parse_rejects_garbage(void **state)
{
    (void)state;
    lsn_t l;
    assert_false(lsn_parse("", &l));
    assert_false(lsn_parse("16", &l));
    assert_false(lsn_parse("/1", &l));
    assert_false(lsn_parse("1/", &l));
    assert_false(lsn_parse("1/2/3", &l));
    assert_false(lsn_parse("1/2 ", &l));
    assert_false(lsn_parse("G/1", &l));
    assert_false(lsn_parse("123456789/1", &l));
    assert_false(lsn_parse(NULL, &l));
}

static void compare_and_diff(void **state)
{
    (void)state;
    assert_int_equal(lsn_cmp(1, 2), -1);
    assert_int_equal(lsn_cmp(2, 1), 1);
    assert_int_equal(lsn_cmp(5, 5), 0);
    assert_int_equal(lsn_diff(10, 4), 6);
    assert_int_equal(lsn_diff(4, 10), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_and_format),
        cmocka_unit_test(parse_rejects_garbage),
        cmocka_unit_test(compare_and_diff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
