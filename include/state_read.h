/*
 * include/state_read.h — the state's reads for the commands that show or
 * check it (src/state_read.c): `status` (the migration row, each table's
 * progress, the recent lag samples), `report` (the row with the instants
 * its steps ended, the lag over the run, the events) and `cutover` (the tables
 * whose rows it counts). The callers get typed values, never a result of a
 * pgbaton.* query.
 *
 * Every function takes the target connection to use (the caller owns it)
 * and logs its own errors. What it returns is the caller's: the free
 * functions below release the arrays; a row's owned strings are the
 * caller's to take over or free. The state schema must exist (ask
 * state_schema_exists() first).
 */
#ifndef PGBATON_STATE_READ_H
#define PGBATON_STATE_READ_H

#include "db.h"
#include "state.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* --- status ------------------------------------------------------------- */

/* The migration row as `status` shows it: ages on the target's clock,
 * source-clock timestamps as epoch seconds (they are compared with the
 * source's clock, never formatted). */
typedef struct state_status_row {
    char *phase;                 /* owned: as stored */
    char *slot_name;             /* owned */
    char applied_lsn[24];        /* "" when not recorded yet */
    double heartbeat_epoch;      /* the last heartbeat applied (source clock); NAN: none */
    double applied_epoch;        /* the last commit applied (source clock); NAN: none */
    int64_t changes_applied;     /* 0 when not recorded */
    double alive_age;            /* seconds since alive_at; NAN: never */
    bool frozen;                 /* frozen_at is set */
    char *fence_lsn;             /* owned, or NULL */
    char *last_error;            /* owned, or NULL */
    double write_unavailable_ms; /* NAN unless done */
    char *freeze_database;       /* owned, or NULL */
    char *freeze_prev_readonly;  /* owned, or NULL */
    int64_t post_fence_changes;  /* 0 when not recorded */
    double target_now;           /* the target's now(), epoch seconds */
    double streaming_for;        /* seconds since streaming began; NAN: not yet */
    char *plugin;                /* owned: "wal2json" or "pgoutput" */
    char *publication;           /* owned: pgoutput's publication, or NULL */
    char *alive_at;              /* owned: alive_at, "YYYY-MM-DD HH:MM:SS" UTC, or NULL */
    bool exited;                 /* start recorded its exit after its last sign of life */
    char *exited_at;             /* owned: its last recorded exit (same form), or NULL */
    double exited_age;           /* seconds since exited_at; NAN: none */
    bool copy_done;              /* streaming began (applied_lsn): the copy is done */
} state_status_row;

/* Migration NAME's row into *OUT: 1 when found, 0 when there is no such
 * row, -1 on error (logged). */
int state_read_status(db_conn *tgt, const char *name, state_status_row *out);

/* One table's copy progress. */
typedef struct state_table_progress {
    char *schema; /* owned */
    char *table;  /* owned */
    char *state;  /* pending, copying, copied, indexed, failed; owned */
    int64_t rows_copied;
    int64_t bytes_copied;
    int64_t size_bytes; /* on disk on the source; 0 when unknown */
    bool analyzed;      /* ANALYZE done after the copy (src/analyze.c) */
} state_table_progress;

/* Migration NAME's tables, by schema and name: *N of them in *TABLES. */
bool state_read_table_progress(db_conn *tgt, const char *name, state_table_progress **tables,
                               int *n) __attribute__((warn_unused_result));
void state_table_progress_free(state_table_progress *tables, int n);

/* One lag sample (the applier writes one every second, and at phase
 * changes). */
typedef struct state_lag_sample {
    double epoch;       /* when, epoch seconds (target clock) */
    bool lag_known;     /* lag_bytes was recorded */
    int64_t lag_bytes;  /* 0 unless LAG_KNOWN */
    double apply_rate;  /* changes/s; NAN when not recorded */
    double age_seconds; /* since it was written */
} state_lag_sample;

/* Migration NAME's samples of the last five minutes, oldest first (a plain
 * array: free() it). */
bool state_read_recent_lag(db_conn *tgt, const char *name, state_lag_sample **samples, int *n)
    __attribute__((warn_unused_result));

