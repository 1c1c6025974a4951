/*
 * include/status.h — where a migration stands, read from the target's state
 * (pgbaton.migration, table_state, lag_sample) and the source (current WAL
 * position, the slot), never from a local file or process.
 *
 * Used by `pgbaton status` and by `pgbaton cutover` (which waits on the lag).
 *
 * Definitions (all times on the clock of the server that owns them):
 *   lag_bytes   = source pg_current_wal_lsn() - applied_lsn (0 when applied
 *                 is at or past it).
 *   lag_seconds = 0 when lag_bytes is 0 and the last applied heartbeat is
 *                 at most LAG_HEARTBEAT_FRESH seconds old (or there is
 *                 none); otherwise the source's clock_timestamp() minus the
 *                 newest of heartbeat_source_ts and applied_source_ts (see
 *                 lag_seconds() in include/lag.h). Both are source clock
 *                 values whose changes are all applied, so this bounds
 *                 the age of the oldest change not yet applied, whatever the
 *                 skew between the machines.
 *   start is "alive" when pgbaton.migration.alive_at (target clock), its
 *   last sign of life, is at most STATUS_STALE_SECONDS old by the target's
 *   now() (three keepalive periods: a running start writes it every
 *   STATE_KEEPALIVE_MS) and start has not recorded its exit since
 *   (exited_at). So a start that exits on its own is seen gone at once
 *   ("stopped at T"), a killed one once its last sign of life is that old
 *   ("no sign of life since T"). A copying, indexing or streaming migration
 *   whose start is not alive shows as "stopped".
 */
#ifndef PGBATON_STATUS_H
#define PGBATON_STATUS_H

#include "db.h"
#include "lag.h"
#include "state.h"
#include "state_read.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define STATUS_STALE_SECONDS   (STATE_STALE_MS / 1000.0) /* alive_at older: start is gone */
#define STATUS_APPNAME_CUTOVER "pgbaton cutover "        /* + name: the cutover's source session */

/* One table's copy progress, as the state module reads it. */
typedef state_table_progress status_table;

/* Previous reading, for rates computed across --watch refreshes. */
typedef struct status_prev {
    bool valid;
    double at;               /* target clock, epoch seconds */
    int64_t changes_applied; /* at that time */
} status_prev;

typedef struct status_snapshot {
    bool found;                  /* the migration exists on the target */
    char phase[16];              /* effective phase (stale heartbeat -> "stopped") */
    char *stored_phase;          /* as recorded; owned */
    state_phase ephase;          /* phase, parsed */
    state_phase stored_ephase;   /* stored_phase, parsed */
    char *slot_name;             /* owned */
    char *plugin;                /* the slot's decoder (wal2json, pgoutput); owned */
    char *publication;           /* pgoutput's publication, or NULL; owned */
    char *last_error;            /* owned or NULL */
    char *fence_lsn;             /* owned or NULL */
    char *freeze_database;       /* owned or NULL */
    char *freeze_prev_readonly;  /* owned or NULL */
    bool alive;                  /* start's last sign of life is fresh, and no exit since */
    double alive_age;            /* seconds since alive_at; NAN when never */
    char *alive_at;              /* alive_at, "YYYY-MM-DD HH:MM:SS" UTC, or NULL; owned */
    bool exited;                 /* start recorded its exit after its last sign of life */
    char *exited_at;             /* that exit (same form), or NULL; owned */
    double exited_age;           /* seconds since exited_at; NAN when none */
    bool copy_done;              /* the copy is done: streaming began (applied_lsn) */
    bool frozen;                 /* pgbaton froze the source (recorded, and in effect
                                  * there when the source was read) */
    bool cutover_running;        /* a cutover session is connected to the source */
    bool cutover_interrupted;    /* phase cutover, no cutover running */
    double write_unavailable_ms; /* NAN unless done */
    int64_t post_fence_changes;
    double target_now;    /* epoch seconds */
    double streaming_for; /* seconds since streaming began (NaN: not yet) */
    /* copy */
    int ntables;
    status_table *tables; /* owned */
    int tables_copied;
    int tables_analyzed; /* ANALYZE done after the copy (src/analyze.c) */
    int64_t rows_copied;
    int64_t bytes_copied; /* COPY data sent: not comparable with bytes_total */
    int64_t bytes_total;  /* the source tables' size on disk */
    double copy_percent;  /* by size on disk, at most 100 (99.9 until all are copied); NAN: no
                           * tables */
    /* stream */
    int64_t changes_applied;
    char applied_lsn[24];                  /* "" when none */
    double heartbeat_epoch, applied_epoch; /* source clock; NAN when none */
    /* source side */
    bool source_ok;
    char *source_error;    /* owned or NULL */
    char *source_database; /* owned or NULL */
    char source_lsn[24];
    double source_now;      /* epoch seconds, source clock */
    int64_t lag_bytes;      /* -1 unknown */
    double lag_seconds;     /* NAN unknown */
    double last_change_age; /* source now - applied_source_ts; NAN unknown */
    bool slot_exists, slot_active;
    int64_t wal_retained; /* -1 unknown */
    /* rates */
    double apply_rate;  /* changes/s, NAN unknown */
    double eta_seconds; /* 0 when in step; NAN unknown / not converging */
    bool in_step;       /* start alive and lag_in_step() (include/lag.h) */
    int lag_samples;    /* lag samples of the last five minutes */
} status_snapshot;

/* Read the state of migration NAME from TGT and the source side from SRC
 * (may be NULL: unreachable; then source_error should be set by the caller).
 * PREV (may be NULL) serves the apply rate when no lag sample is recent, and
 * is updated. False on a target error (logged); a missing migration is not
 * an error (found = false). */
bool status_read(db_conn *src, db_conn *tgt, const char *name, status_prev *prev,
                 status_snapshot *s) __attribute__((warn_unused_result));
void status_free(status_snapshot *s);

/* Exit code for this snapshot: 0 healthy, 1 failed, stopped or stalled. */
int status_health(const status_snapshot *s);

/* One sentence on what to do, or NULL. */
const char *status_hint(const status_snapshot *s);

/* The JSON object of `status --json`; new reference. */
json_t *status_to_json(const char *name, const status_snapshot *s);

#endif
