/* tests/unit/test_failpoint.c — PGBATON_FAILPOINT's parser, the hit count,
 * the armed error's statement (per thread, once). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "failpoint.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static int index_of(const char *name)
{
    for (int i = 0; failpoint_names[i]; i++)
        if (strcmp(failpoint_names[i], name) == 0)
            return i;
    return -1;
}

static void parses_specs(void **state)
{
    (void)state;
    failpoint_spec s[FAILPOINT_MAX_SPECS];
    char err[256];
    int n = -1;
    assert_true(failpoint_parse("copy.rows", s, FAILPOINT_MAX_SPECS, &n, err, sizeof err));
    assert_int_equal(n, 1);
    assert_int_equal(s[0].point, index_of("copy.rows"));
    assert_int_equal(s[0].nth, 1);
    assert_int_equal(s[0].action, FAILPOINT_KILL);

    assert_true(failpoint_parse("copy.index:3=error-target,cutover.freeze=error-source,"
                                "apply.after-commit:12=kill",
                                s, FAILPOINT_MAX_SPECS, &n, err, sizeof err));
    assert_int_equal(n, 3);
    assert_int_equal(s[0].point, index_of("copy.index"));
    assert_int_equal(s[0].nth, 3);
    assert_int_equal(s[0].action, FAILPOINT_ERROR_TARGET);
    assert_int_equal(s[1].point, index_of("cutover.freeze"));
    assert_int_equal(s[1].nth, 1);
    assert_int_equal(s[1].action, FAILPOINT_ERROR_SOURCE);
    assert_int_equal(s[2].point, index_of("apply.after-commit"));
    assert_int_equal(s[2].nth, 12);
    assert_int_equal(s[2].action, FAILPOINT_KILL);

    /* unset or empty: nothing armed, no error */
    assert_true(failpoint_parse(NULL, s, FAILPOINT_MAX_SPECS, &n, err, sizeof err));
    assert_int_equal(n, 0);
    assert_true(failpoint_parse("", s, FAILPOINT_MAX_SPECS, &n, err, sizeof err));
    assert_int_equal(n, 0);
}

/* TEXT is refused, and the reason contains WANT. */
static void refused(const char *text, const char *want)
{
    failpoint_spec s[FAILPOINT_MAX_SPECS];
    char err[256];
    int n = 0;
    assert_false(failpoint_parse(text, s, FAILPOINT_MAX_SPECS, &n, err, sizeof err));
    if (!strstr(err, want))
        fail_msg("\"%s\": the reason \"%s\" does not contain \"%s\"", text, err, want);
}

static void refuses_bad_specs(void **state)
{
    (void)state;
    refused("copy.row", "unknown failpoint \"copy.row\"");
    refused("COPY.ROWS", "unknown failpoint");
    refused("copy.rows,nope:2", "unknown failpoint \"nope\"");
    refused(":3", "unknown failpoint \"\"");
    refused("copy.rows:0", "1 or more");
    refused("copy.rows:-1", "1 or more");
    refused("copy.rows:+2", "1 or more");
    refused("copy.rows: 2", "1 or more");
    refused("copy.rows:", "1 or more");
    refused("copy.rows:2x", "1 or more");
    refused("copy.rows:99999999999999999999999", "1 or more");
    refused("copy.rows=", "unknown action \"\"");
    refused("copy.rows=explode", "unknown action \"explode\"");
    refused("copy.rows=error-source2", "unknown action");
    refused("copy.rows:2=kill:3", "unknown action");
    refused("copy.rows,", "empty failpoint");
    refused(",copy.rows", "empty failpoint");
    refused("copy.rows,,copy.index", "empty failpoint");
    refused(" copy.rows", "unknown failpoint \" copy.rows\"");
    char many[2048] = "";
    for (int i = 0; i <= FAILPOINT_MAX_SPECS; i++)
        strcat(many, i ? ",copy.rows" : "copy.rows");
    refused(many, "more than");
}

