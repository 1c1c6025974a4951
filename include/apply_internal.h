/*
 * include/apply_internal.h — what the parts of the applier share; not for
 * other modules (they use include/apply.h).
 *
 * The applier (src/apply.c tells how it works) is in parts, one concern each:
 *   src/apply.c          public entry points, the dispatch of each change
 *   src/apply_sql.c      statement text (apply_sql_build)
 *   src/apply_pipe.c     the pipeline: queue of expected results, sending,
 *                        reading results, failures
 *   src/apply_tables.c   table cache, column mapping, statement cache
 *   src/apply_group.c    grouping, the array literals of grouped statements
 *   src/apply_control.c  commits and the position, heartbeat, fence and
 *                        verify-hold messages, lag samples, alive_at
 * They share the one struct apply_ctx below.
 */
#ifndef PGBATON_APPLY_INTERNAL_H
#define PGBATON_APPLY_INTERNAL_H

#include "apply.h"
#include "db.h"
#include "strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define QUEUE_CAP     8192 /* results in flight before the sender waits */
#define DESC_LEN      240
#define TABLE_BUCKETS 1024
#define ALIVE_MS      2000 /* alive_at refreshed at least this often */
#define RATE_WINDOW   10   /* lag samples over which the apply rate is measured */

typedef struct apply_stmt {
    apply_op op;
    bool full_row;
    bool grouped;
    int *set; /* owned */
    int nset;
    int *where; /* owned */
    int nwhere;
    char name[24];
} apply_stmt;

typedef enum pend_kind {
    PEND_CMD,      /* BEGIN, COMMIT, prepare, truncate, lag sample */
    PEND_CHANGE,   /* a row change: check the row count */
    PEND_POSITION, /* the position update: read the phase */
    PEND_SYNC,     /* end of a commit group */
} pend_kind;

typedef struct pending {
    pend_kind kind;
    long expect;        /* PEND_CHANGE: rows the command must report; -1: any */
    bool grouped;       /* a grouped statement: a rejection is replayed one by one */
    bool got;           /* its result was read (awaiting the NULL) */
    lsn_t lsn;          /* PEND_SYNC: position this group commits */
    long changes, txns; /* PEND_SYNC: counters this group commits */
    char desc[DESC_LEN];
} pending;

/* Changes of one table held back to be sent as one statement. */
typedef struct apply_group {
    apply_op op;                    /* 0: nothing held */
    int *set, nset, *where, nwhere; /* the shape; capacity: the table's columns */
    int width;                      /* nset + nwhere values per row */
    size_t *off; /* value i of row r: offset in text of off[r * width + i], or GROUP_NULL */
    int nrows, caprows;
    strbuf text; /* the values, each NUL-terminated */
    int *slot;   /* UPDATE/DELETE: open addressing on the key values, row + 1 (0: free) */
    int nslot;
    bool listed;               /* in apply_ctx.held */
    char first_desc[DESC_LEN]; /* the first held change, for messages */
} apply_group;

typedef struct table_entry {
    apply_table t;
    struct table_entry *next;
} table_entry;

struct apply_ctx {
    apply_opts opts;
    db_conn *db;      /* apply session, pipeline mode; owned */
    db_conn *catalog; /* catalog session; owned */
    table_entry *buckets[TABLE_BUCKETS];
    int nstmt_names; /* counter for statement names */

    pending *queue; /* ring of expected results; owned */
    int qhead, qlen;

    /* state of the stream */
    bool in_src;   /* between a source B and C */
    bool skipping; /* this source transaction is already applied */
    long src_changes;

    /* the open target transaction (batch) */
    bool in_txn;
    long batch_changes, batch_txns;
    double batch_started;
    lsn_t pending_lsn;       /* position the next commit writes */
    char pending_ts[64];     /* source commit timestamp, "" when none */
    char pending_hb_ts[64];  /* heartbeat source timestamp, "" when none */
    bool pending_fence;      /* a fence message was applied in this batch */
    lsn_t pending_fence_lsn; /* its LSN (= what pg_logical_emit_message returned) */
    bool fence_seen;         /* a fence was applied (this run or before): count what follows */
    long post_fence_batch;   /* data changes applied after the latest fence, this batch */
    bool pending_held;       /* the next commit reports that the hold point is reached */
    lsn_t hold_lsn;          /* verify's hold point (pgbaton.migration.hold_lsn), 0 = none */
    lsn_t committed_lsn;     /* durable on the target */
    double last_commit;      /* monotonic seconds */
    double last_alive;       /* monotonic seconds: alive_at last written */
    double last_sample;      /* monotonic seconds: the last lag sample */
    long changes_since_sample;
    bool sampled;               /* a lag sample was written since the applier opened */
    bool sample_due;            /* the next commit writes one (the phase changed) */
    bool phase_known;           /* phase_seen holds the phase the last commit read */
    int phase_seen;             /* a state_phase */
    int samples_since_thin;     /* lag samples since the old ones were last thinned */
    double rate_t[RATE_WINDOW]; /* the apply rate's window: the last samples' times */
    long rate_c[RATE_WINDOW];   /* and the changes counted up to each */
    int rate_n;                 /* entries in use */
    long changes_counted;       /* changes counted into samples so far */
    lsn_t source_lsn;

    /* tables holding grouped changes */
    apply_table **held;
    int nheld, capheld;
    size_t held_bytes;
    lsn_t seen_lsn; /* the latest change's LSN (where a replay must reach) */
    strbuf arrays;  /* scratch: the array parameters of one grouped statement */

    /* truncates of one source TRUNCATE statement, applied together */
    apply_table **trunc;
    int ntrunc, captrunc;
    lsn_t trunc_lsn;

