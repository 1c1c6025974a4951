/* tests/unit/test_check.c — preflight report bookkeeping and the
 * output_plugin_libraries parser (no server). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include "log.h"

#include <stdlib.h>

static void plugin_list(void **state)
{
    (void)state;
    assert_true(check_plugin_listed("pgoutput, test_decoding, wal2json", "wal2json"));
    assert_true(check_plugin_listed("wal2json", "wal2json"));
    assert_true(check_plugin_listed("\"wal2json\",pgoutput", "wal2json"));
    assert_true(check_plugin_listed("  pgoutput ,  wal2json  ", "wal2json"));
    assert_false(check_plugin_listed("pgoutput, test_decoding", "wal2json"));
    assert_false(check_plugin_listed("", "wal2json"));
    assert_false(check_plugin_listed("wal2json2, my_wal2json", "wal2json"));
}

static void report_counts_and_redacts(void **state)
{
    (void)state;
    log_add_secret("hunter2-secret");
    check_report *r = calloc(1, sizeof *r);
    check_report_add(r, "a", CHECK_PASS, "fine", NULL);
    check_report_add(r, "b", CHECK_WARN, "so-so", "do this");
    check_report_add(r, "c", CHECK_FAIL, "password hunter2-secret leaked", "fix hunter2-secret");
    check_report_add(r, "d", CHECK_FAIL, "bad", "do that");
    assert_int_equal(check_report_count(r, CHECK_PASS), 1);
    assert_int_equal(check_report_count(r, CHECK_WARN), 1);
    assert_int_equal(check_report_count(r, CHECK_FAIL), 2);
    assert_null(r->items[0].fix);
    assert_string_equal(r->items[2].message, "password **** leaked");
    assert_string_equal(r->items[2].fix, "fix ****");
    check_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plugin_list),
        cmocka_unit_test(report_counts_and_redacts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
