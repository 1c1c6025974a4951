/*
 * src/apply_tables.c — what the applier knows of each target table: its
 * columns, key and array types (read once from the catalog session,
 * sql/apply_table.sql, and cached by name), the mapping of a change's
 * columns onto them (a difference is a schema change on the source: a clear
 * refusal), and each table's cache of prepared statements by shape.
 */
#include "apply_internal.h"

#include "db_async.h"
#include "log.h"
#include "sql_embed.h"
#include "strutil.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_NORMAL_OID 16384u

/* ---------------------------------------------------------------------- */
/* table metadata                                                          */

static unsigned hash_name(const char *schema, const char *table)
{
    const char *name[2] = {schema, table};
    return str_hash(name, 2) % TABLE_BUCKETS;
}

static bool load_table(apply_ctx *a, apply_table *t)
{
    const char *params[2] = {t->schema, t->name};
    db_res *r = db_exec(a->catalog, DB_LOG, sql_apply_table, 2, params);
    if (!r)
        return false;
    if (db_ncols(r) != 10) {
        db_check_shape(a->catalog, r, 10, 0, "table columns");
        db_res_free(r);
        return false;
    }
    int n = db_nrows(r);
    t->missing = n == 0;
    t->cols = xcalloc((size_t)(n > 0 ? n : 1), sizeof(apply_column));
    t->ncols = n;
    for (int i = 0; i < n; i++) {
        apply_column *c = &t->cols[i];
        c->name = xstrdup(db_val(r, i, 0));
        c->type = xstrdup(db_val(r, i, 1));
        c->typoid = (uint32_t)strtoul(db_val(r, i, 2), NULL, 10);
        c->generated = db_val(r, i, 3)[0] == 't';
        c->identity = db_val(r, i, 4)[0];
        c->in_key = db_val(r, i, 5)[0] == 't';
        if (c->in_key)
            t->nkey++;
        t->relkind = db_val(r, i, 6)[0];
        c->array_type = db_isnull(r, i, 7) ? NULL : xstrdup(db_val(r, i, 7));
        c->delim = db_val(r, i, 8)[0] ? db_val(r, i, 8)[0] : ',';
        t->other_unique = db_val(r, i, 9)[0] == 't';
    }
    db_res_free(r);
    return true;
}

/* The table's metadata (cached), or NULL when the catalog query failed. */
apply_table *apply_table_get(apply_ctx *a, const char *schema, const char *table)
{
    unsigned h = hash_name(schema, table);
    for (table_entry *e = a->buckets[h]; e; e = e->next)
        if (strcmp(e->t.name, table) == 0 && strcmp(e->t.schema, schema) == 0)
            return &e->t;
    table_entry *e = xcalloc(1, sizeof *e);
    apply_table *t = &e->t;
    t->schema = xstrdup(schema);
    t->name = xstrdup(table);
    t->qname = db_quote_qualified(schema, table);
    t->selected = a->opts.selected(a->opts.selected_arg, schema, table);
    if (t->selected && !load_table(a, t)) {
        free(t->schema);
        free(t->name);
        free(t->qname);
        free(t->cols);
        free(e);
        return NULL;
    }
    e->next = a->buckets[h];
    a->buckets[h] = e;
    return t;
}

static void free_table(apply_table *t)
{
    for (int i = 0; i < t->ncols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].type);
        free(t->cols[i].array_type);
    }
    apply_group_free(t->group);
    free(t->cols);
    for (int i = 0; i < t->nstmts; i++) {
        free(t->stmts[i].set);
        free(t->stmts[i].where);
    }
    free(t->stmts);
    free(t->schema);
    free(t->name);
    free(t->qname);
}

void apply_tables_free(apply_ctx *a)
{
    for (int i = 0; i < TABLE_BUCKETS; i++) {
        table_entry *e = a->buckets[i];
        while (e) {
            table_entry *next = e->next;
            free_table(&e->t);
            free(e);
            e = next;
        }
    }
}

/* ---------------------------------------------------------------------- */
/* statement cache                                                         */

static int *dup_ints(const int *v, int n)
{
    int *d = xmalloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    if (n > 0)
        memcpy(d, v, (size_t)n * sizeof(int));
    return d;
}

/* The prepared statement for SHAPE on T, preparing it (in the pipeline) the
 * first time. NULL when sending failed. */
apply_stmt *apply_stmt_get(apply_ctx *a, apply_table *t, const apply_shape *s)
{
    for (int i = 0; i < t->nstmts; i++) {
        apply_stmt *st = &t->stmts[i];
        if (st->op == s->op && st->full_row == s->full_row && st->grouped == s->grouped &&
            same_ints(st->set, st->nset, s->set, s->nset) &&
            same_ints(st->where, st->nwhere, s->where, s->nwhere))
            return st;
    }
    if (apply_make_room(a) != APPLY_OK)
        return NULL;
    char *sql = apply_sql_build(t, s);
    char name[24];
    snprintf(name, sizeof name, "pgb_%d", ++a->nstmt_names);
    log_debug("target: prepare %s: %s", name, sql);
    int ok = db_send_prepare(a->db, name, sql, s->nset + s->nwhere);
    free(sql);
    if (!ok) {
        apply_conn_lost(a, "preparing a statement");
        return NULL;
    }
    pending *p = apply_queue_push(a, PEND_CMD);
    snprintf(p->desc, sizeof p->desc, "the preparation of a %s%c statement for %s",
             s->grouped ? "grouped " : "", (char)s->op, t->qname);
    if (t->nstmts == t->capstmts) {
        t->capstmts = t->capstmts ? 2 * t->capstmts : 4;
        t->stmts = xrealloc(t->stmts, (size_t)t->capstmts * sizeof(apply_stmt));
    }
    apply_stmt *st = &t->stmts[t->nstmts++];
    st->op = s->op;
    st->full_row = s->full_row;
    st->grouped = s->grouped;
    st->set = dup_ints(s->set, s->nset);
    st->nset = s->nset;
    st->where = dup_ints(s->where, s->nwhere);
    st->nwhere = s->nwhere;
    memcpy(st->name, name, sizeof name);
    return st;
}