static void names_are_unique_and_plain(void **state)
{
    (void)state;
    int n = 0;
    for (int i = 0; failpoint_names[i]; i++, n++) {
        for (const char *p = failpoint_names[i]; *p; p++)
            assert_true((*p >= 'a' && *p <= 'z') || *p == '.' || *p == '-');
        for (int j = 0; j < i; j++)
            assert_string_not_equal(failpoint_names[i], failpoint_names[j]);
    }
    assert_true(n >= 14);
}

/* With nothing armed, nothing fires and no statement is replaced. */
static void unset_is_harmless(void **state)
{
    (void)state;
    unsetenv(FAILPOINT_ENV);
    assert_true(failpoint_init());
    char buf[FAILPOINT_SQL_MAX];
    failpoint("copy.rows");
    assert_null(failpoint_error_sql(false, buf, sizeof buf));
    assert_null(failpoint_error_sql(true, buf, sizeof buf));
}

static void init_refuses_unknown(void **state)
{
    (void)state;
    setenv(FAILPOINT_ENV, "no.such-point", 1);
    assert_false(failpoint_init());
    unsetenv(FAILPOINT_ENV);
}

/* The N-th hit arms the error once, for the next query to that side. */
static void error_at_nth_hit(void **state)
{
    (void)state;
    setenv(FAILPOINT_ENV, "copy.index:3=error-target,cutover.freeze=error-source", 1);
    assert_true(failpoint_init());
    char buf[FAILPOINT_SQL_MAX];
    failpoint("copy.index");
    failpoint("copy.index");
    failpoint("copy.rows");
    assert_null(failpoint_error_sql(false, buf, sizeof buf));
    failpoint("copy.index");
    assert_null(failpoint_error_sql(true, buf, sizeof buf)); /* the other side */
    const char *sql = failpoint_error_sql(false, buf, sizeof buf);
    assert_non_null(sql);
    assert_non_null(strstr(sql, "RAISE EXCEPTION 'pgbaton failpoint copy.index'"));
    assert_true(strncmp(sql, "DO ", 3) == 0);
    assert_null(failpoint_error_sql(false, buf, sizeof buf)); /* once */
    failpoint("copy.index");                                  /* the 4th: nothing */
    assert_null(failpoint_error_sql(false, buf, sizeof buf));
    failpoint("cutover.freeze");
    assert_non_null(strstr(failpoint_error_sql(true, buf, sizeof buf), "cutover.freeze"));
    unsetenv(FAILPOINT_ENV);
    assert_true(failpoint_init());
}

#define THREADS   4
#define HITS_EACH 2500

static atomic_int fired;

static void *hitter(void *arg)
{
    (void)arg;
    char buf[FAILPOINT_SQL_MAX];
    for (int i = 0; i < HITS_EACH; i++) {
        failpoint("copy.rows");
        if (failpoint_error_sql(false, buf, sizeof buf))
            atomic_fetch_add(&fired, 1);
    }
    return NULL;
}

/* Concurrent hits (copy workers): exactly one thread sees the N-th. */
static void concurrent_hits_fire_once(void **state)
{
    (void)state;
    setenv(FAILPOINT_ENV, "copy.rows:5000=error-target", 1);
    assert_true(failpoint_init());
    atomic_store(&fired, 0);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hitter, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&fired), 1);
    /* the error was armed in a worker thread, not in this one */
    char buf[FAILPOINT_SQL_MAX];
    assert_null(failpoint_error_sql(false, buf, sizeof buf));
    unsetenv(FAILPOINT_ENV);
    assert_true(failpoint_init());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_specs),
        cmocka_unit_test(refuses_bad_specs),
        cmocka_unit_test(names_are_unique_and_plain),
        cmocka_unit_test(unset_is_harmless),
        cmocka_unit_test(init_refuses_unknown),
        cmocka_unit_test(error_at_nth_hit),
        cmocka_unit_test(concurrent_hits_fire_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
