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

/* The fields of pgbaton.migration that `start` needs. */
typedef struct state_migration {
    char *name;           /* owned */
    char *phase;          /* owned: copying, indexing, streaming, cutover, done, failed, stopped */
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

/* Load migration NAME into *OUT. Returns 1 when found, 0 when there is no
 * such row (or no state schema at all), -1 on error (logged). */
int state_migration_load(db_conn *db, const char *name, state_migration *out);
void state_migration_free(state_migration *m);

/* Insert a new migration row, phase 'copying', copy_started_at = now(). */
bool state_migration_insert(db_conn *db, const state_new_migration *m)
    __attribute__((warn_unused_result));

/* Delete migration NAME and (cascade) its table rows and events. */
bool state_migration_delete(db_conn *db, const char *name) __attribute__((warn_unused_result));

/* Set the phase. TIMESTAMP_COLUMN (may be NULL) names one of the
 * migration's *_at columns to set to now() in the same statement. */
bool state_set_phase(db_conn *db, const char *name, const char *phase, const char *timestamp_column)
    __attribute__((warn_unused_result));

/* Record the slot's consistent point. */
bool state_set_consistent_lsn(db_conn *db, const char *name, lsn_t lsn)
    __attribute__((warn_unused_result));

/* Copy finished: phase 'streaming', applied_lsn = consistent_lsn,
 * streaming_at = now(). */
bool state_start_streaming(db_conn *db, const char *name) __attribute__((warn_unused_result));

/* phase 'failed' with LAST_ERROR. */
bool state_set_failed(db_conn *db, const char *name, const char *last_error);

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

#endif
