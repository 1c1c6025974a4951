/*
 * include/copy.h — the parallel data copy of `pgbaton start`.
 *
 * copy_plan_load() reads, at the snapshot, what to copy: tables with their
 * sizes, column lists and COPY format, and the indexes and key constraints
 * to build as soon as each table's data is in. copy_run() then copies with
 * N workers (see src/copy.c for how).
 */
#ifndef PGBATON_COPY_H
#define PGBATON_COPY_H

#include "conninfo.h"
#include "db.h"

#include <stdbool.h>
#include <stdint.h>

/* An index or index-backed constraint built right after its table's data. */
typedef struct copy_index {
    char *name;           /* for messages; owned */
    char *sql;            /* statement(s) to run on the target; owned */
    unsigned catalog_oid; /* TOC identity in pg_dump's list: (1259, index oid) */
    unsigned object_oid;  /* or (2606, constraint oid) */
} copy_index;

/* One relation of the source. Fields marked "run" belong to copy_run. */
typedef struct copy_table {
    unsigned oid;
    char *schema;  /* owned */
    char *name;    /* owned */
    char *qname;   /* quoted "schema"."name"; owned */
    char *columns; /* quoted column list without generated columns; owned */
    char relkind;  /* 'r' plain, 'p' partitioned (no data of its own) */
    bool selected; /* covered by the filters */
    bool binary;   /* binary COPY is exact for its column types */
    int64_t size_bytes;
    int64_t pages;
    int64_t est_rows;
    copy_index *indexes; /* owned */
    int nindexes;
    /* run: */
    int parts_left;    /* copy items not yet finished */
    int indexes_left;  /* index items not yet finished */
    int64_t rows;      /* rows copied so far */
    int64_t bytes;     /* bytes of COPY data streamed so far */
    const char *state; /* pending, copying, copied, indexed, failed */
    double started;    /* mono_now() when its first part began (the audit trail) */
    bool dirty;        /* progress not yet written to the state table */
} copy_table;

typedef struct copy_plan {
    copy_table *tables; /* owned; all relations, selected or not, largest first */
    int ntables;
    int64_t lo_count; /* large objects on the source */
    int64_t lo_bytes; /* size of pg_largeobject (estimate of their bytes) */
} copy_plan;

/* Is the table SCHEMA.TABLE covered by the migration? ARG is the caller's
 * (start passes its options to the filters). */
typedef bool (*copy_table_filter)(const void *arg, const char *schema, const char *table);

/* Read the plan through SNAP, a source session that has imported the
 * snapshot; SELECTED(SELECTED_ARG, ...) marks the tables to copy.
 * BINARY_ALLOWED: source and target share a major version. */
bool copy_plan_load(db_conn *snap, copy_table_filter selected, const void *selected_arg,
                    bool binary_allowed, copy_plan *plan) __attribute__((warn_unused_result));
void copy_plan_free(copy_plan *plan);

/* Is the index (catalog, object) built by the copy? (post-data skips it) */
bool copy_plan_builds(const copy_plan *plan, unsigned catalog_oid, unsigned object_oid);

typedef struct copy_run_opts {
    const char *migration;       /* the migration's name (state rows) */
    int jobs;                    /* workers (--jobs, resolved: at least 1) */
    int64_t split_larger_than;   /* --split-larger-than in bytes; <= 0: auto */
    const conninfo *source;      /* borrowed */
    const conninfo *target;      /* borrowed */
    const char *snapshot;        /* exported snapshot name */
    db_conn *state;              /* target session for progress rows (main thread only) */
    bool large_objects;          /* copy large objects too */
    bool lo_owners;              /* restore large object owners */
    const char *source_encoding; /* target sessions read the source's text in it */
    /* Run on the calling thread after the workers are started and before
     * any data moves (start copies the schema there), so that the workers'
     * connections and snapshot imports overlap it. False cancels the copy:
     * copy_run then returns false without a message of its own. NULL: none. */
    bool (*before_data)(void *arg);
    void *before_data_arg;
} copy_run_opts;

/* Copy every selected table's data, build its indexes, copy large objects.
 * False on failure or on a stop signal (logged): the first error is named,
 * and the queries in flight of the other workers (a long CREATE INDEX) are
 * cancelled, not waited for. */
bool copy_run(const copy_run_opts *opts, copy_plan *plan) __attribute__((warn_unused_result));

/* ---- the range split (pure arithmetic; tests/unit/test_copy_split.c) ------ */

/* The size above which a table is split: SPLIT_LARGER_THAN when > 0, else
 * (auto) one worker's fair share of TOTAL_BYTES (the selected tables'
 * size), at least 1 GB, so that one dominant table does not leave the
 * other workers idle. */
int64_t copy_split_threshold(int64_t split_larger_than, int jobs, int64_t total_bytes);

/* How many page ranges a table of SIZE_BYTES in PAGES heap pages is copied
 * in: 1 (whole, with COPY FREEZE) unless it is larger than THRESHOLD; then
 * ranges of equal size whose number is a multiple of JOBS (so that the
 * workers finish together), at most one per page and at most 1024. */
int copy_split_parts(int64_t size_bytes, int64_t pages, int64_t threshold, int jobs);

/* Range P (0 .. PARTS-1) of a table of PAGES pages cut in PARTS:
 * [*FIRST_PAGE, *END_PAGE); the last range is open-ended (*END_PAGE = -1)
 * so that pages added since the size was read are not missed. */
void copy_split_range(int64_t pages, int parts, int p, int64_t *first_page, int64_t *end_page);

#endif
