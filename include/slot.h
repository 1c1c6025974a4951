/*
 * include/slot.h — the logical slot and the snapshot the copy is taken at.
 *
 * slot_create_exported() opens a replication connection to the source and
 * creates the wal2json slot with an exported snapshot. The snapshot exists
 * only while that connection stays open and idle, so the connection is
 * handed to the caller, who keeps it untouched until every importer (copy
 * workers, pg_dump --snapshot) has started, then calls slot_close_export().
 */
#ifndef PGBATON_SLOT_H
#define PGBATON_SLOT_H

#include "conninfo.h"
#include "db.h"
#include "lsn.h"

#include <stdbool.h>

typedef struct slot_export {
    db_conn *repl;        /* replication connection holding the snapshot; owned */
    char *slot_name;      /* owned */
    char *snapshot_name;  /* owned; valid while repl is open and idle */
    lsn_t consistent_lsn; /* where streaming starts: the snapshot's point */
} slot_export;

/* Create logical slot SLOT_NAME (output plugin PLUGIN: "wal2json" or
 * "pgoutput") with an exported snapshot. */
bool slot_create_exported(const conninfo *src, const char *slot_name, const char *plugin,
                          slot_export *out) __attribute__((warn_unused_result));

/* pgoutput's publication NAME for the migration's tables: FOR ALL TABLES
 * when ALL_TABLES (superuser), else FOR TABLE with the NTABLES tables
 * SCHEMAS[i].TABLES[i] (partitioned roots bring their partitions, present
 * and future). Made before the slot: pgoutput reads the publication as of
 * each change, so it must exist from the slot's first change. */
bool slot_publication_create(db_conn *src, const char *name, bool all_tables,
                             const char *const *schemas, const char *const *tables, int ntables)
    __attribute__((warn_unused_result));

/* Drop publication NAME on the source if it exists and is pgbaton's (its
 * comment, set by slot_publication_create, says "pgbaton migration NAME");
 * *DROPPED (may be NULL) tells whether there was one. False on error
 * (logged). */
bool slot_publication_drop_if_exists(db_conn *src, const char *name, bool *dropped)
    __attribute__((warn_unused_result));

/* Close the replication connection (ends the exported snapshot; the slot
 * stays) and free the fields. */
void slot_close_export(slot_export *s);

/* Drop slot SLOT_NAME on the source if it exists. *DROPPED (may be NULL)
 * tells whether there was one. False on error (logged). */
bool slot_drop_if_exists(db_conn *src, const char *slot_name, bool *dropped)
    __attribute__((warn_unused_result));

#endif
