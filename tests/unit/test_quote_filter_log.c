/* tests/unit/test_quote_filter_log.c — SQL quoting, table filters, log redaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli.h"
#include "db.h"
#include "filter.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

static void check_ident(const char *in, const char *out)
{
    char *q = db_quote_ident(in);
    assert_string_equal(q, out);
    free(q);
}

static void check_literal(const char *in, const char *out)
{
    char *q = db_quote_literal(in);
    assert_string_equal(q, out);
    free(q);
}

static void quoting(void **state)
{
    (void)state;
    check_ident("t", "\"t\"");
    check_ident("Order", "\"Order\"");
    check_ident("sales data", "\"sales data\"");
    check_ident("a\"b", "\"a\"\"b\"");
    check_ident("", "\"\"");
    check_literal("x", "'x'");
    check_literal("it's", "'it''s'");
    check_literal("back\\slash", "E'back\\\\slash'");
    check_literal("", "''");
    check_literal("é ü", "'é ü'");
    char *q = db_quote_qualified("sales data", "Order");
    assert_string_equal(q, "\"sales data\".\"Order\"");
    free(q);
    q = db_quote_qualified("a.b", "c\"d");
    assert_string_equal(q, "\"a.b\".\"c\"\"d\"");
    free(q);
}

static void globs(void **state)
{
    (void)state;
    assert_true(filter_match("*", ""));
    assert_true(filter_match("*", "anything"));
    assert_true(filter_match("order_*", "order_2024"));
    assert_false(filter_match("order_*", "orders"));
    assert_true(filter_match("a?c", "abc"));
    assert_false(filter_match("a?c", "ac"));
    assert_true(filter_match("*log*", "audit_log_2"));
    assert_true(filter_match("a*b*c", "axxbyyc"));
    assert_false(filter_match("a*b*c", "axxbyy"));
    assert_true(filter_match("public.*", "public.t"));
    assert_false(filter_match("Order", "order"));
}

static void selection(void **state)
{
    (void)state;
    filter_set o = {0};
    assert_true(filter_is_empty(&o));
    assert_true(filter_table_selected(&o, "public", "t"));
    assert_false(filter_table_selected(&o, "pgbaton", "migration"));
    assert_false(filter_table_selected(&o, "pg_catalog", "pg_class"));

    char *inc_schema[] = {"sales*"};
    o.include_schema = (strlist){inc_schema, 1};
    assert_false(filter_is_empty(&o));
    assert_true(filter_table_selected(&o, "sales", "t"));
    assert_true(filter_table_selected(&o, "sales data", "t"));
    assert_false(filter_table_selected(&o, "public", "t"));

    char *exc_table[] = {"*_tmp", "sales.secret"};
    o.exclude_table = (strlist){exc_table, 2};
    assert_false(filter_table_selected(&o, "sales", "x_tmp"));
    assert_false(filter_table_selected(&o, "sales", "secret"));
    assert_true(filter_table_selected(&o, "sales data", "secret"));

    filter_set p = {0};
    char *inc_table[] = {"public.a*", "b"};
    p.include_table = (strlist){inc_table, 2};
    assert_true(filter_table_selected(&p, "public", "abc"));
    assert_false(filter_table_selected(&p, "other", "abc"));
    assert_true(filter_table_selected(&p, "other", "b"));
    char *exc_schema[] = {"other"};
    p.exclude_schema = (strlist){exc_schema, 1};
    assert_false(filter_table_selected(&p, "other", "b"));
}

static void redaction(void **state)
{
    (void)state;
    log_add_secret("hunter2-long");
    log_add_secret("pw"); /* short: only masked standing alone */
    char *r = log_redact("password hunter2-long rejected; pw: x; upward");
    assert_string_equal(r, "password **** rejected; ****: x; upward");
    free(r);
    log_add_secret("hunter2-long-and-more");
    r = log_redact("hunter2-long-and-more");
    assert_string_equal(r, "****");
    free(r);
    r = log_redact(NULL);
    assert_string_equal(r, "");
    free(r);
    log_forget_secrets();
    r = log_redact("hunter2-long pw");
    assert_string_equal(r, "hunter2-long pw");
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quoting),
        cmocka_unit_test(globs),
        cmocka_unit_test(selection),
        cmocka_unit_test(redaction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
