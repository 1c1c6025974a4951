/*
 * include/db_async.h — the protocol layer's asynchronous half: queries sent
 * without waiting, pipelines, notifications and COPY (in, out, and the
 * replication stream's COPY BOTH).
 *
 * Like db.h, a thin layer over libpq that keeps libpq's types and calls in
 * src/db*.c. Failures are recorded in db->err with db_report(db, em, NULL,
 * context) by the caller, which knows what was being done; these functions
 * only say whether they worked.
 */
#ifndef PGBATON_DB_ASYNC_H
#define PGBATON_DB_ASYNC_H

#include "db.h"

#include <stdbool.h>

/* ---- sending without waiting ------------------------------------------------ */

/* Send SQL with NPARAMS text parameters (NULL entries are SQL NULLs; 0 and
 * NULL for none); its results are read with db_next_result. */
bool db_send(db_conn *db, const char *sql, int nparams, const char *const *params)
    __attribute__((warn_unused_result));
/* Send SQL, which may hold several statements, by the simple protocol (not
 * in a pipeline); the last statement's result is what db_wait_result keeps. */
bool db_send_script(db_conn *db, const char *sql) __attribute__((warn_unused_result));
/* Prepare statement NAME (NPARAMS untyped parameters). */
bool db_send_prepare(db_conn *db, const char *name, const char *sql, int nparams)
    __attribute__((warn_unused_result));
/* Run the prepared statement NAME. */
bool db_send_prepared(db_conn *db, const char *name, int nparams, const char *const *params)
    __attribute__((warn_unused_result));

/* The next result of what was sent; NULL when a query's results are all
 * read (caller db_res_free()s). */
db_res *db_next_result(db_conn *db);
/* Read the results of the one query sent last and keep the last of them:
 * it, when it succeeded; NULL after recording (with DB_LOG, logging) the
 * error otherwise. */
db_res *db_wait_result(db_conn *db, db_errmode em);

/* ---- pipelines -------------------------------------------------------------- */

/* Enter pipeline mode, with a non-blocking socket. */
bool db_pipeline_begin(db_conn *db) __attribute__((warn_unused_result));
/* Mark a sync point (its result is DB_RES_PIPELINE_SYNC). */
bool db_pipeline_sync(db_conn *db) __attribute__((warn_unused_result));
/* Ask the server to send the results it holds, without a sync point. */
bool db_flush_request(db_conn *db) __attribute__((warn_unused_result));

/* ---- the socket ------------------------------------------------------------- */

/* Send what is buffered: 0 when all is sent, 1 when some is left (a
 * non-blocking socket is full), -1 on failure. */
int db_flush(db_conn *db);
/* Read what the server sent, without blocking; false when the connection
 * failed. */
bool db_consume(db_conn *db) __attribute__((warn_unused_result));
/* True while the next result is not complete (db_next_result would wait). */
bool db_busy(db_conn *db);
/* The socket to wait on with select(); -1 when there is no connection. */
int db_socket(const db_conn *db);

/* ---- notifications ---------------------------------------------------------- */

/* Take the next notification already read (db_consume reads them): true
 * and *CHANNEL, *PAYLOAD (malloc'd, caller frees) set, or false when none is
 * left. */
bool db_next_notification(db_conn *db, char **channel, char **payload);

/* ---- COPY ------------------------------------------------------------------- */

/* Run SQL, a COPY or START_REPLICATION, and expect the stream WANT
 * (DB_RES_COPY_IN, DB_RES_COPY_OUT or DB_RES_COPY_BOTH) to start. False
 * after recording (with DB_LOG, logging) the error, named WHAT. */
bool db_copy_start(db_conn *db, db_errmode em, const char *sql, db_res_state want, const char *what)
    __attribute__((warn_unused_result));
/* Queue LEN bytes of COPY data. False on failure. */
bool db_copy_put(db_conn *db, const char *buf, int len) __attribute__((warn_unused_result));
/* End the COPY to the server; ABANDON (NULL: end it normally) makes the
 * server fail the COPY with that message. False on failure. */
bool db_copy_end(db_conn *db, const char *abandon);

/* The outcome of db_copy_get. */
enum {
    DB_COPY_DONE = -1,  /* the COPY ended: read its result with db_copy_finish */
    DB_COPY_ERROR = -2, /* the connection failed */
    DB_COPY_WAIT = 0,   /* (ASYNC only) nothing yet: db_consume, then ask again */
};
/* The next row (or replication message) of a COPY from the server: its
 * length, with *BUF set (free it with db_copy_free), or one of the outcomes
 * above. ASYNC: do not wait for data. */
int db_copy_get(db_conn *db, char **buf, bool async);
void db_copy_free(char *buf);

#endif
