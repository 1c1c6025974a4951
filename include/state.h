/*
 * include/state.h — pgbaton's state on the target (schema "pgbaton"):
 * the migration row, one row per table, events.
 *
 * Every function takes the target connection to use (the caller owns it);
 * each logs its own errors and returns false/NULL on failure. No password is
 * ever written: callers pass masked connection strings.
 */
#ifndef PGBATON_STATE_H
#define PGBATON_STATE_H

#include "db.h"
#include "lsn.h"

#include <stdbool.h>
#include <stdint.h>

/* --- the phase ------------------------------------------------------------
 * pgbaton.migration.phase, parsed and printed only here (state_phase.c).
 * The allowed transitions are one table there; state_set_phase() refuses
 * any other. */
typedef enum state_phase {
    PHASE_COPYING,   /* start: copying the data at the snapshot */
    PHASE_INDEXING,  /* start: building indexes and constraints */
    PHASE_STREAMING, /* start: applying the source's changes */
    PHASE_CUTOVER,   /* cutover: source frozen, fence on its way */
    PHASE_DONE,      /* cutover finished: the target is authoritative */
    PHASE_FAILED,    /* start stopped on an error (last_error) */
    PHASE_STOPPED,   /* abort stopped the migration */
    PHASE_UNKNOWN,   /* a text none of the above (a newer version's?) */
} state_phase;

/* "copying", ..., "stopped"; "unknown" for PHASE_UNKNOWN. */
const char *state_phase_name(state_phase p);

/* TEXT as a phase; PHASE_UNKNOWN for NULL or an unknown text. */
state_phase state_phase_parse(const char *text);

/* Is FROM -> TO in the table of transitions? */
bool state_phase_transition_ok(state_phase from, state_phase to);

/* The fields of pgbaton.migration that `start` needs. */
typedef struct state_migration {
    char *name;           /* owned */
    char *phase;          /* owned: as stored (see ephase) */
    state_phase ephase;   /* the phase, parsed */
    char *slot_name;      /* owned */
    char *options;        /* owned JSON text (filters, jobs), or NULL */
    char *last_error;     /* owned, or NULL */
    lsn_t consistent_lsn; /* LSN_INVALID when not recorded yet */
    lsn_t applied_lsn;    /* LSN_INVALID when not recorded yet */
    bool copy_done;       /* copy_done_at is set */
    char *plugin;         /* owned: "wal2json" or "pgoutput" (rows from before: wal2json) */
    char *publication;    /* owned: pgoutput's publication on the source, or NULL */
} state_migration;

/* What a new migration row starts with. */
typedef struct state_new_migration {
    const char *name;
    const char *slot_name;
    const char *source_masked;
    const char *target_masked;
    const char *source_version;
    const char *target_version;
    const char *options_json;
    const char *plugin;      /* "wal2json" or "pgoutput" */
    const char *publication; /* pgoutput: the publication start creates; NULL otherwise */
} state_new_migration;

/* Create the pgbaton schema and its tables if missing (idempotent). */
bool state_ensure_schema(db_conn *db) __attribute__((warn_unused_result));

/* Is there a state schema on DB (pgbaton.migration)? ERRMODE: whether a
 * failure is logged. */
bool state_schema_exists(db_conn *db, db_errmode errmode, bool *exists)
    __attribute__((warn_unused_result));

/* How many migrations the state holds. */
bool state_migration_count(db_conn *db, long *n) __attribute__((warn_unused_result));

/* The stored options of NAME (JSON text, owned, NULL when none). */
bool state_read_options(db_conn *db, const char *name, char **options)
    __attribute__((warn_unused_result));

/* The slot recorded for NAME: *FOUND false when no such row; *SLOT owned
 * (NULL when none). ERRMODE: whether a failure is logged. */
bool state_read_slot(db_conn *db, const char *name, db_errmode errmode, bool *found, char **slot)
    __attribute__((warn_unused_result));

/* The migration's tables as JSON text [[schema, table], ...] (owned), or
 * NULL on error (logged). */
char *state_tables_json(db_conn *db, const char *name);

