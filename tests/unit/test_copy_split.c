/* tests/unit/test_copy_split.c — how the copy cuts a table into page
 * ranges: the split threshold, the number of ranges, the ranges' bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "copy.h"

#define GB ((int64_t)1 << 30)
#define MB ((int64_t)1 << 20)

static void threshold_given(void **state)
{
    (void)state;
    /* --split-larger-than wins, however small */
    assert_int_equal(copy_split_threshold(100 * MB, 4, 100 * GB), 100 * MB);
    assert_int_equal(copy_split_threshold(1, 1, 0), 1);
}

static void threshold_auto(void **state)
{
    (void)state;
    /* one worker's share of the whole copy ... */
    assert_int_equal(copy_split_threshold(0, 4, 40 * GB), 10 * GB);
    assert_int_equal(copy_split_threshold(-1, 2, 5 * GB), 5 * GB / 2);
    /* ... but at least 1 GB */
    assert_int_equal(copy_split_threshold(0, 4, 2 * GB), GB);
    assert_int_equal(copy_split_threshold(0, 8, 0), GB);
    /* no jobs count: as one */
    assert_int_equal(copy_split_threshold(0, 0, 3 * GB), 3 * GB);
}

static void parts_whole(void **state)
{
    (void)state;
    /* not larger than the threshold: one item, copied whole with FREEZE */
    assert_int_equal(copy_split_parts(GB, 131072, GB, 4), 1);
    assert_int_equal(copy_split_parts(0, 0, GB, 4), 1);
    /* one page cannot be split */
    assert_int_equal(copy_split_parts(10 * GB, 1, GB, 4), 1);
}

static void parts_multiple_of_jobs(void **state)
{
    (void)state;
    int64_t pages = 10 * GB / 8192;
    /* 10 thresholds' worth: 10 ranges, rounded up to a multiple of --jobs */
    assert_int_equal(copy_split_parts(10 * GB, pages, GB, 1), 10);
    assert_int_equal(copy_split_parts(10 * GB, pages, GB, 4), 12);
    assert_int_equal(copy_split_parts(10 * GB, pages, GB, 5), 10);
    /* just above the threshold: two thresholds' worth, then the jobs */
    assert_int_equal(copy_split_parts(GB + 1, pages, GB, 1), 2);
    assert_int_equal(copy_split_parts(GB + 1, pages, GB, 3), 3);
}

static void parts_capped(void **state)
{
    (void)state;
    /* never more ranges than pages ... */
    assert_int_equal(copy_split_parts(10 * GB, 3, GB, 4), 3);
    /* ... nor more than 1024 */
    assert_int_equal(copy_split_parts(4096 * GB, 4096 * GB / 8192, GB, 1), 1024);
}

static void ranges_cover_every_page(void **state)
{
    (void)state;
    const int64_t pages_cases[] = {2, 3, 7, 1000, 131071, 1310720};
    const int parts_cases[] = {2, 3, 4, 7, 12};
    for (size_t i = 0; i < sizeof pages_cases / sizeof pages_cases[0]; i++) {
        for (size_t j = 0; j < sizeof parts_cases / sizeof parts_cases[0]; j++) {
            int64_t pages = pages_cases[i];
            int parts = parts_cases[j];
            if (parts > pages)
                continue; /* copy_split_parts never asks for that */
            int64_t next = 0, min = pages, max = 0;
            for (int p = 0; p < parts; p++) {
                int64_t first, end;
                copy_split_range(pages, parts, p, &first, &end);
                assert_int_equal(first, next); /* no gap, no overlap */
                if (p == parts - 1) {
                    assert_int_equal(end, -1); /* the last one is open-ended */
                    end = pages;
                }
                assert_true(end > first); /* none empty */
                int64_t len = end - first;
                min = len < min ? len : min;
                max = len > max ? len : max;
                next = end;
            }
            assert_int_equal(next, pages);
            assert_true(max - min <= 1); /* equal sizes, to the page */
        }
    }
}

static void ranges_example(void **state)
{
    (void)state;
    int64_t first, end;
    copy_split_range(10, 4, 0, &first, &end);
    assert_int_equal(first, 0);
    assert_int_equal(end, 2);
    copy_split_range(10, 4, 1, &first, &end);
    assert_int_equal(first, 2);
    assert_int_equal(end, 5);
    copy_split_range(10, 4, 2, &first, &end);
    assert_int_equal(first, 5);
    assert_int_equal(end, 7);
    copy_split_range(10, 4, 3, &first, &end);
    assert_int_equal(first, 7);
    assert_int_equal(end, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(threshold_given), cmocka_unit_test(threshold_auto),
        cmocka_unit_test(parts_whole),     cmocka_unit_test(parts_multiple_of_jobs),
        cmocka_unit_test(parts_capped),    cmocka_unit_test(ranges_cover_every_page),
        cmocka_unit_test(ranges_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
