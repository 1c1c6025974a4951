/*
 * include/db.h — the one libpq wrapper.
 *
 * Every connection and every query goes through here: no file but
 * src/db*.c includes libpq-fe.h or calls libpq (`make layers` checks it).
 * The layer
 *   - connects with the options pgbaton needs (application_name, the pinned
 *     session settings of a replication session, replication=database);
 *   - keeps one structured error per connection (db->err: SQLSTATE, message,
 *     detail, hint, constraint, schema, table, column, and the redacted
 *     one-line text that is logged);
 *   - tags every error with the side it came from ("source: ...");
 *   - is the only place that turns a libpq failure into a log line.
 * Callers that probe (expecting an error) use DB_QUIET and read
 * db->err themselves; decisions are made on SQLSTATE (named in sqlstate.h),
 * never on text.
 *
 * Plain queries and results are declared here; asynchronous queries,
 * pipelines, notifications and COPY (the replication stream is a COPY BOTH)
 * in db_async.h.
 */
#ifndef PGBATON_DB_H
#define PGBATON_DB_H

#include "conninfo.h"
#include "lsn.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum db_side {
    DB_SOURCE,
    DB_TARGET,
} db_side;

typedef enum db_mode {
    DB_MODE_NORMAL,      /* ordinary SQL session */
    DB_MODE_REPLICATION, /* replication=database, session settings pinned */
} db_mode;

typedef enum db_errmode {
    DB_LOG,   /* log the error at ERROR level */
    DB_QUIET, /* record it only (probes); caller decides */
} db_errmode;

/* Why a connection attempt failed (classified from libpq's message: libpq
 * gives no SQLSTATE for failures before the session starts). */
typedef enum db_conn_failure {
    DB_CONN_OK = 0,
    DB_CONN_REFUSED,      /* nothing listens at host:port */
    DB_CONN_UNKNOWN_HOST, /* host name does not resolve */
    DB_CONN_AUTH,         /* wrong password / authentication failed */
    DB_CONN_NO_DATABASE,  /* database does not exist */
    DB_CONN_NO_ROLE,      /* role does not exist */
    DB_CONN_HBA,          /* no pg_hba.conf entry */
    DB_CONN_TIMEOUT,      /* connect_timeout expired */
    DB_CONN_BAD_STRING,   /* the connection string could not be parsed */
    DB_CONN_OTHER,
} db_conn_failure;

/* A query's result (libpq's, opaque outside the layer). */
typedef struct pg_result db_res;

/* What a result is. */
typedef enum db_res_state {
    DB_RES_OK,               /* a command or query that succeeded */
    DB_RES_ERROR,            /* the server (or libpq) reported an error */
    DB_RES_COPY_IN,          /* COPY FROM STDIN started */
    DB_RES_COPY_OUT,         /* COPY TO STDOUT started */
    DB_RES_COPY_BOTH,        /* a replication stream started */
    DB_RES_PIPELINE_SYNC,    /* a pipeline's sync point */
    DB_RES_PIPELINE_ABORTED, /* skipped: an earlier statement in the pipeline failed */
    DB_RES_OTHER,
} db_res_state;

/* The last error on a connection. Every string is owned, NULL when the
 * server did not send the field; message, detail, hint and text are
 * redacted (no password can appear in them). */
typedef struct db_error {
    char sqlstate[6]; /* "" when none */
    char *message;    /* the primary message, one line */
    char *detail;
    char *hint;
    char *constraint; /* names of the object the error is about */
    char *schema;
    char *table;
    char *column;
    char *text; /* what is logged: "CONTEXT: message (SQLSTATE x)"; NULL when no error */
} db_error;

typedef struct db_conn {
    struct pg_conn *pg; /* the libpq connection; owned; used only in src/db*.c */
    db_side side;       /* which server */
    db_mode mode;       /* normal or replication */
    db_error err;       /* the last error */
} db_conn;

typedef struct db_connect_opts {
    db_mode mode;
    const char *application_name; /* default "pgbaton" */
    db_errmode errmode;           /* log connection failures or not */
    const char *client_encoding;  /* NULL: the database's own; otherwise the
                                   * encoding of the text this session sends
                                   * and reads (the source's, on target
                                   * sessions: the target server converts) */
} db_connect_opts;

/* Split the connection string RAW (key=value pairs or a URI) as libpq
 * reads it: the keywords given a non-empty value, and their values, in two
 * NULL-terminated malloc'd arrays. False with *ERR (malloc'd, libpq's
 * message) when RAW cannot be parsed. */
bool db_conninfo_split(const char *raw, char ***keys, char ***values, char **err);

/* "source" or "target". */
const char *db_side_name(db_side side);

/* Connect. Returns NULL on failure; *WHY (may be NULL) tells the class, and
 * *ERRMSG (may be NULL) receives a malloc'd one-line message naming the
 * problem and the fix, already redacted. */
db_conn *db_connect(const conninfo *ci, db_side side, const db_connect_opts *opts,
                    db_conn_failure *why, char **errmsg) __attribute__((warn_unused_result));
void db_close(db_conn *db);

/* A connection being made in a background thread, so that its network
 * round trips and SCRAM hashing overlap the caller's work. */
typedef struct db_pending db_pending;

/* Start connecting (OPTS copied; its strings must outlive the connection
 * attempt; NULL: defaults). Never NULL: when no thread can be started, the
 * connection is made at db_connect_finish. */