/* Load migration NAME into *OUT. Returns 1 when found, 0 when there is no
 * such row (or no state schema at all), -1 on error (logged). */
int state_migration_load(db_conn *db, const char *name, state_migration *out);
void state_migration_free(state_migration *m);

/* Insert a new migration row, phase 'copying', copy_started_at = now(). */
bool state_migration_insert(db_conn *db, const state_new_migration *m)
    __attribute__((warn_unused_result));

/* Delete migration NAME and (cascade) its table rows and events. */
bool state_migration_delete(db_conn *db, const char *name) __attribute__((warn_unused_result));

/* Which *_at column of the migration a phase change also sets to now(). */
typedef enum state_stamp {
    STAMP_NONE,
    STAMP_COPY_DONE,    /* copy_done_at */
    STAMP_INDEXES_DONE, /* indexes_done_at */
} state_stamp;

/* Set the phase to TO, with STAMP, only from a phase the table of
 * transitions allows before TO (checked by the UPDATE itself). Any other
 * stored phase is refused with an internal error naming the transition;
 * nothing is written then. */
bool state_set_phase(db_conn *db, const char *name, state_phase to, state_stamp stamp)
    __attribute__((warn_unused_result));

/* "{copying,indexing}": the phases the table allows before TO, as a text
 * array literal for the guard of an UPDATE that enters TO (owned). */
char *state_phase_sources(state_phase to);

/* Record the slot's consistent point (and slot_created_at = now()). */
bool state_set_consistent_lsn(db_conn *db, const char *name, lsn_t lsn)
    __attribute__((warn_unused_result));

/* The pre-data schema is restored: schema_done_at = now(). */
bool state_schema_done(db_conn *db, const char *name) __attribute__((warn_unused_result));

/* Copy finished: phase 'streaming', applied_lsn = consistent_lsn,
 * streaming_at = now(). */
bool state_start_streaming(db_conn *db, const char *name) __attribute__((warn_unused_result));

/* phase 'failed' with LAST_ERROR. */
bool state_set_failed(db_conn *db, const char *name, const char *last_error);

/* Record LAST_ERROR (redacted by the caller) without changing the phase. */
bool state_set_last_error(db_conn *db, const char *name, const char *last_error);

/* Append an event (level: "info", "warn", "error"). Failures are logged
 * and otherwise ignored: an event is never worth stopping a migration. */
void state_event(db_conn *db, const char *name, const char *level, const char *message);

/* One table of the migration. */
typedef struct state_table {
    const char *schema;
    const char *table;
    int64_t size_bytes;
    int64_t est_rows;
} state_table;

bool state_table_insert(db_conn *db, const char *migration, const state_table *t)
    __attribute__((warn_unused_result));

/* Progress of one table: STATE (pending, copying, copied, indexed, failed);
 * started_at/copied_at/indexed_at are set to now() on entering copying /
 * copied / indexed (once). */
bool state_table_update(db_conn *db, const char *migration, const char *schema, const char *table,
                        const char *state, int64_t rows, int64_t bytes);

/* Append an event like state_event(), but report a failure (logged):
 * for callers inside a transaction whose outcome depends on it. */
bool state_event_add(db_conn *db, const char *name, const char *level, const char *message)
    __attribute__((warn_unused_result));

/* --- the cutover's phase changes (src/state_proto.c) -------------------- */

/* Step 2, before the freeze: phase streaming -> cutover, with frozen_at,
 * the database and its previous default_transaction_read_only (PREV, NULL:
 * none); an earlier attempt's fence is forgotten. *ROWS: 1, or 0 when the
 * phase was not streaming. */
bool state_cutover_begin(db_conn *tgt, const char *name, const char *database, const char *prev,
                         long *rows) __attribute__((warn_unused_result));

/* After the freeze, a failure: cutover -> streaming, frozen_at and the
 * fence cleared, last_error = REASON. */
bool state_cutover_rollback(db_conn *tgt, const char *name, const char *reason)
    __attribute__((warn_unused_result));

