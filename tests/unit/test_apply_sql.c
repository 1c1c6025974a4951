/* tests/unit/test_apply_sql.c — statement text built by the apply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "apply.h"

#include <stdlib.h>

static apply_column cols[] = {
    {.name = "id",
     .type = "integer",
     .identity = 'a',
     .in_key = true,
     .array_type = "pg_catalog._int4"},
    {.name = "Odd \"col\"", .type = "public.mood", .array_type = "public._mood"},
    {.name = "g", .type = "integer", .generated = true},
    {.name = "j", .type = "json", .array_type = "pg_catalog._json"},
};

static apply_table table(int nkey)
{
    apply_table t = {.schema = "s",
                     .name = "t",
                     .qname = "\"s\".\"T x\"",
                     .relkind = 'r',
                     .cols = cols,
                     .ncols = 4,
                     .nkey = nkey};
    return t;
}

static void check(const apply_table *t, const apply_shape *s, const char *want)
{
    char *sql = apply_sql_build(t, s);
    assert_string_equal(sql, want);
    free(sql);
}

static void insert_with_identity(void **state)
{
    (void)state;
    apply_table t = table(1);
    int set[] = {0, 1, 3};
    apply_shape s = {.op = APPLY_OP_INSERT, .set = set, .nset = 3};
    check(&t, &s,
          "INSERT INTO \"s\".\"T x\" (\"id\", \"Odd \"\"col\"\"\", \"j\") OVERRIDING SYSTEM VALUE "
          "VALUES ($1, $2, $3)");
    int set2[] = {1};
    s.set = set2;
    s.nset = 1;
    check(&t, &s, "INSERT INTO \"s\".\"T x\" (\"Odd \"\"col\"\"\") VALUES ($1)");
}

static void update_delete_by_key(void **state)
{
    (void)state;
    apply_table t = table(1);
    int set[] = {1, 3}, where[] = {0};
    apply_shape s = {.op = APPLY_OP_UPDATE, .set = set, .nset = 2, .where = where, .nwhere = 1};
    check(&t, &s,
          "UPDATE \"s\".\"T x\" SET \"Odd \"\"col\"\"\" = $1, \"j\" = $2 WHERE \"id\" = $3");
    apply_shape d = {.op = APPLY_OP_DELETE, .where = where, .nwhere = 1};
    check(&t, &d, "DELETE FROM \"s\".\"T x\" WHERE \"id\" = $1");
}

static void full_row_matches_one_row(void **state)
{
    (void)state;
    apply_table t = table(0);
    int where[] = {1, 3};
    apply_shape d = {.op = APPLY_OP_DELETE, .where = where, .nwhere = 2, .full_row = true};
    check(&t, &d,
          "DELETE FROM \"s\".\"T x\" WHERE ctid = (SELECT ctid FROM \"s\".\"T x\" WHERE "
          "(\"Odd \"\"col\"\"\")::text IS NOT DISTINCT FROM ($1::public.mood)::text AND "
          "(\"j\")::text IS NOT DISTINCT FROM ($2::json)::text LIMIT 1)");
}

static void replace_keeps_absent_columns(void **state)
{
    (void)state;
    apply_table t = table(1);
    int set[] = {0}, where[] = {0};
    apply_shape s = {.op = APPLY_OP_REPLACE, .set = set, .nset = 1, .where = where, .nwhere = 1};
    check(&t, &s,
          "WITH d AS (DELETE FROM \"s\".\"T x\" WHERE \"id\" = $2 RETURNING *) INSERT INTO "
          "\"s\".\"T x\" (\"id\", \"Odd \"\"col\"\"\", \"j\") OVERRIDING SYSTEM VALUE SELECT "
          "$1::integer, d.\"Odd \"\"col\"\"\", d.\"j\" FROM d");
}

static void grouped_statements(void **state)
{
    (void)state;
    apply_table t = table(1);
    int set[] = {0, 1, 3}, where[] = {0};
    apply_shape i = {.op = APPLY_OP_INSERT, .set = set, .nset = 3, .grouped = true};
    check(&t, &i,
          "INSERT INTO \"s\".\"T x\" (\"id\", \"Odd \"\"col\"\"\", \"j\") OVERRIDING SYSTEM VALUE "
          "SELECT * FROM unnest($1::pg_catalog._int4, $2::public._mood, $3::pg_catalog._json)");
    apply_shape u = {.op = APPLY_OP_UPDATE,
                     .set = set + 1,
                     .nset = 2,
                     .where = where,
                     .nwhere = 1,
                     .grouped = true};
    check(&t, &u,
          "UPDATE \"s\".\"T x\" AS pgb_t SET \"Odd \"\"col\"\"\" = pgb_v.p1, \"j\" = pgb_v.p2 FROM "
          "unnest($1::public._mood, $2::pg_catalog._json, $3::pg_catalog._int4) AS pgb_v(p1, p2, "
          "p3) WHERE pgb_t.\"id\" = pgb_v.p3");
    apply_shape d = {.op = APPLY_OP_DELETE, .where = where, .nwhere = 1, .grouped = true};
    check(&t, &d,
          "DELETE FROM \"s\".\"T x\" AS pgb_t USING unnest($1::pg_catalog._int4) AS pgb_v(p1) "
          "WHERE pgb_t.\"id\" = pgb_v.p1");
}

/* An UPDATE sets only the columns the change carries: an unchanged TOASTed
 * value is absent from the change, so it is absent from SET and the
 * target keeps its value. */