    /* scratch for one change */
    int *map; /* change column -> target column */
    int *set, *where, *idmap;
    const char **params;
    const char **gparams; /* parameters of a grouped statement being sent */
    size_t *goff;         /* their offsets in arrays */
    const char **gvals;   /* one column's values of a group (borrowed), capgvals of them */
    int capgvals;
    int capscratch;

    bool phase_done;
    apply_status failure; /* first failure seen in results */
    char *error;          /* its message; owned */
};

/* ---- shared small helpers ---------------------------------------------- */

static inline bool same_ints(const int *a, int na, const int *b, int nb)
{
    return na == nb && (na == 0 || memcmp(a, b, (size_t)na * sizeof(int)) == 0);
}

static inline bool same_value(const char *x, const char *y)
{
    return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

/* One more data change in the batch, the source transaction and the
 * current lag sample. */
static inline void count_change(apply_ctx *a)
{
    a->batch_changes++;
    a->src_changes++;
    a->changes_since_sample++;
}

/* ---- src/apply_pipe.c --------------------------------------------------- */

/* Record the first failure (its message redacted, logged) and return it;
 * after the first, return that one. */
apply_status apply_fail(apply_ctx *a, apply_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The apply session broke while doing WHAT: APPLY_RETRY. */
apply_status apply_conn_lost(apply_ctx *a, const char *what);

/* A new expected result at the end of the queue (room was made). */
pending *apply_queue_push(apply_ctx *a, pend_kind kind);

/* Read every result available; with BLOCK, wait until the queue is empty. */
apply_status apply_read_results(apply_ctx *a, bool block);

/* Room for one more command: read results while the queue is full. */
apply_status apply_make_room(apply_ctx *a);

/* Send SQL (no parameters); DESC names it in messages. */
apply_status apply_send_cmd(apply_ctx *a, const char *sql, const char *desc);

/* Send one change of shape S on T (values in a->params); KEYCOLS/KEYMAP
 * name it in messages. */
apply_status apply_send_change(apply_ctx *a, apply_table *t, const apply_shape *s,
                               const pgb_change *c, const pgb_column *keycols, int nkeycols,
                               const int *keymap);

/* Is a result with a row count to check still unread? */
bool apply_counts_unchecked(const apply_ctx *a);

/* ---- src/apply_tables.c ------------------------------------------------- */

/* The table's metadata (cached), or NULL when the catalog query failed. */
apply_table *apply_table_get(apply_ctx *a, const char *schema, const char *table);

/* Free every cached table. */
void apply_tables_free(apply_ctx *a);

/* The prepared statement for SHAPE on T, preparing it (in the pipeline) the
 * first time. NULL when sending failed. */
apply_stmt *apply_stmt_get(apply_ctx *a, apply_table *t, const apply_shape *s);

/* Map each column of COLS to the target column (a->map); check names and
 * types. */
apply_status apply_map_columns(apply_ctx *a, const apply_table *t, const pgb_change *c,
                               const pgb_column *cols, int n);

/* "INSERT", "UPDATE", ... for messages. */
const char *apply_kind_name(change_kind k);

/* A schema change found at a change of kind K on T: DIFF says what, FIX what
 * to do. APPLY_FATAL. */
apply_status apply_ddl_fail(apply_ctx *a, const apply_table *t, change_kind k, const char *diff,
                            const char *fix);

/* "OP on T with key (k1, k2)=(v1, v2)" from the key columns of COLS
 * (values truncated): how messages name a change. */
void apply_describe_change(const apply_table *t, change_kind kind, const pgb_column *cols, int n,
                           const int *map, char *out, size_t outsz);

/* ---- src/apply_group.c -------------------------------------------------- */

/* Grouping is on (not replaying one change at a time). */
bool apply_group_allowed(const apply_ctx *a);

/* Every column of COLS has an array type. */
bool apply_cols_groupable(const apply_table *t, const int *cols, int n);

/* Hold the change in a->params (shape S) when GROUPABLE, else send what T
 * holds and then the change. */
apply_status apply_group_or_send(apply_ctx *a, apply_table *t, const apply_shape *s, bool groupable,
                                 const pgb_change *c, const pgb_column *keycols, int nkeycols,
                                 const int *keymap);

/* Send everything held, every table. */
apply_status apply_group_flush_all(apply_ctx *a);

void apply_group_free(apply_group *g);

/* Append the array literal of the N values VALS (NULL: SQL NULL) with DELIM
 * between them: {"v1",NULL,...}. Every value is double-quoted, with \ and "
 * escaped, so that array_in hands the element type's input function the
 * exact text, whatever braces, delimiters, spaces or bytes it holds. */
void apply_array_literal(strbuf *b, const char *const *vals, int n, char delim);

/* ---- src/apply.c -------------------------------------------------------- */

/* Send the TRUNCATEs collected for one source TRUNCATE statement. */
apply_status apply_flush_truncates(apply_ctx *a);

/* ---- src/apply_control.c ------------------------------------------------ */

/* Open the target transaction (BEGIN) if none is open. */
apply_status apply_ensure_txn(apply_ctx *a);

/* Commit the batch with the position and wait until it is durable. */
apply_status apply_commit_batch(apply_ctx *a);

/* The batch has enough changes or transactions, or is old enough. */
bool apply_batch_full(const apply_ctx *a);

/* A logical decoding message: heartbeat, fence, verify's wake-up. */
apply_status apply_message(apply_ctx *a, const pgb_change *c);

/* The result of the position update: the phase and the hold point. */
void apply_position_result(apply_ctx *a, const db_res *r);

/* Refresh pgbaton.migration.alive_at when it is due (catalog session). */
void apply_refresh_alive(apply_ctx *a);

/* Read the committed position, the phase and the hold point (at open). */
bool apply_read_position(apply_ctx *a);

#endif