db_pending *db_connect_start(const conninfo *ci, db_side side, const db_connect_opts *opts);

/* Wait for the connection and free P: what db_connect would have returned,
 * with *WHY and *ERRMSG (each may be NULL) as db_connect sets them. */
db_conn *db_connect_finish(db_pending *p, db_conn_failure *why, char **errmsg)
    __attribute__((warn_unused_result));

/* One sentence: what to do about a connection failure of class WHY. */
const char *db_conn_failure_hint(db_conn_failure why);

/* Run SQL with optional text parameters (NULL entries are SQL NULLs).
 * Returns the result (DB_RES_OK; caller db_res_free()s) or NULL on failure,
 * after recording (and with DB_LOG, logging) the error. */
db_res *db_exec(db_conn *db, db_errmode em, const char *sql, int nparams, const char *const *params)
    __attribute__((warn_unused_result));

/* Row 0's column COL of RES as a WAL position: LSN_INVALID when NULL or
 * not one. */
lsn_t db_lsn_cell(const db_res *res, int col);

/* ---- reading a result ------------------------------------------------------- */

int db_nrows(const db_res *res);
int db_ncols(const db_res *res);
/* Row ROW's column COL as text ("" when SQL NULL: ask db_isnull). */
const char *db_val(const db_res *res, int row, int col);
bool db_isnull(const db_res *res, int row, int col);
/* The rows a command affected (INSERT, UPDATE, DELETE, COPY ...); -1 when
 * the command reports none. */
long long db_cmd_rows(const db_res *res);
db_res_state db_res_status(const db_res *res);
/* Free RES (NULL is fine). */
void db_res_free(db_res *res);

/* db_exec for statements whose result is not needed. */
bool db_command(db_conn *db, const char *sql) __attribute__((warn_unused_result));
bool db_commandp(db_conn *db, const char *sql, int nparams, const char *const *params)
    __attribute__((warn_unused_result));

/* BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY and import SNAPSHOT (an
 * exported snapshot's name): DB then reads exactly what its exporter saw. */
bool db_begin_snapshot(db_conn *db, const char *snapshot) __attribute__((warn_unused_result));

/* Single value of a one-row, one-column query, malloc'd; NULL on error, or
 * when the value is SQL NULL (then *ISNULL is set when given). */
char *db_scalar(db_conn *db, const char *sql, int nparams, const char *const *params, bool *isnull);

/* Read the final results of a COPY on DB (logging the first error, naming
 * WHAT); *ROWS (may be NULL) gets its row count. */
bool db_copy_finish(db_conn *db, const char *what, int64_t *rows);

/* Check that RES has NCOLS columns and at least MINROWS rows; logs a
 * "unexpected result shape" error naming WHAT otherwise. */
bool db_check_shape(db_conn *db, const db_res *res, int ncols, int minrows, const char *what);

/* Record in db->err and (with DB_LOG) log the error of RES, or, when RES is
 * NULL, the connection's own (a failed send, a broken connection).
 * CONTEXT (may be NULL) says what was being done ("COPY public.t"). */
void db_report(db_conn *db, db_errmode em, const db_res *res, const char *context);

/* Clear the recorded last error. */
void db_clear_error(db_conn *db);

/* True when the last error's SQLSTATE equals STATE. */
bool db_sqlstate_is(const db_conn *db, const char *state);

/* The last error's text, or FALLBACK when there is none. */
const char *db_errtext(const db_conn *db, const char *fallback);

/* ---- the session ------------------------------------------------------------ */

/* A parameter the server reports (server_version, server_encoding, ...);
 * NULL when unknown. */
const char *db_parameter(const db_conn *db, const char *name);
/* The role the session is connected as. */
const char *db_user(const db_conn *db);
/* False once the connection is known to be broken. */
bool db_alive(const db_conn *db);

typedef enum db_txn_state {
    DB_TXN_IDLE,   /* no transaction open */
    DB_TXN_ACTIVE, /* a command is running */
    DB_TXN_OPEN,   /* inside a transaction block */
    DB_TXN_FAILED, /* inside a failed transaction block */
    DB_TXN_UNKNOWN,
} db_txn_state;
db_txn_state db_txn(const db_conn *db);

/* Server version as an integer (150020 for 15.20). */
int db_server_version(const db_conn *db);

/* Quote an identifier / a literal for SQL text; malloc'd. */
char *db_quote_ident(const char *name);
/* "schema"."name", both quoted; malloc'd. */
char *db_quote_qualified(const char *schema, const char *name);
char *db_quote_literal(const char *value);
/* The text[] input form of ITEMS[0..N-1] ({"a","b\"c"}), for a $n::text[]
 * parameter; malloc'd. */
char *db_text_array(const char *const *items, int n);

/* ---- cancelling a query from another thread (the worker runtime) ---------- */

/* A handle that cancels the query running on one connection; it stays valid
 * (and harmless) after the connection is closed. */
typedef struct db_canceller db_canceller;

/* A handle for DB's session; NULL when libpq cannot make one. */
db_canceller *db_canceller_new(db_conn *db) __attribute__((warn_unused_result));

/* Ask the server to cancel whatever C's session is running (nothing
 * happens when it is idle). Thread-safe for one handle at a time: the
 * caller serializes calls on the same handle. False when the request could
 * not be sent (logged at DEBUG). */
bool db_canceller_send(db_canceller *c);

void db_canceller_free(db_canceller *c);

#endif