static void update_leaves_absent_columns_alone(void **state)
{
    (void)state;
    apply_table t = table(1);
    int set[] = {3}, where[] = {0};
    apply_shape s = {.op = APPLY_OP_UPDATE, .set = set, .nset = 1, .where = where, .nwhere = 1};
    check(&t, &s, "UPDATE \"s\".\"T x\" SET \"j\" = $1 WHERE \"id\" = $2");
    int set2[] = {1};
    s.set = set2;
    check(&t, &s, "UPDATE \"s\".\"T x\" SET \"Odd \"\"col\"\"\" = $1 WHERE \"id\" = $2");
}

/* REPLICA IDENTITY FULL (no key): the old row finds one row, compared as
 * text and null-safe; the WHERE parameters follow the SET ones. */
static void update_full_row(void **state)
{
    (void)state;
    apply_table t = table(0);
    int set[] = {3}, where[] = {0, 1, 3};
    apply_shape s = {.op = APPLY_OP_UPDATE,
                     .set = set,
                     .nset = 1,
                     .where = where,
                     .nwhere = 3,
                     .full_row = true};
    check(&t, &s,
          "UPDATE \"s\".\"T x\" SET \"j\" = $1 WHERE ctid = (SELECT ctid FROM \"s\".\"T x\" WHERE "
          "(\"id\")::text IS NOT DISTINCT FROM ($2::integer)::text AND "
          "(\"Odd \"\"col\"\"\")::text IS NOT DISTINCT FROM ($3::public.mood)::text AND "
          "(\"j\")::text IS NOT DISTINCT FROM ($4::json)::text LIMIT 1)");
}

static apply_column kcols[] = {
    {.name = "a", .type = "integer", .in_key = true, .array_type = "pg_catalog._int4"},
    {.name = "b", .type = "text", .in_key = true, .array_type = "pg_catalog._text"},
    {.name = "v", .type = "numeric(10,2)", .array_type = "pg_catalog._numeric"},
};

/* A two-column key: the grouped forms join on both, the key values after
 * the SET values; no identity column, no OVERRIDING. */
static void grouped_composite_key(void **state)
{
    (void)state;
    apply_table t = {.schema = "s",
                     .name = "k",
                     .qname = "\"s\".\"k\"",
                     .relkind = 'r',
                     .cols = kcols,
                     .ncols = 3,
                     .nkey = 2};
    int all[] = {0, 1, 2}, set[] = {2}, where[] = {0, 1};
    apply_shape i = {.op = APPLY_OP_INSERT, .set = all, .nset = 3, .grouped = true};
    check(
        &t, &i,
        "INSERT INTO \"s\".\"k\" (\"a\", \"b\", \"v\") SELECT * FROM unnest($1::pg_catalog._int4, "
        "$2::pg_catalog._text, $3::pg_catalog._numeric)");
    apply_shape u = {
        .op = APPLY_OP_UPDATE, .set = set, .nset = 1, .where = where, .nwhere = 2, .grouped = true};
    check(&t, &u,
          "UPDATE \"s\".\"k\" AS pgb_t SET \"v\" = pgb_v.p1 FROM unnest($1::pg_catalog._numeric, "
          "$2::pg_catalog._int4, $3::pg_catalog._text) AS pgb_v(p1, p2, p3) WHERE pgb_t.\"a\" = "
          "pgb_v.p2 AND pgb_t.\"b\" = pgb_v.p3");
    apply_shape d = {.op = APPLY_OP_DELETE, .where = where, .nwhere = 2, .grouped = true};
    check(
        &t, &d,
        "DELETE FROM \"s\".\"k\" AS pgb_t USING unnest($1::pg_catalog._int4, $2::pg_catalog._text) "
        "AS pgb_v(p1, p2) WHERE pgb_t.\"a\" = pgb_v.p1 AND pgb_t.\"b\" = pgb_v.p2");
    /* the same shapes, one row at a time */
    i.grouped = u.grouped = d.grouped = false;
    check(&t, &i, "INSERT INTO \"s\".\"k\" (\"a\", \"b\", \"v\") VALUES ($1, $2, $3)");
    check(&t, &u, "UPDATE \"s\".\"k\" SET \"v\" = $1 WHERE \"a\" = $2 AND \"b\" = $3");
    check(&t, &d, "DELETE FROM \"s\".\"k\" WHERE \"a\" = $1 AND \"b\" = $2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(insert_with_identity),
        cmocka_unit_test(update_delete_by_key),
        cmocka_unit_test(full_row_matches_one_row),
        cmocka_unit_test(replace_keeps_absent_columns),
        cmocka_unit_test(grouped_statements),
        cmocka_unit_test(update_leaves_absent_columns_alone),
        cmocka_unit_test(update_full_row),
        cmocka_unit_test(grouped_composite_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
