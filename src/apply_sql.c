/*
 * src/apply_sql.c — the applier's statement text: INSERT, UPDATE (also as
 * DELETE + INSERT for a GENERATED ALWAYS identity), DELETE, and their
 * grouped forms over unnest() of arrays (include/apply.h, apply_sql_build).
 * Pure: no connection, unit-tested.
 */
#include "apply_internal.h"

#include <stdlib.h>

static void put_ident(strbuf *b, const char *name)
{
    char *q = db_quote_ident(name);
    strbuf_puts(b, q);
    free(q);
}

/* ---------------------------------------------------------------------- */
/* statement text                                                          */

/* WHERE condition for SHAPE; parameters numbered from FIRST. */
static void sql_where(strbuf *b, const apply_table *t, const apply_shape *s, int first)
{
    if (s->full_row)
        strbuf_printf(b, "ctid = (SELECT ctid FROM %s WHERE ", t->qname);
    for (int i = 0; i < s->nwhere; i++) {
        const apply_column *c = &t->cols[s->where[i]];
        if (i > 0)
            strbuf_printf(b, " AND ");
        if (s->full_row) {
            /* as text: works for types without equality (json, point) */
            strbuf_printf(b, "(");
            put_ident(b, c->name);
            strbuf_printf(b, ")::text IS NOT DISTINCT FROM ($%d::%s)::text", first + i, c->type);
        } else {
            put_ident(b, c->name);
            strbuf_printf(b, " = $%d", first + i);
        }
    }
    if (s->full_row)
        strbuf_printf(b, " LIMIT 1)");
}

static bool writes_identity_always(const apply_table *t, const int *cols, int n)
{
    for (int i = 0; i < n; i++)
        if (t->cols[cols[i]].identity == 'a')
            return true;
    return false;
}

static void sql_insert(strbuf *b, const apply_table *t, const apply_shape *s)
{
    strbuf_printf(b, "INSERT INTO %s (", t->qname);
    for (int i = 0; i < s->nset; i++) {
        if (i > 0)
            strbuf_printf(b, ", ");
        put_ident(b, t->cols[s->set[i]].name);
    }
    strbuf_printf(b, ")");
    if (writes_identity_always(t, s->set, s->nset))
        strbuf_printf(b, " OVERRIDING SYSTEM VALUE");
    strbuf_printf(b, " VALUES (");
    for (int i = 0; i < s->nset; i++)
        strbuf_printf(b, "%s$%d", i > 0 ? ", " : "", i + 1);
    strbuf_printf(b, ")");
}

/* UPDATE as DELETE + INSERT in one statement, for rows whose GENERATED
 * ALWAYS identity column cannot be SET: columns absent from the change
 * (unchanged TOAST) are taken from the deleted row. */
static void sql_replace(strbuf *b, const apply_table *t, const apply_shape *s)
{
    strbuf_printf(b, "WITH d AS (DELETE FROM %s WHERE ", t->qname);
    sql_where(b, t, s, s->nset + 1);
    strbuf_printf(b, " RETURNING *) INSERT INTO %s (", t->qname);
    bool first = true;
    for (int i = 0; i < t->ncols; i++) {
        if (t->cols[i].generated)
            continue;
        strbuf_printf(b, "%s", first ? "" : ", ");
        put_ident(b, t->cols[i].name);
        first = false;
    }
    strbuf_printf(b, ") OVERRIDING SYSTEM VALUE SELECT ");
    first = true;
    for (int i = 0; i < t->ncols; i++) {
        if (t->cols[i].generated)
            continue;
        strbuf_printf(b, "%s", first ? "" : ", ");
        first = false;
        int k = -1;
        for (int j = 0; j < s->nset; j++)
            if (s->set[j] == i)
                k = j;
        if (k >= 0) {
            strbuf_printf(b, "$%d::%s", k + 1, t->cols[i].type);
        } else {
            strbuf_printf(b, "d.");
            put_ident(b, t->cols[i].name);
        }
    }
    strbuf_printf(b, " FROM d");
}

