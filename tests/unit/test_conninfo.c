/* tests/unit/test_conninfo.c — masking and parsing of connection strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "conninfo.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void check_mask(const char *raw, const char *expected)
{
    char *m = conninfo_mask(raw);
    assert_string_equal(m, expected);
    free(m);
}

static void mask_uri(void **state)
{
    (void)state;
    check_mask("postgres://app:s3cret@db.example.com:5432/shop",
               "postgres://app:****@db.example.com:5432/shop");
    check_mask("postgresql://app:s3cret@db/shop?sslmode=require",
               "postgresql://app:****@db/shop?sslmode=require");
    check_mask("postgres://app@db/shop", "postgres://app@db/shop");
    check_mask("postgres://db/shop", "postgres://db/shop");
    check_mask("postgres://db/shop?password=abc&sslmode=require",
               "postgres://db/shop?password=****&sslmode=require");
    check_mask("postgres://app:p%40ss%3Aw@h1,h2:5433/db?application_name=x&password=y",
               "postgres://app:****@h1,h2:5433/db?application_name=x&password=****");
    /* an '@' after the first '/' is not userinfo */
    check_mask("postgres://host/db?options=a@b", "postgres://host/db?options=a@b");
    check_mask("postgres://:onlypw@host/db", "postgres://:****@host/db");
}

static void mask_kv(void **state)
{
    (void)state;
    check_mask("host=db user=app password=s3cret dbname=shop",
               "host=db user=app password=**** dbname=shop");
    check_mask("host=db password='with space' dbname=shop", "host=db password=**** dbname=shop");
    check_mask("host=db password = 'it\\'s' dbname=shop", "host=db password = **** dbname=shop");
    check_mask("password=a\\ b host=x", "password=**** host=x");
    check_mask("host=db", "host=db");
    check_mask("  host=db   password=x  ", "  host=db   password=****  ");
    check_mask("", "");
    /* malformed: nothing after a password key is shown */
    check_mask("host=x password", "host=x password ****");
}

/* Found by fuzz/fuzz_conninfo.c (inputs in fuzz/regressions/conninfo/):
 * masking read these strings differently from libpq, which found a
 * password that masking left in place. */
static void mask_follows_libpq(void **state)
{
    (void)state;
    /* key=value whitespace is isspace(): \v and \f too, and \r ends a key */
    check_mask("host=x\vpassword=s3cret", "host=x\vpassword=****");
    check_mask("host=x\fpassword=s3cret", "host=x\fpassword=****");
    check_mask("password\r=s3cret host=x", "password\r=**** host=x");
    /* whitespace after '=' is skipped, newlines included */
    check_mask("password=\ns3cret", "password=\n****");
    /* the next key may follow a quoted value at once: the mask must not
     * run into it (password=****dbname=x would be one password) */
    check_mask("password='i\\'s 'dbname=shp", "password=**** dbname=shp");
    /* a URI's userinfo ends at the first '@' before any '/', even after a '?' */
    check_mask("postgresql://app:s1sohp?sslmode@rgquire", "postgresql://app:****@rgquire");
    /* query keywords are percent-decoded */
    check_mask("postgres://h/db?pass%77ord=s3cret", "postgres://h/db?pass%77ord=****");
    /* a '?' inside a bracketed IPv6 host does not start the query */
    check_mask("postgres://[::1?]/db?password=s3cret", "postgres://[::1?]/db?password=****");

    char *err = NULL;
    conninfo *ci = conninfo_parse("postgresql://app:s1sohp?sslmode@rgquire", &err);
    assert_non_null(ci);
    assert_string_equal(conninfo_get(ci, "password"), "s1sohp?sslmode");
    assert_string_equal(conninfo_get(ci, "host"), "rgquire");
    assert_string_equal(ci->masked, "postgresql://app:****@rgquire");
    conninfo_free(ci);
    ci = conninfo_parse("host=x\vpassword=s3cret", &err);
    assert_non_null(ci);
    assert_string_equal(conninfo_get(ci, "host"), "x");
    assert_string_equal(conninfo_get(ci, "password"), "s3cret");
    conninfo_free(ci);
}

