/* tests/unit/test_verify_hash.c — verify's row-hash expression builder
 * (verify_row_hash_expr): the chain of per-type hash calls, NULL handling,
 * the columns the target lacks, the ROW()::text form of wide rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "strbuf.h"
#include "strutil.h"
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static verify_column col(const char *qname, verify_hash_class hash, bool not_null)
{
    return (verify_column){.name = (char *)qname,
                           .qname = (char *)qname,
                           .on_target = true,
                           .hash = hash,
                           .not_null = not_null};
}

static void expect_hash(verify_column *cols, int n, bool conv, const char *want)
{
    verify_table t = {.cols = cols, .ncols = n};
    char *got = verify_row_hash_expr(&t, conv);
    assert_string_equal(got, want);
    free(got);
}

static void no_columns(void **state)
{
    (void)state;
    expect_hash(NULL, 0, false, "0::bigint");
    verify_column gone = col("gone", VERIFY_HASH_TEXT, true);
    gone.on_target = false; /* only on the source: not hashed */
    expect_hash(&gone, 1, false, "0::bigint");
}

static void chain_in_column_order(void **state)
{
    (void)state;
    verify_column cols[] = {col("id", VERIFY_HASH_INT4, true), col("v", VERIFY_HASH_TEXT, true)};
    /* each call seeded with the previous one's result */
    expect_hash(cols, 2, false,
                "hashtextextended(t.v::text COLLATE \"C\", hashint4extended(t.id, 0::bigint))");
}

static void missing_column_skipped(void **state)
{
    (void)state;
    verify_column cols[] = {col("id", VERIFY_HASH_INT4, true), col("x", VERIFY_HASH_TEXT, true),
                            col("b", VERIFY_HASH_BOOL, true)};
    cols[1].on_target = false;
    expect_hash(cols, 3, false, "hashint4extended(t.b::int, hashint4extended(t.id, 0::bigint))");
}

static void nullable_flips_the_seed(void **state)
{
    (void)state;
    verify_column c = col("v", VERIFY_HASH_TEXT, false);
    expect_hash(&c, 1, false,
                "hashtextextended(coalesce(t.v::text, '') COLLATE \"C\", "
                "(0::bigint # CASE WHEN t.v IS NULL THEN 1 ELSE 0 END))");
    verify_column u = col("u", VERIFY_HASH_UUID, false);
    expect_hash(&u, 1, false,
                "uuid_hash_extended(coalesce(t.u, '00000000-0000-0000-0000-000000000000'), "
                "(0::bigint # CASE WHEN t.u IS NULL THEN 1 ELSE 0 END))");
}

static void bigint_adds_its_high_bits(void **state)
{
    (void)state;
    verify_column c = col("n", VERIFY_HASH_INT8, true);
    expect_hash(&c, 1, false,
                "hashint4extended((t.n >> 32)::int, hashint8extended(t.n, 0::bigint))");
}

static void bpchar_lengths(void **state)
{
    (void)state;
    /* bpchar without a length: its octet length too; NULL as length -1 */
    verify_column b = col("b", VERIFY_HASH_BPCHAR, false);
    expect_hash(&b, 1, false,
                "hashint4extended(coalesce(octet_length(t.b), -1), "
                "hashbpcharextended(coalesce(t.b, '') COLLATE \"C\", 0::bigint))");
    /* character(n): the value alone */
    verify_column n = col("c", VERIFY_HASH_BPCHAR_N, true);
    expect_hash(&n, 1, false, "hashbpcharextended(t.c COLLATE \"C\", 0::bigint)");
}

static void xml_and_utf8(void **state)
{
    (void)state;
    verify_column x = col("x", VERIFY_HASH_XML, true);
    expect_hash(&x, 1, false,
                "hashtextextended(pg_catalog.format('%s', t.x) COLLATE \"C\", 0::bigint)");
    verify_column u = col("s", VERIFY_HASH_UTF8, true);
    expect_hash(&u, 1, true,
                "hashtextextended(pg_catalog.encode(pg_catalog.convert_to(t.s::text, 'UTF8'), "
                "'hex'), 0::bigint)");
}

/* more than CHAIN_MAX_COLS (100) hashed columns: one hash of ROW(...)::text */
static void wide_row_as_text(void **state)
{
    (void)state;
    enum { N = 101 };
    verify_column cols[N];
    char names[N][8];
    strbuf wb = {0};
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "c%d", i);
        cols[i] = col(names[i], VERIFY_HASH_INT4, true);
        strbuf_printf(&wb, "%st.%s", i ? ", " : "", names[i]);
    }
    char *want_cols = wb.data;
    char *want = str_printf("hashtextextended(ROW(%s)::text, 0)", want_cols);
    expect_hash(cols, N, false, want);
    free(want);
    want = str_printf("hashtextextended(pg_catalog.encode(pg_catalog.convert_to(ROW(%s)::text, "
                      "'UTF8'), 'hex'), 0)",
                      want_cols);
    expect_hash(cols, N, true, want);
    free(want);
    free(want_cols);
    /* exactly 100: still a chain */
    verify_table t = {.cols = cols, .ncols = 100};
    char *got = verify_row_hash_expr(&t, false);
    assert_null(strstr(got, "ROW("));
    assert_non_null(strstr(got, "hashint4extended(t.c99, "));
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_columns),
        cmocka_unit_test(chain_in_column_order),
        cmocka_unit_test(missing_column_skipped),
        cmocka_unit_test(nullable_flips_the_seed),
        cmocka_unit_test(bigint_adds_its_high_bits),
        cmocka_unit_test(bpchar_lengths),
        cmocka_unit_test(xml_and_utf8),
        cmocka_unit_test(wide_row_as_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
