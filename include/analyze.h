/*
 * include/analyze.h — ANALYZE of the copied tables, after the copy.
 *
 * The copy does not run ANALYZE: on a large table it would hold up the key
 * build (the two lock each other out) and the start of streaming. Instead
 * `start` gathers the statistics in a thread of its own while the stream
 * catches up, and marks each table done in pgbaton.table_state.analyzed_at.
 * `cutover` runs, before it freezes the source, whatever is still not
 * analyzed (start stopped early, or a table failed), so the target never
 * takes the load without statistics.
 */
#ifndef PGBATON_ANALYZE_H
#define PGBATON_ANALYZE_H

#include "conninfo.h"
#include "db.h"

#include <stdbool.h>

typedef struct analyzer analyzer;

/* Start the thread (a one-worker pool of the worker runtime) for MIGRATION
 * on the target TARGET (both must outlive analyze_stop). It connects,
 * analyzes the tables not analyzed yet, largest first, and ends. Never
 * NULL: a thread that cannot start is reported (WARN) by analyze_stop. */
analyzer *analyze_start(const conninfo *target, const char *migration);

/* Cancel the ANALYZE in progress, if any, wait for the thread and free A
 * (NULL is fine). Tables not finished stay pending. */
void analyze_stop(analyzer *a);

/* Run, on DB, ANALYZE of MIGRATION's tables not analyzed yet, without a
 * statement timeout (DB's own is restored afterwards). A table that fails is
 * logged as a WARN and left pending. False only when the list could not be
 * read (or a table could not be marked done). */
bool analyze_pending(db_conn *db, const char *migration);

#endif
