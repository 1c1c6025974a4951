/*
 * include/apply.h — apply decoded changes to the target: statement cache,
 * pipelining, batching, the applied position.
 *
 * The stream module feeds every decoded message (B, C, I, U, D, T, M) to
 * apply_change() in source order. Changes are sent at once as prepared
 * statements in libpq pipeline mode inside one target transaction that
 * covers several whole source transactions; the transaction is committed
 * together with the position update (pgbaton.migration.applied_lsn) when
 * the batch is full, old, or the stream is idle. apply_committed_lsn() is
 * the only position that may be confirmed to the source.
 *
 * Grouping: consecutive inserts into one table, and consecutive updates or
 * deletes by key of one table, are held back and sent as one statement
 * over arrays of values (unnest), at the latest when another kind of change
 * reaches the same table, before a TRUNCATE, and before the commit. See
 * the top of src/apply.c for why that order is equivalent.
 */
#ifndef PGBATON_APPLY_H
#define PGBATON_APPLY_H

#include "change.h"
#include "conninfo.h"
#include "lsn.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- table metadata and statement text (pure, unit-tested) ------------ */

typedef struct apply_column {
    char *name;       /* owned */
    char *type;       /* format_type(type, typmod), schema-qualified; owned */
    uint32_t typoid;  /* target type OID */
    bool generated;   /* stored generated column: never written */
    char identity;    /* 'a' (ALWAYS), 'd' (BY DEFAULT) or 0 */
    bool in_key;      /* part of the key that finds rows (PK or replica identity index) */
    char *array_type; /* its array type, qualified, no typmod ("pg_catalog._int4"); NULL: the
                         column cannot be part of a grouped statement; owned */
    char delim;       /* the type's array element delimiter */
} apply_column;

struct apply_group;

struct apply_stmt;

typedef struct apply_table {
    char *schema;  /* owned */
    char *name;    /* owned */
    char *qname;   /* "schema"."name", quoted; owned */
    char relkind;  /* 'r' or 'p' */
    bool missing;  /* not on the target */
    bool selected; /* passes the table filters */
    apply_column *cols;
    int ncols;
    int nkey;                  /* columns with in_key; 0: rows are matched on the whole old row */
    bool other_unique;         /* a unique index or exclusion other than the key */
    struct apply_group *group; /* changes held back to be sent together; owned */
    struct apply_stmt *stmts;  /* statement cache of this table; owned */
    int nstmts, capstmts;
} apply_table;

/* What a statement does; also part of its cache key. */
typedef enum apply_op {
    APPLY_OP_INSERT = 'I',
    APPLY_OP_UPDATE = 'U',
    APPLY_OP_DELETE = 'D',
    APPLY_OP_REPLACE = 'R', /* UPDATE done as DELETE + INSERT (GENERATED ALWAYS identity) */
} apply_op;

/* The shape of one statement: which target columns are written (SET, in
 * parameter order $1..$nset) and which identify the row (WHERE, parameters
 * after those). full_row: the WHERE columns are the whole old row of a
 * table without key: compare as text, null-safe, and touch one row
 * (ctid of the first match). */
typedef struct apply_shape {
    apply_op op;
    const int *set; /* target column indexes */
    int nset;
    const int *where;
    int nwhere;
    bool full_row;
    bool grouped; /* many rows at once: each parameter is an array of one column's values */
} apply_shape;

/* Statement text for SHAPE on table T; malloc'd. A grouped INSERT is
 *   INSERT INTO t (c...) SELECT * FROM unnest($1::A1, ...)
 * a grouped UPDATE / DELETE joins the key columns to unnest(...) AS
 * pgb_v(p1, ...): the SET values come first, then the key values. */
char *apply_sql_build(const apply_table *t, const apply_shape *shape);

/* ---- the applier ------------------------------------------------------- */

typedef enum apply_status {
    APPLY_OK = 0,
    APPLY_RETRY,  /* connection lost (or transient): reconnect and resume */
    APPLY_FATAL,  /* a change was rejected or does not fit: stop, exit 1 */
    APPLY_REPLAY, /* a grouped statement was rejected: stream again from the committed
                     position, one change at a time up to *ungrouped_until, to name the
                     change the target rejects */
} apply_status;

/* Does the migration cover SCHEMA.TABLE (its table filters)? ARG is
 * apply_opts.selected_arg. */
typedef bool (*apply_table_filter)(const void *arg, const char *schema, const char *table);

typedef struct apply_opts {
    const char *migration;       /* its name: the row of pgbaton.migration; borrowed */
    apply_table_filter selected; /* which tables are applied; required */
    const void *selected_arg;    /* passed to it; borrowed */
    const conninfo *target;      /* borrowed */
    const char *source_encoding; /* wal2json sends text in the source's encoding */
    int batch_changes;           /* commit after this many changes (default 5000) */
    int batch_txns;              /* ... or this many source transactions (default 500) */
    int batch_ms;                /* ... or when the batch is this old (default 200 ms) */
    lsn_t *ungrouped_until;      /* no grouping until this position is committed (kept by
                                    the caller across sessions; NULL: always group) */
} apply_opts;

typedef struct apply_ctx apply_ctx;

/* Connect to the target (an apply session in pipeline mode and a catalog
 * session), read the committed position. NULL on failure, *ST tells
 * whether to retry. */
apply_ctx *apply_open(const apply_opts *opts, apply_status *st);
void apply_close(apply_ctx *a);

/* Position committed on the target (the resume and feedback point). */
lsn_t apply_committed_lsn(const apply_ctx *a);

/* Apply one decoded message. */
apply_status apply_change(apply_ctx *a, const pgb_change *c) __attribute__((warn_unused_result));

/* Make progress on the target connection without waiting, and commit the
 * batch when it is due (IDLE: the stream has nothing more right now). */
apply_status apply_poll(apply_ctx *a, bool idle) __attribute__((warn_unused_result));

/* Stop: commit what is complete, roll back a partial source transaction. */
apply_status apply_finish(apply_ctx *a) __attribute__((warn_unused_result));

/* The target socket, and whether libpq has output waiting to be sent. */
int apply_socket(const apply_ctx *a);
bool apply_wants_write(const apply_ctx *a);

/* verify's hold (docs/verify.md): does change C (NULL: the idle stream)
 * reach the hold point pgbaton.migration.hold_lsn? The hold blocks a source
 * transaction whose commit starts at or after it, and a non-transactional
 * message at or after it. */
bool apply_hold_blocks(const apply_ctx *a, const pgb_change *c);

/* Commit the batch and report held_at = now(): the target holds exactly the
 * source transactions that commit before the hold point. */
apply_status apply_commit_held(apply_ctx *a) __attribute__((warn_unused_result));

/* The current hold point (LSN_INVALID: none). */
lsn_t apply_hold_lsn(const apply_ctx *a);

/* Re-read hold_lsn and the phase (while holding). */
apply_status apply_refresh_hold(apply_ctx *a) __attribute__((warn_unused_result));

/* The phase is no longer streaming or cutover (done, stopped): stop. */
bool apply_phase_done(const apply_ctx *a);

/* The source's current WAL position, for lag samples (0 when unknown). */
void apply_set_source_lsn(apply_ctx *a, lsn_t lsn);

/* The last fatal error's message (owned by A) or NULL. */
const char *apply_error(const apply_ctx *a);

#endif
