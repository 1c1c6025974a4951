/*
 * src/apply_sql.c — the applier's statement text: INSERT, UPDATE (also as
 * DELETE + INSERT for a GENERATED ALWAYS identity), DELETE, and their
 * grouped forms over unnest() of arrays (include/apply.h, apply_sql_build).
 * Pure: no connection, unit-tested.
 */
#include "apply_internal.h"

#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* ---------------------------------------------------------------------- */
/* a growing string                                                        */

void apply_sb_add(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n >= 0 && b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t need = b->len + (size_t)(n > 0 ? n : 0) + 1;
        b->cap = b->cap ? b->cap : 256;
        while (b->cap < need)
            b->cap *= 2;
        b->s = xrealloc(b->s, b->cap);
    }
}

void apply_sb_ident(sbuf *b, const char *name)
{
    char *q = db_quote_ident(name);
    apply_sb_add(b, "%s", q);
    free(q);
}

/* ---------------------------------------------------------------------- */
/* statement text                                                          */

/* WHERE condition for SHAPE; parameters numbered from FIRST. */
static void sql_where(sbuf *b, const apply_table *t, const apply_shape *s, int first)
{
    if (s->full_row)
        apply_sb_add(b, "ctid = (SELECT ctid FROM %s WHERE ", t->qname);
    for (int i = 0; i < s->nwhere; i++) {
        const apply_column *c = &t->cols[s->where[i]];
        if (i > 0)
            apply_sb_add(b, " AND ");
        if (s->full_row) {
            /* as text: works for types without equality (json, point) */
            apply_sb_add(b, "(");
            apply_sb_ident(b, c->name);
            apply_sb_add(b, ")::text IS NOT DISTINCT FROM ($%d::%s)::text", first + i, c->type);
        } else {
            apply_sb_ident(b, c->name);
            apply_sb_add(b, " = $%d", first + i);
        }
    }
    if (s->full_row)
        apply_sb_add(b, " LIMIT 1)");
}

static bool writes_identity_always(const apply_table *t, const int *cols, int n)
{
    for (int i = 0; i < n; i++)
        if (t->cols[cols[i]].identity == 'a')
            return true;
    return false;
}

static void sql_insert(sbuf *b, const apply_table *t, const apply_shape *s)
{
    apply_sb_add(b, "INSERT INTO %s (", t->qname);
    for (int i = 0; i < s->nset; i++) {
        if (i > 0)
            apply_sb_add(b, ", ");
        apply_sb_ident(b, t->cols[s->set[i]].name);
    }
    apply_sb_add(b, ")");
    if (writes_identity_always(t, s->set, s->nset))
        apply_sb_add(b, " OVERRIDING SYSTEM VALUE");
    apply_sb_add(b, " VALUES (");
    for (int i = 0; i < s->nset; i++)
        apply_sb_add(b, "%s$%d", i > 0 ? ", " : "", i + 1);
    apply_sb_add(b, ")");
}

/* UPDATE as DELETE + INSERT in one statement, for rows whose GENERATED
 * ALWAYS identity column cannot be SET: columns absent from the change
 * (unchanged TOAST) are taken from the deleted row. */
static void sql_replace(sbuf *b, const apply_table *t, const apply_shape *s)
{
    apply_sb_add(b, "WITH d AS (DELETE FROM %s WHERE ", t->qname);
    sql_where(b, t, s, s->nset + 1);
    apply_sb_add(b, " RETURNING *) INSERT INTO %s (", t->qname);
    bool first = true;
    for (int i = 0; i < t->ncols; i++) {
        if (t->cols[i].generated)
            continue;
        apply_sb_add(b, "%s", first ? "" : ", ");
        apply_sb_ident(b, t->cols[i].name);
        first = false;
    }
    apply_sb_add(b, ") OVERRIDING SYSTEM VALUE SELECT ");
    first = true;
    for (int i = 0; i < t->ncols; i++) {
        if (t->cols[i].generated)
            continue;
        apply_sb_add(b, "%s", first ? "" : ", ");
        first = false;
        int k = -1;
        for (int j = 0; j < s->nset; j++)
            if (s->set[j] == i)
                k = j;
        if (k >= 0) {
            apply_sb_add(b, "$%d::%s", k + 1, t->cols[i].type);
        } else {
            apply_sb_add(b, "d.");
            apply_sb_ident(b, t->cols[i].name);
        }
    }
    apply_sb_add(b, " FROM d");
}