/* Step 7, in the caller's transaction: cutover -> done, only if nothing
 * came after the fence. COUNT_MS: the row counts' time, NAN when skipped.
 * *DONE false (and nothing written) when changes came after the fence or
 * the phase changed; *WRITE_UNAVAILABLE_MS from frozen_at to now. */
bool state_cutover_done(db_conn *tgt, const char *name, double count_ms, bool *done,
                        double *write_unavailable_ms) __attribute__((warn_unused_result));

/* abort: phase -> stopped (from any phase the table allows) with an
 * event; *STOPPED false when the phase did not allow it. */
bool state_abort_stop(db_conn *tgt, const char *name, bool *stopped)
    __attribute__((warn_unused_result));

/* abort: the source is no longer frozen (frozen_at = NULL). */
bool state_clear_frozen(db_conn *tgt, const char *name) __attribute__((warn_unused_result));

/* --- the start/cutover/verify protocol (src/state_proto.c; the story is at
 * the top of src/state.c) ---------------------------------------------- */

/* The channel on which the target announces, at commit, a change of the
 * migration's phase, fence or hold (payload: the migration's name). */
#define STATE_CHANNEL "pgbaton_state"

/* NOTIFY STATE_CHANNEL for migration NAME on DB: in the transaction that
 * changed the phase, the fence or the hold, or right after its commit. */
bool state_notify(db_conn *db, const char *name);

/* The same, sent on PG in pipeline mode without waiting (the applier's
 * batch); its result is one row. False when libpq could not send it. */
bool state_send_notify(db_conn *db, const char *name) __attribute__((warn_unused_result));

/* LISTEN on STATE_CHANNEL on DB (a target session outside a transaction). */
bool state_listen(db_conn *db) __attribute__((warn_unused_result));

/* Wait up to TIMEOUT seconds for a notification about migration NAME on
 * DB (which state_listen()ed). 1: one came (or several); 0: the timeout
 * passed, or a signal interrupted the wait; -1: the connection failed
 * (logged). Notifications about other migrations are consumed and ignored.
 * The caller re-reads the state whatever the answer: a notification only
 * says that something may have changed. */
int state_wait(db_conn *db, const char *name, double timeout);

/* Source: write the fence message for NAME, flushed at once; *LSN its LSN
 * (the value pg_logical_emit_message returned). */
bool state_fence_write(db_conn *src, const char *name, lsn_t *lsn)
    __attribute__((warn_unused_result));

/* Target: remember the fence at LSN and forget any earlier one's
 * application. *ROWS: 1, or 0 when the phase is no longer 'cutover'. */
bool state_fence_record(db_conn *tgt, const char *name, lsn_t lsn, long *rows)
    __attribute__((warn_unused_result));

/* Where the fence stands, as the applier last committed it. */
typedef struct state_fence {
    bool applied;            /* the applier applied this (or a later) fence */
    long long changes_after; /* data changes it applied after the fence */
    double alive_age;        /* seconds since start's last sign of life; INFINITY: none */
} state_fence;

bool state_fence_read(db_conn *tgt, const char *name, state_fence *out)
    __attribute__((warn_unused_result));

/* Target: ask the applier to hold before LSN (text, "0/1" = where it is);
 * false with *LEFT_STREAMING when the phase is no longer 'streaming'. */
bool state_hold_set(db_conn *tgt, const char *name, const char *lsn, bool *left_streaming)
    __attribute__((warn_unused_result));

/* Target: lift the hold. A failure is logged with the statement that lifts
 * it by hand (the applier stays held until then). */
bool state_hold_clear(db_conn *tgt, const char *name);

/* Where the hold stands: *HELD once the applier reports it holds; *PHASE. */
bool state_hold_read(db_conn *tgt, const char *name, bool *held, state_phase *phase)
    __attribute__((warn_unused_result));

/* Source: wake the applier (a flushed "pgbaton" message with "wake": true).
 * Errors are not logged (DB_QUIET): a failure only costs time. */
bool state_wake_applier(db_conn *src, const char *name);

/* Target: the phase of migration NAME; PHASE_UNKNOWN with *FOUND false when
 * there is no such row or no state schema at all. */
