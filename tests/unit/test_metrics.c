/* tests/unit/test_metrics.c — --metrics address parsing and the metrics
 * text (no server). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void check_parse(const char *spec, const char *host, const char *port)
{
    char *h, *p, *err;
    assert_true(metrics_parse(spec, &h, &p, &err));
    assert_string_equal(h, host);
    assert_string_equal(p, port);
    assert_null(err);
    free(h);
    free(p);
}

static void check_refused(const char *spec)
{
    char *h, *p, *err;
    assert_false(metrics_parse(spec, &h, &p, &err));
    assert_null(h);
    assert_null(p);
    assert_non_null(strstr(err, "HOST:PORT"));
    free(err);
}

static void addresses(void **state)
{
    (void)state;
    check_parse("9187", "127.0.0.1", "9187");
    check_parse("0.0.0.0:9187", "0.0.0.0", "9187");
    check_parse("localhost:1", "localhost", "1");
    check_parse("[::1]:65535", "::1", "65535");
    check_refused("");
    check_refused("0");
    check_refused("65536");
    check_refused("http");
    check_refused("host:");
    check_refused(":9187");
    check_refused("::1:9187"); /* IPv6 needs brackets */
    check_refused("9187x");
    check_refused("-1");
}

static const char *line_of(const char *text, const char *start)
{
    const char *p = strstr(text, start);
    return p && (p == text || p[-1] == '\n') ? p : NULL;
}

static void text(void **state)
{
    (void)state;
    status_snapshot s = {.found = true,
                         .alive = true,
                         .ntables = 3,
                         .tables_copied = 2,
                         .rows_copied = 1000,
                         .changes_applied = 42,
                         .lag_bytes = -1,
                         .lag_seconds = 0.25,
                         .apply_rate = NAN,
                         .wal_retained = 4096,
                         .last_error = "rejected \"t\"\nline \\ two"};
    snprintf(s.phase, sizeof s.phase, "streaming");
    char *t = metrics_render("m1", &s, true);
    assert_non_null(line_of(t, "pgbaton_up{migration=\"m1\"} 1\n"));
    assert_non_null(line_of(t, "pgbaton_phase{migration=\"m1\",phase=\"streaming\"} 1\n"));
    assert_non_null(line_of(t, "pgbaton_phase{migration=\"m1\",phase=\"copying\"} 0\n"));
    assert_non_null(line_of(t, "pgbaton_phase{migration=\"m1\",phase=\"stopped\"} 0\n"));
    assert_non_null(line_of(t, "pgbaton_tables_copied{migration=\"m1\"} 2\n"));
    assert_non_null(line_of(t, "pgbaton_changes_applied_total{migration=\"m1\"} 42\n"));
    assert_non_null(line_of(t, "# TYPE pgbaton_changes_applied_total counter\n"));
    assert_non_null(line_of(t, "pgbaton_lag_bytes{migration=\"m1\"} NaN\n")); /* unknown */
    assert_non_null(line_of(t, "pgbaton_lag_seconds{migration=\"m1\"} 0.25\n"));
    assert_non_null(line_of(t, "pgbaton_apply_rate{migration=\"m1\"} NaN\n"));
    assert_non_null(line_of(t, "pgbaton_wal_retained_bytes{migration=\"m1\"} 4096\n"));
    assert_non_null(line_of(t, "pgbaton_last_error{migration=\"m1\",message=\"rejected "
                               "\\\"t\\\"\\nline \\\\ two\"} 1\n"));
    free(t);

    s.last_error = NULL;
    t = metrics_render("m1", &s, true);
    assert_non_null(line_of(t, "pgbaton_last_error{migration=\"m1\",message=\"\"} 0\n"));
    free(t);

    /* the state could not be read: only the two health lines */
    t = metrics_render("m1", NULL, false);
    assert_non_null(line_of(t, "pgbaton_state_read_ok{migration=\"m1\"} 0\n"));
    assert_null(strstr(t, "pgbaton_phase"));
    free(t);

    s.found = false;
    t = metrics_render("m1", &s, true);
    assert_non_null(line_of(t, "pgbaton_migration_found{migration=\"m1\"} 0\n"));
    assert_null(strstr(t, "pgbaton_phase"));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(addresses),
        cmocka_unit_test(text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