/* ---------------------------------------------------------------------- */
/* column mapping                                                          */

static int find_column(const apply_table *t, const char *name, int hint)
{
    if (hint >= 0 && hint < t->ncols && strcmp(t->cols[hint].name, name) == 0)
        return hint;
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return i;
    return -1;
}

const char *apply_kind_name(change_kind k)
{
    switch (k) {
    case CHG_INSERT:
        return "INSERT";
    case CHG_UPDATE:
        return "UPDATE";
    case CHG_DELETE:
        return "DELETE";
    case CHG_TRUNCATE:
        return "TRUNCATE";
    default:
        return "change";
    }
}

apply_status apply_ddl_fail(apply_ctx *a, const apply_table *t, change_kind k, const char *diff,
                            const char *fix)
{
    return apply_fail(a, APPLY_FATAL,
                      "schema change detected on the source at a %s on %s: %s; nothing was applied "
                      "from this transaction: %s on the target, then run `pgbaton start` again",
                      apply_kind_name(k), t->qname, diff, fix);
}

/* The source type of column COL, for messages: wal2json is asked for type
 * OIDs only (names cost the source's decoding time), and built-in type
 * OIDs are the same on every server, so the target names them. */
static void source_type(apply_ctx *a, const pgb_column *col, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s", col->type ? col->type : "?");
    if (col->type || col->typeoid == 0)
        return;
    if (col->typeoid >= FIRST_NORMAL_OID) {
        snprintf(out, outsz, "a user-defined type (OID %u on the source)", col->typeoid);
        return;
    }
    char oid[16];
    snprintf(oid, sizeof oid, "%u", col->typeoid);
    const char *params[1] = {oid};
    db_res *r = db_exec(a->catalog, DB_QUIET, "SELECT format_type($1::oid, NULL)", 1, params);
    if (r && db_nrows(r) == 1 && db_ncols(r) == 1)
        snprintf(out, outsz, "%s", db_val(r, 0, 0));
    db_res_free(r);
}

/* Map each column of COLS to the target column; check names and types. */
apply_status apply_map_columns(apply_ctx *a, const apply_table *t, const pgb_change *c,
                               const pgb_column *cols, int n)
{
    char diff[512], type[160];
    for (int i = 0; i < n; i++) {
        int k = find_column(t, cols[i].name, i);
        if (k < 0) {
            source_type(a, &cols[i], type, sizeof type);
            snprintf(diff, sizeof diff, "column \"%s\" (%s) is not on the target", cols[i].name,
                     type);
            return apply_ddl_fail(
                a, t, c->kind, diff,
                "apply the same ALTER TABLE ... ADD COLUMN (or RENAME) that was run on "
                "the source");
        }
        uint32_t so = cols[i].typeoid;
        if (so != 0 && so < FIRST_NORMAL_OID && t->cols[k].typoid != so) {
            source_type(a, &cols[i], type, sizeof type);
            snprintf(diff, sizeof diff, "column \"%s\" is %s on the source but %s on the target",
                     cols[i].name, type, t->cols[k].type);
            return apply_ddl_fail(
                a, t, c->kind, diff,
                "apply the same ALTER TABLE ... ALTER COLUMN ... TYPE that was run on "
                "the source");
        }
        a->map[i] = k;
    }
    return APPLY_OK;
}

/* "OP on T with key (k1, k2)=(v1, v2)" from the key columns of COLS
 * (values truncated): how messages name a change. */
void apply_describe_change(const apply_table *t, change_kind kind, const pgb_column *cols, int n,
                           const int *map, char *out, size_t outsz)
{
    if (t->nkey == 0) {
        snprintf(out, outsz, "%s on %s with key (no key: row matched on all its columns)",
                 apply_kind_name(kind), t->qname);
        return;
    }
    strbuf names = {0}, vals = {0};
    strbuf_printf(&names, "%s", "");
    strbuf_printf(&vals, "%s", "");
    bool first = true;
    for (int i = 0; i < n; i++) {
        if (map[i] < 0 || !t->cols[map[i]].in_key)
            continue;
        strbuf_printf(&names, "%s%s", first ? "" : ", ", cols[i].name);
        strbuf_printf(&vals, "%s%.60s", first ? "" : ", ", cols[i].value ? cols[i].value : "NULL");
        first = false;
    }
    snprintf(out, outsz, "%s on %s with key (%s)=(%s)", apply_kind_name(kind), t->qname, names.data,
             vals.data);
    strbuf_free(&names);
    strbuf_free(&vals);
}
