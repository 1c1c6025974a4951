/*
 * src/verify_schema.c — verify: are the structures of source and target equal?
 *
 * Both sides describe themselves with sql/verify_schema.sql: one row per
 * (kind, schema, name, sub, aspect, value, display), byte-ordered. The two
 * lists are merged like sorted files: an object (kind, schema, name, sub) —
 * its name's parts, never one joined string — on one side only is "missing
 * on target" or "extra on target"; an aspect whose value differs is named
 * with both values when they are short (a type, a nullability, a default),
 * or just said to differ when they are long (a function body). Messages name
 * the object by its display form, each part quoted as quote_ident() does.
 */
#include "verify.h"

#include "log.h"
#include "sql_embed.h"
#include "state_triggers.h"
#include "strutil.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Values longer than this (or on several lines) are not quoted in messages. */
#define SHORT_VALUE 80

/* Objects compare by (kind, schema, name, sub), part by part. */
static int cmp_object(const db_res *a, int i, const db_res *b, int j)
{
    static const int parts[] = {VERIFY_SC_KIND, VERIFY_SC_SCHEMA, VERIFY_SC_NAME, VERIFY_SC_SUB};
    int c = 0;
    for (size_t k = 0; c == 0 && k < sizeof parts / sizeof parts[0]; k++)
        c = strcmp(db_val(a, i, parts[k]), db_val(b, j, parts[k]));
    return c;
}

static bool is_short(const char *v)
{
    return strlen(v) <= SHORT_VALUE && !strchr(v, '\n');
}

/* Number of rows from I describing the same object as row I. */
static int object_rows(const db_res *res, int i)
{
    int n = 1;
    while (i + n < db_nrows(res) && cmp_object(res, i, res, i + n) == 0)
        n++;
    return n;
}

/* Both sides have the object at S[i..i+ns) and D[j..j+nd): compare aspects. */
static void compare_aspects(const db_res *s, int i, int ns, const db_res *d, int j, int nd,
                            verify_result *r)
{
    const char *kind = db_val(s, i, VERIFY_SC_KIND), *name = db_val(s, i, VERIFY_SC_DISPLAY);
    int a = 0, b = 0;
    while (a < ns || b < nd) {
        int c = a >= ns   ? 1
                : b >= nd ? -1
                          : strcmp(db_val(s, i + a, VERIFY_SC_ASPECT),
                                   db_val(d, j + b, VERIFY_SC_ASPECT));
        if (c < 0) {
            strlist_addf(&r->schema_diffs, "%s %s: %s only on source", kind, name,
                         db_val(s, i + a, VERIFY_SC_ASPECT));
            a++;
        } else if (c > 0) {
            strlist_addf(&r->schema_diffs, "%s %s: %s only on target", kind, name,
                         db_val(d, j + b, VERIFY_SC_ASPECT));
            b++;
        } else {
            const char *vs = db_val(s, i + a, VERIFY_SC_VALUE),
                       *vd = db_val(d, j + b, VERIFY_SC_VALUE);
            const char *aspect = db_val(s, i + a, VERIFY_SC_ASPECT);
            if (strcmp(vs, vd) != 0) {
                if (is_short(vs) && is_short(vd))
                    strlist_addf(&r->schema_diffs, "%s %s: %s %s on source, %s on target", kind,
                                 name, aspect, vs, vd);
                else
                    strlist_addf(&r->schema_diffs, "%s %s: %s differs between source and target",
                                 kind, name, aspect);
            }
            a++;
            b++;
        }
    }
}

static void merge(const db_res *s, const db_res *d, verify_result *r)
{
    int i = 0, j = 0, ns = db_nrows(s), nd = db_nrows(d);
    while (i < ns || j < nd) {
        int c = i >= ns ? 1 : j >= nd ? -1 : cmp_object(s, i, d, j);
        if (c < 0) {
            strlist_addf(&r->schema_diffs, "%s %s missing on target", db_val(s, i, VERIFY_SC_KIND),
                         db_val(s, i, VERIFY_SC_DISPLAY));
            i += object_rows(s, i);
        } else if (c > 0) {
            strlist_addf(&r->schema_diffs, "%s %s exists only on target",
                         db_val(d, j, VERIFY_SC_KIND), db_val(d, j, VERIFY_SC_DISPLAY));
            j += object_rows(d, j);
        } else {
            int a = object_rows(s, i), b = object_rows(d, j);
            compare_aspects(s, i, a, d, j, b, r);
            i += a;
            j += b;
        }
    }
}

/* Every object is reported on its own: a table missing on the target also
 * has its columns, indexes and constraints named, which is what a reader
 * fixing the target by hand needs. */
/* The line of sql/verify_schema.sql that lists no paused trigger. */
static const char empty_paused[] =
    "    SELECT NULL::text, NULL::text, NULL::text, NULL::text, NULL::text WHERE false\n";

/* The schema query for the target: while it has pgbaton.paused_trigger, the
 * recorded modes in place of the switched-off ones (src/triggers.c). NULL
 * (logged) on error; a new string otherwise. */
static char *target_schema_sql(db_conn *dst)
{
    const char *paused = NULL;
    if (!state_triggers_paused_sql(dst, &paused))
        return NULL;
    if (!paused)
        return xstrdup(sql_verify_schema);
    const char *at = strstr(sql_verify_schema, empty_paused);
    if (!at) {
        log_error("internal error: sql/verify_schema.sql has lost the line that "
                  "sql/state_triggers_paused.sql replaces");
        return NULL;
    }
    return str_printf("%.*s%s%s", (int)(at - sql_verify_schema), sql_verify_schema, paused,
                      at + strlen(empty_paused));
}

bool verify_schema(verify_ctx *ctx, verify_result *r)
{
    db_res *s = NULL, *d = NULL;
    char *dst_sql = target_schema_sql(ctx->dst);
    if (!dst_sql)
        return false;
    bool got = verify_pair_query(ctx->src, sql_verify_schema, ctx->dst, dst_sql, &s, &d);
    free(dst_sql);
    if (!got)
        return false;
    bool ok = db_check_shape(ctx->src, s, VERIFY_SC_NCOLS, 0, "schema description") &&
              db_check_shape(ctx->dst, d, VERIFY_SC_NCOLS, 0, "schema description");
    if (ok)
        merge(s, d, r);
    db_res_free(s);
    db_res_free(d);
    return ok;
}