/* unnest($1::A1, ...) over the SET columns then the key columns of S. */
static void sql_unnest(strbuf *b, const apply_table *t, const apply_shape *s)
{
    strbuf_printf(b, "unnest(");
    for (int i = 0; i < s->nset + s->nwhere; i++) {
        const apply_column *c = &t->cols[i < s->nset ? s->set[i] : s->where[i - s->nset]];
        strbuf_printf(b, "%s$%d::%s", i > 0 ? ", " : "", i + 1, c->array_type);
    }
    strbuf_printf(b, ")");
}

/* " AS pgb_v(p1, ...)" and, for UPDATE/DELETE, the key join. */
static void sql_grouped_join(strbuf *b, const apply_table *t, const apply_shape *s)
{
    strbuf_printf(b, " AS pgb_v(");
    for (int i = 0; i < s->nset + s->nwhere; i++)
        strbuf_printf(b, "%sp%d", i > 0 ? ", " : "", i + 1);
    strbuf_printf(b, ") WHERE ");
    for (int i = 0; i < s->nwhere; i++) {
        strbuf_printf(b, "%spgb_t.", i > 0 ? " AND " : "");
        put_ident(b, t->cols[s->where[i]].name);
        strbuf_printf(b, " = pgb_v.p%d", s->nset + i + 1);
    }
}

static void sql_grouped(strbuf *b, const apply_table *t, const apply_shape *s)
{
    switch (s->op) {
    case APPLY_OP_INSERT:
        strbuf_printf(b, "INSERT INTO %s (", t->qname);
        for (int i = 0; i < s->nset; i++) {
            strbuf_printf(b, "%s", i > 0 ? ", " : "");
            put_ident(b, t->cols[s->set[i]].name);
        }
        strbuf_printf(b, ")%s SELECT * FROM ",
                      writes_identity_always(t, s->set, s->nset) ? " OVERRIDING SYSTEM VALUE" : "");
        sql_unnest(b, t, s);
        break;
    case APPLY_OP_UPDATE:
        strbuf_printf(b, "UPDATE %s AS pgb_t SET ", t->qname);
        for (int i = 0; i < s->nset; i++) {
            strbuf_printf(b, "%s", i > 0 ? ", " : "");
            put_ident(b, t->cols[s->set[i]].name);
            strbuf_printf(b, " = pgb_v.p%d", i + 1);
        }
        strbuf_printf(b, " FROM ");
        sql_unnest(b, t, s);
        sql_grouped_join(b, t, s);
        break;
    case APPLY_OP_DELETE:
        strbuf_printf(b, "DELETE FROM %s AS pgb_t USING ", t->qname);
        sql_unnest(b, t, s);
        sql_grouped_join(b, t, s);
        break;
    case APPLY_OP_REPLACE:
        abort(); /* never grouped */
    }
}

char *apply_sql_build(const apply_table *t, const apply_shape *s)
{
    strbuf b = {0};
    if (s->grouped) {
        sql_grouped(&b, t, s);
        return b.data;
    }
    switch (s->op) {
    case APPLY_OP_INSERT:
        sql_insert(&b, t, s);
        break;
    case APPLY_OP_UPDATE:
        strbuf_printf(&b, "UPDATE %s SET ", t->qname);
        for (int i = 0; i < s->nset; i++) {
            if (i > 0)
                strbuf_printf(&b, ", ");
            put_ident(&b, t->cols[s->set[i]].name);
            strbuf_printf(&b, " = $%d", i + 1);
        }
        strbuf_printf(&b, " WHERE ");
        sql_where(&b, t, s, s->nset + 1);
        break;
    case APPLY_OP_DELETE:
        strbuf_printf(&b, "DELETE FROM %s WHERE ", t->qname);
        sql_where(&b, t, s, 1);
        break;
    case APPLY_OP_REPLACE:
        sql_replace(&b, t, s);
        break;
    }
    return b.data;
}