bool state_read_phase(db_conn *tgt, const char *name, bool *found, state_phase *phase)
    __attribute__((warn_unused_result));

/* --- for the applier and the analyzer (src/state_apply.c) ---------------
 * The statements src/apply.c and src/analyze.c still carry as their own
 * text, as typed functions, for them to call. */

/* Does the applier keep streaming in phase P (streaming, cutover)? */
bool state_phase_streams(state_phase p);

/* One batch's position update (sql/state_position.sql). */
typedef struct state_position {
    const char *name;
    lsn_t lsn;                /* nextlsn of the last source commit applied */
    const char *commit_ts;    /* its timestamp, or NULL */
    const char *heartbeat_ts; /* the last heartbeat's source timestamp, or NULL */
    long changes;             /* data changes in the batch */
    long txns;                /* source transactions in the batch */
    bool fence;               /* the batch holds the fence */
    lsn_t fence_lsn;          /* its LSN (when FENCE) */
    long post_fence;          /* data changes after the latest fence, this batch */
    bool held;                /* this commit reaches verify's hold point */
} state_position;

/* Send P's update on PG, in pipeline mode, without waiting; its result
 * (one row: phase, hold_lsn) is read by the caller with the batch's.
 * False when libpq could not send it. */
bool state_send_position(db_conn *db, const state_position *p) __attribute__((warn_unused_result));

/* Send a lag sample likewise (LAG_BYTES < 0: unknown). */
bool state_send_lag_sample(db_conn *db, const char *name, long long lag_bytes, double rate)
    __attribute__((warn_unused_result));

/* Send, likewise, the thinning of migration NAME's old lag samples
 * (sql/state_lag_thin.sql: every sample of the last hour is kept, fewer
 * before), which keeps pgbaton.lag_sample bounded on a long migration. */
bool state_send_lag_thin(db_conn *db, const char *name) __attribute__((warn_unused_result));

/* start's sign of life, never waiting for a locked row; errors are not
 * logged (the next touch tries again). */
bool state_touch_alive(db_conn *db, const char *name);

/* start's sign of life while nothing else writes it: from the migration
 * row's creation until the applier's commits take over (the slot, the
 * schema dump, the copy, the post-data restore may each take long, and
 * status and cutover read an alive_at older than STATUS_STALE_SECONDS as
 * "start is not running"). A thread with a target session of its own
 * touches alive_at every STATE_KEEPALIVE_MS. NULL when the session could
 * not be opened (logged). */
#define STATE_KEEPALIVE_MS 2000
typedef struct state_keepalive state_keepalive;
state_keepalive *state_keepalive_start(const conninfo *target, const char *name);
void state_keepalive_stop(state_keepalive *k); /* NULL: nothing */

/* Where a (re)started applier resumes. */
typedef struct state_apply_start {
    lsn_t applied_lsn; /* LSN_INVALID when none */
    state_phase phase;
    lsn_t hold_lsn;  /* LSN_INVALID when no hold */
    bool fence_seen; /* a fence was applied before */
} state_apply_start;

bool state_read_apply_start(db_conn *db, const char *name, state_apply_start *out)
    __attribute__((warn_unused_result));

/* The phase and verify's hold (LSN_INVALID: none), re-read while held.
 * False on a query error; without the row, true and nothing written. */
bool state_read_apply_hold(db_conn *db, const char *name, state_phase *phase, lsn_t *hold_lsn)
    __attribute__((warn_unused_result));

/* A table by its parts (never one joined string). */
typedef struct state_relname {
    char *schema; /* owned */
    char *table;  /* owned */
} state_relname;

void state_relnames_free(state_relname *tables, int n);

/* The tables still to ANALYZE, largest first: *N of them in *TABLES
 * (state_relnames_free). False on error (logged). */
bool state_analyze_pending(db_conn *db, const char *migration, state_relname **tables, int *n)
    __attribute__((warn_unused_result));

/* One table's statistics are gathered. */
bool state_analyze_mark(db_conn *db, const char *migration, const char *schema, const char *table)
    __attribute__((warn_unused_result));

#endif