static void parse_registers_password(void **state)
{
    (void)state;
    char *err = NULL;
    conninfo *ci = conninfo_parse("postgres://app:p%40ss%3Aword@127.0.0.1:5/db", &err);
    assert_non_null(ci);
    assert_null(err);
    assert_string_equal(conninfo_get(ci, "password"), "p@ss:word");
    assert_string_equal(conninfo_get(ci, "user"), "app");
    assert_string_equal(conninfo_get(ci, "port"), "5");
    assert_null(conninfo_get(ci, "sslmode"));
    assert_string_equal(ci->masked, "postgres://app:****@127.0.0.1:5/db");
    /* both the decoded and the encoded password are masked in log text */
    char *r = log_redact("x p@ss:word y p%40ss%3Aword z");
    assert_string_equal(r, "x **** y **** z");
    free(r);
    conninfo_free(ci);
}

static void parse_error_does_not_echo(void **state)
{
    (void)state;
    char *err = NULL;
    conninfo *ci = conninfo_parse("host=x password='unterminated-secret", &err);
    assert_null(ci);
    assert_non_null(err);
    assert_null(strstr(err, "unterminated-secret"));
    free(err);
    ci = conninfo_parse("host=x bogus_secret_word", &err);
    assert_null(ci);
    assert_null(strstr(err, "bogus_secret_word"));
    free(err);
}

static void scrub_arg_in_place(void **state)
{
    (void)state;
    char a[] = "postgres://app:longpassword@h/db";
    conninfo_scrub_arg(a);
    assert_string_equal(a, "postgres://app:****@h/db");
    char b[] = "password=ab host=x";
    conninfo_scrub_arg(b);
    assert_null(strstr(b, "ab host"));
    assert_int_equal(strncmp(b, "password=", 9), 0);
    /* a short password: the rest of the string survives */
    char c[] = "postgres://u:pw@h/x?connect_timeout=3";
    conninfo_scrub_arg(c);
    assert_string_equal(c, "postgres://u:*@h/x?connect_timeout=3");
    char d[] = "host=h password=pw connect_timeout=3";
    conninfo_scrub_arg(d);
    assert_string_equal(d, "host=h password=* connect_timeout=3");
}

static void uri_detection(void **state)
{
    (void)state;
    assert_true(conninfo_is_uri("postgres://x"));
    assert_true(conninfo_is_uri("postgresql://x"));
    assert_false(conninfo_is_uri("host=x"));
    assert_false(conninfo_is_uri("mysql://x"));
}

/* Issue 14: with 40 pgpass entries registered first, a password given in a
 * connection string is still masked (the secret list has no cap). */
static void many_pgpass_entries(void **state)
{
    (void)state;
    char path[] = "/tmp/pgbaton-test-pgpass-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    for (int i = 0; i < 40; i++)
        fprintf(f, "host%d:5432:db:user%d:pgpass-secret-%02d\n", i, i, i);
    fclose(f);
    setenv("PGPASSFILE", path, 1);
    conninfo_register_env_secrets();
    unsetenv("PGPASSFILE");
    unlink(path);

    char *err = NULL;
    conninfo *ci = conninfo_parse("postgres://u:from-the-uri-41@h/db", &err);
    assert_non_null(ci);
    conninfo_free(ci);
    char *r = log_redact("pgpass-secret-00 pgpass-secret-39 from-the-uri-41");
    assert_string_equal(r, "**** **** ****");
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mask_uri),
        cmocka_unit_test(mask_kv),
        cmocka_unit_test(mask_follows_libpq),
        cmocka_unit_test(parse_registers_password),
        cmocka_unit_test(parse_error_does_not_echo),
        cmocka_unit_test(scrub_arg_in_place),
        cmocka_unit_test(uri_detection),
        cmocka_unit_test(many_pgpass_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