/* --- report ------------------------------------------------------------- */

/* The instants of a migration's steps, epoch seconds on the target's clock;
 * NAN: not reached, or not recorded by the pgbaton that ran the step. */
typedef struct state_report_times {
    double started;      /* start created the row (started_at) */
    double slot;         /* the slot and its snapshot exist (slot_created_at) */
    double schema_done;  /* the pre-data schema is restored (schema_done_at) */
    double copy_done;    /* every table's rows are copied (copy_done_at) */
    double indexes_done; /* the rest of post-data is restored (indexes_done_at) */
    double streaming;    /* streaming began (streaming_at) */
    double caught_up;    /* the first lag sample since then below one second */
    double cutover;      /* the cutover under way or completed began */
    double done;         /* the cutover completed (done_at) */
    double now;          /* the target's now() */
} state_report_times;

/* The migration row as `report` shows it. */
typedef struct state_report_row {
    char *phase;                 /* owned, or NULL */
    char *source_masked;         /* owned, or NULL */
    char *target_masked;         /* owned, or NULL */
    char *started_at;            /* owned text, or NULL */
    char *done_at;               /* owned text, or NULL */
    state_report_times times;    /* when each step ended */
    double write_unavailable_ms; /* NAN when not recorded */
    char *plugin;                /* owned, or NULL */
} state_report_row;

/* Migration NAME's row into *OUT: 1 when found, 0 when there is no such
 * row, -1 on error (logged). */
int state_read_report(db_conn *tgt, const char *name, state_report_row *out);

/* One point of the lag over the run. */
typedef struct state_lag_point {
    double epoch;    /* seconds since 1970 */
    char *at;        /* ISO text, UTC; owned */
    double lag_s;    /* seconds; NAN when not known */
    long long lag_b; /* bytes (0 when not recorded) */
} state_lag_point;

/* Every lag sample of migration NAME, oldest first. */
bool state_read_lag_history(db_conn *tgt, const char *name, state_lag_point **points, int *n)
    __attribute__((warn_unused_result));
void state_lag_points_free(state_lag_point *points, int n);

/* One event of pgbaton.event. */
typedef struct state_event_row {
    char *at;      /* "YYYY-MM-DD HH:MM:SS", UTC; owned */
    char *level;   /* "info", "warn" or "error"; owned */
    char *message; /* owned */
} state_event_row;

/* Migration NAME's warnings and errors (from check and from the run), in
 * order. */
bool state_read_problems(db_conn *tgt, const char *name, state_event_row **events, int *n)
    __attribute__((warn_unused_result));

/* What the cutover did with each unlogged table (its events "unlogged
 * table ...", src/cutover.c step 5), in order. */
bool state_read_unlogged_events(db_conn *tgt, const char *name, state_event_row **events, int *n)
    __attribute__((warn_unused_result));
void state_events_free(state_event_row *events, int n);

/* --- cutover ------------------------------------------------------------ */

/* Migration NAME's tables, ordered by schema and name (none when its
 * table rows are gone). */
bool state_read_table_names(db_conn *tgt, const char *name, state_relname **tables, int *n)
    __attribute__((warn_unused_result));

/* --- the audit trail (src/state_audit.c writes it) ---------------------- */

/* One recorded action, as read back. */
typedef struct state_action_row {
    char *at;     /* ISO 8601, UTC, ms */
    char *server; /* source, target */
    char *action;
    char *object;  /* NULL when none */
    char *outcome; /* ok, failed */
    double ms;     /* NAN when not timed */
    char *detail;  /* NULL when none */
} state_action_row;

/* Migration NAME's actions in order: *N rows in *ROWS (state_actions_free).
 * False on error (logged). */
bool state_read_actions(db_conn *tgt, const char *name, state_action_row **rows, int *n)
    __attribute__((warn_unused_result));
void state_actions_free(state_action_row *rows, int n);

/* ROWS as a JSON array of objects {at, server, action, object, outcome,
 * duration_ms, detail} (new reference), for `report` and `status --events`. */
json_t *state_actions_json(const state_action_row *rows, int n);

#endif
