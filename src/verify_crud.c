/*
 * src/verify_crud.c — the CRUD smoke test on the target.
 *
 * For each table, inside a transaction that is always rolled back:
 *   INSERT a synthetic row built on the server from an existing row's values
 *     (INSERT ... SELECT ... LIMIT 1: no value leaves the server), with a
 *     fresh key that draws nothing from a sequence — max(key) + 1000000 for
 *     numbers, gen_random_uuid() for uuids, a suffix for text — and the same
 *     treatment for the other columns of unique indexes;
 *   SELECT it back, UPDATE it (a column set to itself, which fires the
 *   UPDATE triggers and checks), DELETE it; then ROLLBACK.
 * Each statement must touch exactly one row. The session runs with the
 * default session_replication_role, so triggers and constraints apply: the
 * point is to prove the target accepts the application's writes.
 *
 * Failures are described by SQLSTATE, constraint and column names only,
 * never by the server's message text, which can quote values (a unique
 * violation's detail names the duplicate value). A row that cannot be built
 * (an empty table, a key type without a fresh value, a copied value that
 * collides with a unique index or a foreign key) makes the table "skipped"
 * with the reason; any other failure makes it "failed".
 *
 * The backup check, run with it: can the target's role back the target up?
 * pg_dump, of the target's major version or later, dumps the whole
 * database (schema and data, large objects included; pgbaton's own schema
 * left out: `clean` drops it) in custom format, uncompressed, to
 * /dev/null, connecting as the target connection does. The password goes
 * to pg_dump in its environment only (src/pgtools.c), never on its command
 * line; --no-password: it never prompts. "ok" with its time, "failed" with
 * pg_dump's first error line (a name, never a row value: pg_dump reads
 * every row but reports none), "skipped" when no pg_dump recent enough is
 * installed. pg_dump holds ACCESS SHARE locks on the tables while it runs,
 * as any backup does: the applier's writes go on; a TRUNCATE it applies
 * waits for the end of the dump.
 */
#include "verify.h"

#include "log.h"
#include "mono.h"
#include "pgtools.h"
#include "sqlstate.h"
#include "strbuf.h"
#include "strutil.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Offset added to max(key) for a fresh numeric key. */
#define FRESH_OFFSET "1000000"

typedef enum crud_outcome {
    CRUD_OK,
    CRUD_SKIPPED,
    CRUD_FAILED,
} crud_outcome;

