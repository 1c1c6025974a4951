/*
 * src/db.c — the one libpq wrapper: connections, queries, errors.
 *
 * Errors are kept on the connection (db->err: SQLSTATE, fields, redacted
 * text) and logged here, prefixed by the side ("target: ERROR: duplicate key ... (SQLSTATE
 * 23505)"), so that no other module formats libpq failures.
 */
#include "db.h"

#include "failpoint.h"
#include "log.h"
#include "xalloc.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Settings pinned on replication sessions so that wal2json's value text is
 * stable and exact (design.md, invariant 4). */
#define REPLICATION_OPTIONS                                                                        \
    "-c DateStyle=ISO -c TimeZone=UTC -c extra_float_digits=3 -c bytea_output=hex "                \
    "-c IntervalStyle=postgres -c statement_timeout=0 "                                            \
    "-c idle_in_transaction_session_timeout=0"

bool db_conninfo_split(const char *raw, char ***keys, char ***values, char **err)
{
    *err = NULL;
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(raw, &perr);
    if (!opts) {
        *err = xstrdup(perr ? perr : "out of memory");
        PQfreemem(perr);
        return false;
    }
    int count = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val && *o->val)
            count++;
    *keys = xcalloc((size_t)count + 1, sizeof(char *));
    *values = xcalloc((size_t)count + 1, sizeof(char *));
    int i = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !*o->val)
            continue;
        (*keys)[i] = xstrdup(o->keyword);
        (*values)[i] = xstrdup(o->val);
        i++;
    }
    PQconninfoFree(opts);
    return true;
}

const char *db_side_name(db_side side)
{
    return side == DB_SOURCE ? "source" : "target";
}

static void notice_processor(void *arg, const char *message)
{
    db_conn *db = arg;
    log_debug("%s: %s", db_side_name(db->side), message);
}

static db_conn_failure classify_failure(const char *msg)
{
    if (strstr(msg, "Connection refused") || strstr(msg, "No such file or directory"))
        return DB_CONN_REFUSED;
    if (strstr(msg, "could not translate host name") || strstr(msg, "Name or service not known"))
        return DB_CONN_UNKNOWN_HOST;
    if (strstr(msg, "password authentication failed") || strstr(msg, "no password supplied") ||
        strstr(msg, "authentication failed"))
        return DB_CONN_AUTH;
    if (strstr(msg, "database \"") && strstr(msg, "does not exist"))
        return DB_CONN_NO_DATABASE;
    if (strstr(msg, "role \"") && strstr(msg, "does not exist"))
        return DB_CONN_NO_ROLE;
    if (strstr(msg, "no pg_hba.conf entry"))
        return DB_CONN_HBA;
    if (strstr(msg, "timeout expired"))
        return DB_CONN_TIMEOUT;
    return DB_CONN_OTHER;
}

const char *db_conn_failure_hint(db_conn_failure why)
{
    switch (why) {
    case DB_CONN_OK:
        return "";
    case DB_CONN_REFUSED:
        return "check the host and port, and that the server is running and accepts TCP "
               "connections (listen_addresses)";
    case DB_CONN_UNKNOWN_HOST:
        return "check the host name in the connection string (it does not resolve)";
    case DB_CONN_AUTH:
        return "check the user name and password (PGPASSWORD, the pgpass file or the "
               "connection string)";
    case DB_CONN_NO_DATABASE:
        return "check the database name (dbname) in the connection string";
    case DB_CONN_NO_ROLE:
        return "check the user name in the connection string, or create that role";
    case DB_CONN_HBA:
        return "add a pg_hba.conf line allowing this client address, user and database "
               "(replication=database sessions match ordinary database lines), then reload";
    case DB_CONN_TIMEOUT:
        return "check network reachability and firewalls between this machine and the server";
    case DB_CONN_BAD_STRING:
        return "write it as a libpq URI (postgres://user@host:port/db) or key=value pairs";
    case DB_CONN_OTHER:
        return "see the server's message above";
    }
    return "";
}