/* unnest($1::A1, ...) over the SET columns then the key columns of S. */
static void sql_unnest(sbuf *b, const apply_table *t, const apply_shape *s)
{
    apply_sb_add(b, "unnest(");
    for (int i = 0; i < s->nset + s->nwhere; i++) {
        const apply_column *c = &t->cols[i < s->nset ? s->set[i] : s->where[i - s->nset]];
        apply_sb_add(b, "%s$%d::%s", i > 0 ? ", " : "", i + 1, c->array_type);
    }
    apply_sb_add(b, ")");
}

/* " AS pgb_v(p1, ...)" and, for UPDATE/DELETE, the key join. */
static void sql_grouped_join(sbuf *b, const apply_table *t, const apply_shape *s)
{
    apply_sb_add(b, " AS pgb_v(");
    for (int i = 0; i < s->nset + s->nwhere; i++)
        apply_sb_add(b, "%sp%d", i > 0 ? ", " : "", i + 1);
    apply_sb_add(b, ") WHERE ");
    for (int i = 0; i < s->nwhere; i++) {
        apply_sb_add(b, "%spgb_t.", i > 0 ? " AND " : "");
        apply_sb_ident(b, t->cols[s->where[i]].name);
        apply_sb_add(b, " = pgb_v.p%d", s->nset + i + 1);
    }
}

static void sql_grouped(sbuf *b, const apply_table *t, const apply_shape *s)
{
    switch (s->op) {
    case APPLY_OP_INSERT:
        apply_sb_add(b, "INSERT INTO %s (", t->qname);
        for (int i = 0; i < s->nset; i++) {
            apply_sb_add(b, "%s", i > 0 ? ", " : "");
            apply_sb_ident(b, t->cols[s->set[i]].name);
        }
        apply_sb_add(b, ")%s SELECT * FROM ",
                     writes_identity_always(t, s->set, s->nset) ? " OVERRIDING SYSTEM VALUE" : "");
        sql_unnest(b, t, s);
        break;
    case APPLY_OP_UPDATE:
        apply_sb_add(b, "UPDATE %s AS pgb_t SET ", t->qname);
        for (int i = 0; i < s->nset; i++) {
            apply_sb_add(b, "%s", i > 0 ? ", " : "");
            apply_sb_ident(b, t->cols[s->set[i]].name);
            apply_sb_add(b, " = pgb_v.p%d", i + 1);
        }
        apply_sb_add(b, " FROM ");
        sql_unnest(b, t, s);
        sql_grouped_join(b, t, s);
        break;
    case APPLY_OP_DELETE:
        apply_sb_add(b, "DELETE FROM %s AS pgb_t USING ", t->qname);
        sql_unnest(b, t, s);
        sql_grouped_join(b, t, s);
        break;
    case APPLY_OP_REPLACE:
        abort(); /* never grouped */
    }
}

char *apply_sql_build(const apply_table *t, const apply_shape *s)
{
    sbuf b = {0};
    if (s->grouped) {
        sql_grouped(&b, t, s);
        return b.s;
    }
    switch (s->op) {
    case APPLY_OP_INSERT:
        sql_insert(&b, t, s);
        break;
    case APPLY_OP_UPDATE:
        apply_sb_add(&b, "UPDATE %s SET ", t->qname);
        for (int i = 0; i < s->nset; i++) {
            if (i > 0)
                apply_sb_add(&b, ", ");
            apply_sb_ident(&b, t->cols[s->set[i]].name);
            apply_sb_add(&b, " = $%d", i + 1);
        }
        apply_sb_add(&b, " WHERE ");
        sql_where(&b, t, s, s->nset + 1);
        break;
    case APPLY_OP_DELETE:
        apply_sb_add(&b, "DELETE FROM %s WHERE ", t->qname);
        sql_where(&b, t, s, 1);
        break;
    case APPLY_OP_REPLACE:
        sql_replace(&b, t, s);
        break;
    }
    return b.s;
}