static const char *sqlstate_name(const char *state)
{
    static const struct {
        const char *state, *name;
    } names[] = {
        {SQLSTATE_UNIQUE_VIOLATION, "unique violation"},
        {SQLSTATE_FOREIGN_KEY_VIOLATION, "foreign key violation"},
        {SQLSTATE_NOT_NULL_VIOLATION, "not-null violation"},
        {SQLSTATE_CHECK_VIOLATION, "check violation"},
        {SQLSTATE_EXCLUSION_VIOLATION, "exclusion violation"},
        {SQLSTATE_NUMERIC_OUT_OF_RANGE, "numeric value out of range"},
        {SQLSTATE_STRING_TRUNCATION, "value too long for its type"},
        {SQLSTATE_LOCK_NOT_AVAILABLE, "lock not available"},
        {SQLSTATE_QUERY_CANCELED, "statement timeout"},
        {SQLSTATE_INSUFFICIENT_PRIVILEGE, "insufficient privilege"},
        {SQLSTATE_READ_ONLY_TRANSACTION, "read-only transaction"},
        {"P0001", "exception raised by a trigger or function"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(state, names[i].state) == 0)
            return names[i].name;
    return "error";
}

/* Describe a failed result without the server's message text; malloc'd. */
static char *describe_failure(const char *step, const db_error *e)
{
    const char *state = e->sqlstate;
    const char *constraint = e->constraint, *column = e->column;
    char *s = NULL;
    if (asprintf(&s, "%s: %s%s%s%s%s (SQLSTATE %s)", step, sqlstate_name(state),
                 constraint ? " on constraint " : "", constraint ? constraint : "",
                 column ? " on column " : "", column ? column : "", state[0] ? state : "none") < 0)
        s = NULL;
    return s;
}

/* Run one CRUD statement with at most one parameter. Returns the result
 * (caller db_res_free()s) or NULL with *REASON set and db->err recorded. */
static db_res *crud_exec(db_conn *db, const char *step, const char *sql, const char *param,
                         char **reason)
{
    const char *params[1] = {param};
    db_res *res = db_exec(db, DB_QUIET, sql, param ? 1 : 0, params);
    if (res)
        return res;
    *reason = describe_failure(step, &db->err);
    log_debug("target: CRUD %s failed: %s", step, *reason);
    return NULL;
}

static bool is_numeric_type(const char *type)
{
    return strcmp(type, "smallint") == 0 || strcmp(type, "integer") == 0 ||
           strcmp(type, "bigint") == 0 || strncmp(type, "numeric", 7) == 0;
}

static bool is_text_type(const char *type)
{
    return strcmp(type, "text") == 0 || strncmp(type, "character varying", 17) == 0 ||
           strcmp(type, "citext") == 0;
}

/* A fresh value for column C, or NULL when pgbaton has none for its type. */
static char *fresh_value(const verify_table *t, const verify_column *c)
{
    char *s = NULL;
    if (is_numeric_type(c->type)) {
        if (asprintf(&s, "(SELECT coalesce(max(m.%s), 0) + " FRESH_OFFSET " FROM ONLY %s AS m)",
                     c->qname, t->qname) < 0)
            s = NULL;
    } else if (strcmp(c->type, "uuid") == 0) {
        s = xstrdup("gen_random_uuid()");
    } else if (is_text_type(c->type)) {
        if (asprintf(&s, "t.%s || '-pgbaton-crud'", c->qname) < 0)
            s = NULL;
    }
    return s;
}

/* The INSERT ... SELECT building the synthetic row, or NULL with *REASON
 * when no fresh key can be made. */
static char *build_insert(const verify_table *t, char **reason)
{
    int fresh_key = -1; /* the key column given a fresh value */
    for (int k = 0; k < t->nkey && fresh_key < 0; k++) {
        char *v = fresh_value(t, &t->cols[t->key[k]]);
        if (v)
            fresh_key = t->key[k];
        free(v);
    }
    if (t->nkey > 0 && fresh_key < 0) {
        if (asprintf(reason, "no fresh value can be made for a key of type %s",
                     t->cols[t->key[0]].type) < 0)
            *reason = NULL;
        return NULL;
    }
    strbuf cols = {0}, vals = {0};
    bool overriding = false;
    for (int c = 0; c < t->ncols; c++) {
        const verify_column *col = &t->cols[c];
        if (!col->on_target || col->generated)
            continue;
        char *v = (c == fresh_key || col->in_unique) ? fresh_value(t, col) : NULL;
        strbuf_printf(&cols, "%s%s", cols.len ? ", " : "", col->qname);
        if (v)
            strbuf_printf(&vals, "%s%s", vals.len ? ", " : "", v);
        else
            strbuf_printf(&vals, "%st.%s", vals.len ? ", " : "", col->qname);
        free(v);
        overriding = overriding || col->identity == 'a';
    }
    if (!cols.len) {
        *reason = xstrdup("the table has no column to insert");
        return NULL;
    }
    char *sql = NULL;
    if (asprintf(&sql,
                 "INSERT INTO %s AS x (%s) %sSELECT %s FROM ONLY %s AS t LIMIT 1 "
                 "RETURNING x.ctid::text",
                 t->qname, cols.data, overriding ? "OVERRIDING SYSTEM VALUE " : "", vals.data,
                 t->qname) < 0)
        sql = NULL;
    free(cols.data);
    free(vals.data);
    return sql;
}

/* The column the UPDATE sets to itself. */
static const verify_column *update_column(const verify_table *t)
{
    for (int c = 0; c < t->ncols; c++) {
        const verify_column *col = &t->cols[c];
        if (col->on_target && !col->generated && col->identity != 'a')
            return col;
    }
    return NULL;
}

/* Expect exactly one row from a step; else set *REASON. */
static bool one_row(db_res *res, const char *step, char **reason)
{
    bool rows = db_ncols(res) > 0; /* a result with rows, or a command's count */
    if (rows ? db_nrows(res) == 1 : db_cmd_rows(res) == 1)
        return true;
    char n[32];
    snprintf(n, sizeof n, "%lld", db_cmd_rows(res));
    if (asprintf(reason, "%s touched %s rows instead of 1", step, rows ? "0 or several" : n) < 0)
        *reason = NULL;
    return false;
}

/* INSERT, SELECT, UPDATE, DELETE inside the caller's transaction. */
static crud_outcome crud_steps(db_conn *db, const verify_table *t, char **reason)
{
    char *insert = build_insert(t, reason);
    if (!insert)
        return CRUD_SKIPPED;
    db_res *res = crud_exec(db, "insert", insert, NULL, reason);
    free(insert);
    if (!res) {
        /* integrity and data errors mean the copied row cannot be reused */
        return strncmp(db->err.sqlstate, "23", 2) == 0 || strncmp(db->err.sqlstate, "22", 2) == 0
                   ? CRUD_SKIPPED
                   : CRUD_FAILED;
    }
    if (db_nrows(res) == 0) {
        db_res_free(res);
        *reason = xstrdup("the table is empty: no row to build a synthetic one from");
        return CRUD_SKIPPED;
    }
    char *ctid = xstrdup(db_val(res, 0, 0));
    db_res_free(res);

    crud_outcome out = CRUD_FAILED;
    char *sql = NULL;
    const verify_column *uc = update_column(t);
    if (asprintf(&sql, "SELECT 1 FROM ONLY %s WHERE ctid = $1::tid", t->qname) < 0)
        goto done;
    if (!(res = crud_exec(db, "select", sql, ctid, reason)) || !one_row(res, "select", reason))
        goto done;
    db_res_free(res);
    res = NULL;
    free(sql);
    sql = NULL;
    if (uc) {
        if (asprintf(&sql, "UPDATE ONLY %s SET %s = %s WHERE ctid = $1::tid RETURNING ctid::text",
                     t->qname, uc->qname, uc->qname) < 0)
            goto done;
        if (!(res = crud_exec(db, "update", sql, ctid, reason)) || !one_row(res, "update", reason))
            goto done;
        free(ctid);
        ctid = xstrdup(db_val(res, 0, 0));
        db_res_free(res);
        res = NULL;
        free(sql);
        sql = NULL;
    }
    if (asprintf(&sql, "DELETE FROM ONLY %s WHERE ctid = $1::tid", t->qname) < 0)
        goto done;
    if (!(res = crud_exec(db, "delete", sql, ctid, reason)) || !one_row(res, "delete", reason))
        goto done;
    out = CRUD_OK;
done:
    db_res_free(res);
    free(sql);
    free(ctid);
    return out;
}

static bool crud_table(db_conn *db, verify_table *t)
{
    static const char *const outcome_names[] = {"ok", "skipped", "failed"};
    char *reason = NULL;
    crud_outcome out;
    if (!t->on_target) {
        out = CRUD_SKIPPED;
        reason = xstrdup("the table is missing on the target");
    } else {
        if (!db_command(db, "BEGIN") ||
            !db_command(db, "SET LOCAL lock_timeout = '5s'; SET LOCAL statement_timeout = '60s'"))
            return false;
        out = crud_steps(db, t, &reason);
        if (!db_command(db, "ROLLBACK"))
            return false;
    }
    t->crud_status = (char *)outcome_names[out];
    t->crud_reason = reason;
    return true;
}

bool verify_crud(db_conn *target, verify_result *r)
{
    for (int i = 0; i < r->ntables; i++)
        if (!crud_table(target, &r->tables[i]))
            return false;
    return true;
}

void verify_backup_check(db_conn *target, const conninfo *ci, verify_backup *b)
{
    int major = db_server_version(target) / 10000;
    const char *user = db_user(target);
    b->role = xstrdup(user ? user : "");
    pgtool tool;
    if (!pgtool_find("pg_dump", major, &tool)) {
        b->status = "skipped";
        b->reason = str_printf("no pg_dump of PostgreSQL %d or later is installed here (the "
                               "target's version): install postgresql-client-%d",
                               major, major);
        pgtool_free(&tool);
        return;
    }
    b->tool = str_printf("pg_dump %d.%d", tool.major, tool.version_num % 10000);
    char *conn = pgtool_connstr(ci);
    strlist a = {0};
    strlist_add(&a, tool.path);
    strlist_addf(&a, "--dbname=%s", conn);
    strlist_add(&a, "--format=custom");
    strlist_add(&a, "--compress=0");
    strlist_add(&a, "--file=/dev/null");
    strlist_add(&a, "--exclude-schema=pgbaton");
    strlist_add(&a, "--no-password");
    strlist_add(&a, "--no-sync"); /* pg_dump would fsync its output: /dev/null refuses */
    log_info("backup check: %s of the target as role %s, to /dev/null", b->tool, b->role);
    double t0 = mono_now();
    pgtool_proc p;
    bool ok = pgtool_spawn((const char *const *)a.items, ci, -1, -1, "pg_dump (target)", &p) &&
              pgtool_wait(&p);
    b->seconds = mono_now() - t0;
    if (ok) {
        b->status = "ok";
    } else {
        b->status = "failed";
        b->reason = str_printf("pg_dump failed%s%s", p.error[0] ? ": " : " (see the log)", p.error);
    }
    strlist_free(&a);
    free(conn);
    pgtool_free(&tool);
}
