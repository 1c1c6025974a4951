/*
 * include/db.h — the one libpq wrapper.
 *
 * Every connection and every query goes through here. The wrapper
 *   - connects with the options pgbaton needs (application_name, the pinned
 *     session settings of a replication session, replication=database);
 *   - records the SQLSTATE and the (redacted) message of the last error;
 *   - tags every error with the side it came from ("source: ...");
 *   - is the only place that turns a libpq failure into a log line.
 * Callers that probe (expecting an error) use DB_QUIET and read
 * db->sqlstate themselves; decisions are made on SQLSTATE (named in
 * sqlstate.h), never on text.
 */
#ifndef PGBATON_DB_H
#define PGBATON_DB_H

#include "conninfo.h"
#include "lsn.h"

#include <libpq-fe.h>
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

typedef struct db_conn {
    PGconn *pg;       /* the libpq connection; owned */
    db_side side;     /* which server */
    db_mode mode;     /* normal or replication */
    char sqlstate[6]; /* SQLSTATE of the last error, "" when none */
    char *last_error; /* redacted text of the last error, owned, or NULL */
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
 * Returns the result (TUPLES_OK or COMMAND_OK; caller PQclear()s) or NULL
 * on failure, after recording (and with DB_LOG, logging) the error. */
PGresult *db_exec(db_conn *db, db_errmode em, const char *sql, int nparams,
                  const char *const *params) __attribute__((warn_unused_result));

/* Row 0's column COL of RES as a WAL position: LSN_INVALID when NULL or
 * not one. */
lsn_t db_lsn_cell(const PGresult *res, int col);

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
bool db_check_shape(db_conn *db, const PGresult *res, int ncols, int minrows, const char *what);

/* Record and (with DB_LOG) log an error from a libpq call made directly on
 * db->pg (COPY, replication protocol). RES may be NULL (then PQerrorMessage
 * is used). CONTEXT says what was being done ("COPY public.t"). */
void db_report(db_conn *db, db_errmode em, const PGresult *res, const char *context);

/* Clear the recorded last error. */
void db_clear_error(db_conn *db);

/* True when the last error's SQLSTATE equals STATE. */
bool db_sqlstate_is(const db_conn *db, const char *state);

/* Server version as an integer (150020 for 15.20). */
int db_server_version(const db_conn *db);

/* Quote an identifier / a literal for SQL text; malloc'd. */
char *db_quote_ident(const char *name);
/* "schema"."name", both quoted; malloc'd. */
char *db_quote_qualified(const char *schema, const char *name);
char *db_quote_literal(const char *value);
/* The text[] input form of ITEMS[0..N-1] ({"a","b\"c"}), for a $n::text[]
 * parameter; malloc'd. */
char *db_text_array(char *const *items, int n);

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