static const char *failure_title(db_conn_failure why)
{
    switch (why) {
    case DB_CONN_REFUSED:
        return "connection refused";
    case DB_CONN_UNKNOWN_HOST:
        return "unknown host";
    case DB_CONN_AUTH:
        return "authentication failed (wrong password?)";
    case DB_CONN_NO_DATABASE:
        return "database does not exist";
    case DB_CONN_NO_ROLE:
        return "role does not exist";
    case DB_CONN_HBA:
        return "connection rejected by pg_hba.conf";
    case DB_CONN_TIMEOUT:
        return "connection timed out";
    case DB_CONN_BAD_STRING:
        return "invalid connection string";
    default:
        return "cannot connect";
    }
}

/* Collapse libpq's multi-line message into one line. */
static char *one_line(const char *msg)
{
    char *s = xstrdup(msg ? msg : "");
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    return s;
}

db_conn *db_connect(const conninfo *ci, db_side side, const db_connect_opts *opts,
                    db_conn_failure *why, char **errmsg)
{
    static const db_connect_opts defaults = {.mode = DB_MODE_NORMAL, .errmode = DB_LOG};
    if (!opts)
        opts = &defaults;
    if (why)
        *why = DB_CONN_OK;
    if (errmsg)
        *errmsg = NULL;

    /* parsed options + ours; ours come last so they win, except
     * application_name and connect_timeout which the user may set */
    int n = 0;
    while (ci->keys[n])
        n++;
    const char **keys = xcalloc((size_t)n + 9, sizeof(char *));
    const char **vals = xcalloc((size_t)n + 9, sizeof(char *));
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (opts->mode == DB_MODE_REPLICATION &&
            (strcmp(ci->keys[i], "options") == 0 || strcmp(ci->keys[i], "replication") == 0))
            continue;
        keys[k] = ci->keys[i];
        vals[k++] = ci->values[i];
    }
    keys[k] = "fallback_application_name";
    vals[k++] = opts->application_name ? opts->application_name : "pgbaton";
    if (opts->client_encoding) {
        keys[k] = "client_encoding";
        vals[k++] = opts->client_encoding;
    }
    if (!conninfo_get(ci, "connect_timeout")) {
        keys[k] = "connect_timeout";
        vals[k++] = "10";
    }
    if (opts->mode == DB_MODE_REPLICATION) {
        keys[k] = "replication";
        vals[k++] = "database";
        keys[k] = "options";
        vals[k++] = REPLICATION_OPTIONS;
    }
    keys[k] = NULL;
    vals[k] = NULL;

    PGconn *pg = PQconnectdbParams(keys, vals, 0);
    free(keys);
    free(vals);

    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        char *raw = one_line(pg ? PQerrorMessage(pg) : "out of memory");
        db_conn_failure cls = classify_failure(raw);
        char *clean = log_redact(raw);
        size_t len = strlen(clean) + strlen(ci->masked) + 512;
        char *msg = xmalloc(len);
        snprintf(msg, len, "cannot connect to the %s (%s): %s: %s; %s", db_side_name(side),
                 ci->masked, failure_title(cls), clean, db_conn_failure_hint(cls));
        if (opts->errmode == DB_LOG)
            log_error("%s", msg);
        if (why)
            *why = cls;
        if (errmsg)
            *errmsg = msg;
        else
            free(msg);
        free(raw);
        free(clean);
        PQfinish(pg);
        return NULL;
    }

    db_conn *db = xcalloc(1, sizeof *db);
    db->pg = pg;
    db->side = side;
    db->mode = opts->mode;
    PQsetNoticeProcessor(pg, notice_processor, db);
    return db;
}

struct db_pending {
    const conninfo *ci;
    db_side side;
    db_connect_opts opts;
    bool threaded;
    pthread_t thread;
    db_conn *db;
    db_conn_failure why;
    char *errmsg;
};

static void *pending_main(void *arg)
{
    db_pending *p = arg;
    p->db = db_connect(p->ci, p->side, &p->opts, &p->why, &p->errmsg);
    return NULL;
}

db_pending *db_connect_start(const conninfo *ci, db_side side, const db_connect_opts *opts)
{
    db_pending *p = xcalloc(1, sizeof *p);
    p->ci = ci;
    p->side = side;
    p->opts = opts ? *opts : (db_connect_opts){.mode = DB_MODE_NORMAL, .errmode = DB_LOG};
    p->threaded = pthread_create(&p->thread, NULL, pending_main, p) == 0;
    return p;
}

db_conn *db_connect_finish(db_pending *p, db_conn_failure *why, char **errmsg)
{
    if (p->threaded)
        pthread_join(p->thread, NULL);
    else
        pending_main(p);
    db_conn *db = p->db;
    if (why)
        *why = p->why;
    if (errmsg)
        *errmsg = p->errmsg;
    else
        free(p->errmsg);
    free(p);
    return db;
}

void db_close(db_conn *db)
{
    if (!db)
        return;
    PQfinish(db->pg);
    db_clear_error(db);
    free(db);
}

void db_clear_error(db_conn *db)
{
    db_error *e = &db->err;
    e->sqlstate[0] = '\0';
    char **owned[] = {&e->message, &e->detail, &e->hint,   &e->constraint,
                      &e->schema,  &e->table,  &e->column, &e->text};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
        free(*owned[i]);
        *owned[i] = NULL;
    }
}

/* RES's field CODE, malloc'd (redacted when REDACT), or NULL when absent. */
static char *error_field(const PGresult *res, int code, bool redact)
{
    const char *v = res ? PQresultErrorField(res, code) : NULL;
    if (!v || !*v)
        return NULL;
    char *line = one_line(v);
    if (!redact)
        return line;
    char *clean = log_redact(line);
    free(line);
    return clean;
}

void db_report(db_conn *db, db_errmode em, const db_res *res, const char *context)
{
    db_clear_error(db);
    db_error *e = &db->err;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(e->sqlstate, sizeof e->sqlstate, "%s", state ? state : "");
    e->message = error_field(res, PG_DIAG_MESSAGE_PRIMARY, true);
    e->detail = error_field(res, PG_DIAG_MESSAGE_DETAIL, true);
    e->hint = error_field(res, PG_DIAG_MESSAGE_HINT, true);
    e->constraint = error_field(res, PG_DIAG_CONSTRAINT_NAME, false);
    e->schema = error_field(res, PG_DIAG_SCHEMA_NAME, false);
    e->table = error_field(res, PG_DIAG_TABLE_NAME, false);
    e->column = error_field(res, PG_DIAG_COLUMN_NAME, false);
    const char *text = res ? PQresultErrorMessage(res) : NULL;
    if (!text || !*text)
        text = PQerrorMessage(db->pg);
    char *line = one_line(text);
    char *clean = log_redact(line);
    free(line);

    if (!e->message)
        e->message = xstrdup(clean);
    size_t len = strlen(clean) + (context ? strlen(context) : 0) + 64;
    e->text = xmalloc(len);
    if (state && context)
        snprintf(e->text, len, "%s: %s (SQLSTATE %s)", context, clean, state);
    else if (state)
        snprintf(e->text, len, "%s (SQLSTATE %s)", clean, state);
    else if (context)
        snprintf(e->text, len, "%s: %s", context, clean);
    else
        snprintf(e->text, len, "%s", clean);
    free(clean);
    if (em == DB_LOG)
        log_error("%s: %s", db_side_name(db->side), e->text);
}

db_res *db_exec(db_conn *db, db_errmode em, const char *sql, int nparams, const char *const *params)
{
    db_clear_error(db);
    char fp[FAILPOINT_SQL_MAX];
    const char *fail = failpoint_error_sql(db->side == DB_SOURCE, fp, sizeof fp);
    PGresult *res = fail          ? PQexec(db->pg, fail)
                    : nparams > 0 ? PQexecParams(db->pg, sql, nparams, NULL, params, NULL, NULL, 0)
                                  : PQexec(db->pg, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return res;
    db_report(db, em, res, NULL);
    if (em == DB_LOG)
        log_debug("%s: failed statement: %.200s", db_side_name(db->side), sql);
    PQclear(res);
    return NULL;
}

bool db_command(db_conn *db, const char *sql)
{
    return db_commandp(db, sql, 0, NULL);
}

bool db_begin_snapshot(db_conn *db, const char *snapshot)
{
    char *lit = db_quote_literal(snapshot);
    size_t n = strlen(lit) + 32;
    char *set = xmalloc(n);
    snprintf(set, n, "SET TRANSACTION SNAPSHOT %s", lit);
    bool ok =
        db_command(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") && db_command(db, set);
    free(lit);
    free(set);
    return ok;
}

bool db_commandp(db_conn *db, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = db_exec(db, DB_LOG, sql, nparams, params);
    PQclear(res);
    return res != NULL;
}

char *db_scalar(db_conn *db, const char *sql, int nparams, const char *const *params, bool *isnull)
{
    if (isnull)
        *isnull = false;
    PGresult *res = db_exec(db, DB_LOG, sql, nparams, params);
    if (!res)
        return NULL;
    char *v = NULL;
    if (db_check_shape(db, res, 1, 1, "single value")) {
        if (PQgetisnull(res, 0, 0)) {
            if (isnull)
                *isnull = true;
        } else {
            v = xstrdup(PQgetvalue(res, 0, 0));
        }
    }
    PQclear(res);
    return v;
}

bool db_copy_finish(db_conn *db, const char *what, int64_t *rows)
{
    bool ok = true;
    PGresult *res;
    while ((res = PQgetResult(db->pg)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            if (ok)
                db_report(db, DB_LOG, res, what);
            ok = false;
        } else if (rows) {
            *rows = strtoll(PQcmdTuples(res), NULL, 10);
        }
        PQclear(res);
    }
    return ok;
}

bool db_check_shape(db_conn *db, const db_res *res, int ncols, int minrows, const char *what)
{
    if (PQnfields(res) == ncols && PQntuples(res) >= minrows)
        return true;
    log_error("%s: unexpected result shape for %s: %d columns and %d rows, expected %d columns "
              "and at least %d rows",
              db_side_name(db->side), what, PQnfields(res), PQntuples(res), ncols, minrows);
    return false;
}

bool db_sqlstate_is(const db_conn *db, const char *state)
{
    return strcmp(db->err.sqlstate, state) == 0;
}

const char *db_errtext(const db_conn *db, const char *fallback)
{
    return db->err.text ? db->err.text : fallback;
}

const char *db_parameter(const db_conn *db, const char *name)
{
    return PQparameterStatus(db->pg, name);
}

const char *db_user(const db_conn *db)
{
    return PQuser(db->pg);
}

bool db_alive(const db_conn *db)
{
    return PQstatus(db->pg) != CONNECTION_BAD;
}

db_txn_state db_txn(const db_conn *db)
{
    switch (PQtransactionStatus(db->pg)) {
    case PQTRANS_IDLE:
        return DB_TXN_IDLE;
    case PQTRANS_ACTIVE:
        return DB_TXN_ACTIVE;
    case PQTRANS_INTRANS:
        return DB_TXN_OPEN;
    case PQTRANS_INERROR:
        return DB_TXN_FAILED;
    default:
        return DB_TXN_UNKNOWN;
    }
}

int db_server_version(const db_conn *db)
{
    return PQserverVersion(db->pg);
}

char *db_quote_ident(const char *name)
{
    size_t n = strlen(name);
    char *out = xmalloc(2 * n + 3);
    char *o = out;
    *o++ = '"';
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            *o++ = '"';
        *o++ = *p;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

char *db_quote_qualified(const char *schema, const char *name)
{
    char *qs = db_quote_ident(schema), *qn = db_quote_ident(name);
    size_t n = strlen(qs) + strlen(qn) + 2;
    char *out = xmalloc(n);
    snprintf(out, n, "%s.%s", qs, qn);
    free(qs);
    free(qn);
    return out;
}

char *db_quote_literal(const char *value)
{
    /* standard_conforming_strings is on in every supported server; an E''
     * literal is used only when a backslash is present, so the result is
     * correct either way */
    size_t n = strlen(value);
    bool has_bs = strchr(value, '\\') != NULL;
    char *out = xmalloc(2 * n + 4);
    char *o = out;
    if (has_bs)
        *o++ = 'E';
    *o++ = '\'';
    for (const char *p = value; *p; p++) {
        if (*p == '\'' || *p == '\\')
            *o++ = *p;
        *o++ = *p;
    }
    *o++ = '\'';
    *o = '\0';
    return out;
}

char *db_text_array(const char *const *items, int n)
{
    size_t cap = 3;
    for (int i = 0; i < n; i++)
        cap += 2 * strlen(items[i]) + 3;
    char *out = xmalloc(cap), *p = out;
    *p++ = '{';
    for (int i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        *p++ = '"';
        for (const char *q = items[i]; *q; q++) {
            if (*q == '"' || *q == '\\')
                *p++ = '\\';
            *p++ = *q;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    return out;
}

/* ---- cancelling a query from another thread (the worker runtime) ---------- */

struct db_canceller {
    PGcancel *cancel; /* owned */
    db_side side;     /* for messages */
};

db_canceller *db_canceller_new(db_conn *db)
{
    PGcancel *pc = PQgetCancel(db->pg);
    if (!pc) {
        log_debug("%s: no cancel handle for this session", db_side_name(db->side));
        return NULL;
    }
    db_canceller *c = xcalloc(1, sizeof *c);
    c->cancel = pc;
    c->side = db->side;
    return c;
}

bool db_canceller_send(db_canceller *c)
{
    char err[256];
    if (PQcancel(c->cancel, err, sizeof err))
        return true;
    log_debug("%s: could not send a cancel request: %s", db_side_name(c->side), err);
    return false;
}

void db_canceller_free(db_canceller *c)
{
    if (!c)
        return;
    PQfreeCancel(c->cancel);
    free(c);
}

/* ---- reading a result ------------------------------------------------------- */

int db_nrows(const db_res *res)
{
    return PQntuples(res);
}

int db_ncols(const db_res *res)
{
    return PQnfields(res);
}

const char *db_val(const db_res *res, int row, int col)
{
    return PQgetvalue(res, row, col);
}

bool db_isnull(const db_res *res, int row, int col)
{
    return PQgetisnull(res, row, col) != 0;
}

long long db_cmd_rows(const db_res *res)
{
    const char *n = PQcmdTuples((db_res *)res);
    return n && *n ? strtoll(n, NULL, 10) : -1;
}

db_res_state db_res_status(const db_res *res)
{
    switch (res ? PQresultStatus(res) : PGRES_FATAL_ERROR) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
        return DB_RES_OK;
    case PGRES_FATAL_ERROR:
    case PGRES_BAD_RESPONSE:
    case PGRES_NONFATAL_ERROR:
        return DB_RES_ERROR;
    case PGRES_COPY_IN:
        return DB_RES_COPY_IN;
    case PGRES_COPY_OUT:
        return DB_RES_COPY_OUT;
    case PGRES_COPY_BOTH:
        return DB_RES_COPY_BOTH;
    case PGRES_PIPELINE_SYNC:
        return DB_RES_PIPELINE_SYNC;
    case PGRES_PIPELINE_ABORTED:
        return DB_RES_PIPELINE_ABORTED;
    default:
        return DB_RES_OTHER;
    }
}

void db_res_free(db_res *res)
{
    PQclear(res);
}

lsn_t db_lsn_cell(const db_res *res, int col)
{
    lsn_t l = LSN_INVALID;
    if (!PQgetisnull(res, 0, col) && !lsn_parse(PQgetvalue(res, 0, col), &l))
        l = LSN_INVALID;
    return l;
}
