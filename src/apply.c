/*
 * src/apply.c — apply decoded changes to the target.
 *
 * How it works.
 *   Two target sessions: the apply session (session_replication_role =
 *   replica, non-blocking, libpq pipeline mode) and a catalog session
 *   (ordinary, for table metadata and for recording errors).
 *
 *   Every I/U/D is turned into a prepared statement chosen by its shape
 *   (table, operation, the columns written and the columns that find the
 *   row): the statement is prepared (PQsendPrepare) the first time that
 *   shape is seen and executed (PQsendQueryPrepared) with the values as text
 *   parameters, so the target parses each value with the column's type.
 *   Nothing waits for a result: every command sent is pushed on a queue of
 *   expected results, and results are read whenever the socket has some,
 *   so neither side blocks on a full buffer.
 *
 *   A target transaction is opened (BEGIN, lazily) at the first change and
 *   holds whole source transactions; at a source commit it is committed
 *   when the batch is big or old enough, and when the stream goes idle.
 *   The commit is: the position update (pgbaton.migration.applied_lsn =
 *   the last source commit's nextlsn, its timestamp, counters, heartbeat),
 *   an optional lag sample, COMMIT, and a pipeline sync; the position
 *   becomes "committed" only when the sync's results show no error. That
 *   committed position is the only one the stream confirms to the source.
 *
 *   A non-transactional logical message with prefix "pgbaton" (the
 *   heartbeat) moves the position to its own LSN (the end of its record:
 *   every transaction committed before it has been seen) and records its
 *   source timestamp; one with "wake": true (verify asking for a hold,
 *   docs/verify.md) is committed at once, as the commit reads the hold;
 *   prefix "pgbaton_fence" (cutover) sets fence_applied_at in the same
 *   target transaction.
 *
 *   UPDATE/DELETE must touch exactly one row (the command tag is checked).
 *   Any rejected change stops the apply: the batch is not committed, the
 *   error names the table, the operation and the key values only.
 *
 *   Grouping. Most of the target's cost per change is per statement (bind,
 *   executor start, end), not per row. So changes are held back per table
 *   and sent as one statement over arrays (apply_sql_build, grouped):
 *   consecutive INSERTs into a table; consecutive UPDATEs by key that do not
 *   change the key (an UPDATE of a key already held replaces the held values:
 *   same columns, last one wins); consecutive DELETEs by key. A table's held
 *   changes are sent before any other kind of change to it, before a
 *   TRUNCATE, and before the commit; at most GROUP_ROWS rows or GROUP_BYTES
 *   of values wait. Why the target ends the same as applying one by one:
 *     - within a table, the order of changes is kept (INSERT ... SELECT FROM
 *       unnest inserts in array order);
 *     - changes to different tables commute inside one target transaction:
 *       the session runs with session_replication_role = replica, so
 *       foreign keys do not look across tables, and no user trigger or rule
 *       fires at all: start switches every one of them off on the target
 *       before the first change (src/triggers.c), whatever its mode;
 *     - rows of one grouped UPDATE are updated in no set order, so they
 *       must not collide on a unique index while in between: UPDATEs are
 *       grouped only on tables whose one unique index is the key (and no
 *       exclusion constraint), and only when the key does not change;
 *     - values are parsed by the array type without typmod, then assigned
 *       to the column like a parameter would be: a value too long for the
 *       target column fails in both forms (never silently cut);
 *     - a grouped UPDATE/DELETE must touch as many rows as it holds keys.
 *   When the target rejects a grouped statement, the batch is rolled back
 *   and streamed again from the committed position with grouping off up to
 *   the last change seen (APPLY_REPLAY): the error then names the one change
 *   and its key, exactly as without grouping.
 */
#include "apply.h"

#include "db.h"
#include "filter.h"
#include "log.h"
#include "mono.h"
#include "signals.h"
#include "sql_embed.h"
#include "state.h"
#include "xalloc.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#define FIRST_NORMAL_OID 16384u
#define QUEUE_CAP        8192 /* results in flight before the sender waits */
#define DESC_LEN         240
#define TABLE_BUCKETS    1024
#define IDLE_POSITION_MS 500  /* position-only commit at most this often */
#define ALIVE_MS         2000 /* alive_at refreshed at least this often */
#define LAG_SAMPLE_MS    10000
#define GROUP_ROWS       1000      /* rows held per table before they are sent */
#define GROUP_BYTES      (8 << 20) /* bytes of values held, all tables together */
#define GROUP_VALUE_MAX  (1 << 20) /* a row with more bytes than this is not held */
#define GROUP_NULL       ((size_t)-1)

typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

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
    sbuf text; /* the values, each NUL-terminated */
    int *slot; /* UPDATE/DELETE: open addressing on the key values, row + 1 (0: free) */
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
    double last_sample;      /* monotonic seconds */
    long changes_since_sample;
    lsn_t source_lsn;

    /* tables holding grouped changes */
    apply_table **held;
    int nheld, capheld;
    size_t held_bytes;
    lsn_t seen_lsn; /* the latest change's LSN (where a replay must reach) */
    sbuf arrays;    /* scratch: the array parameters of one grouped statement */

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
    int capscratch;

    bool phase_done;
    apply_status failure; /* first failure seen in results */
    char *error;          /* its message; owned */
};

/* ---------------------------------------------------------------------- */
/* small helpers                                                           */

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n >= 0 && b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t need = b->len + (size_t)(n > 0 ? n : 0) + 1;
        b->cap = b->cap ? b->cap : 256;
        while (b->cap < need)
            b->cap *= 2;
        b->s = xrealloc(b->s, b->cap);
    }
}

static void sb_ident(sbuf *b, const char *name)
{
    char *q = db_quote_ident(name);
    sb_add(b, "%s", q);
    free(q);
}

/* ---------------------------------------------------------------------- */
/* statement text                                                          */

static bool in_list(const int *l, int n, int v)
{
    for (int i = 0; i < n; i++)
        if (l[i] == v)
            return true;
    return false;
}

/* WHERE condition for SHAPE; parameters numbered from FIRST. */
static void sql_where(sbuf *b, const apply_table *t, const apply_shape *s, int first)
{
    if (s->full_row)
        sb_add(b, "ctid = (SELECT ctid FROM %s WHERE ", t->qname);
    for (int i = 0; i < s->nwhere; i++) {
        const apply_column *c = &t->cols[s->where[i]];
        if (i > 0)
            sb_add(b, " AND ");
        if (s->full_row) {
            /* as text: works for types without equality (json, point) */
            sb_add(b, "(");
            sb_ident(b, c->name);
            sb_add(b, ")::text IS NOT DISTINCT FROM ($%d::%s)::text", first + i, c->type);
        } else {
            sb_ident(b, c->name);
            sb_add(b, " = $%d", first + i);
        }
    }
    if (s->full_row)
        sb_add(b, " LIMIT 1)");
}

static bool writes_identity_always(const apply_table *t, const int *cols, int n)
{
    for (int i = 0; i < n; i++)
        if (t->cols[cols[i]].identity == 'a')
            return true;
    return false;
}

static void sql_insert(sbuf *b, const apply_table *t, const apply_shape *s)
{
    sb_add(b, "INSERT INTO %s (", t->qname);
    for (int i = 0; i < s->nset; i++) {
        if (i > 0)
            sb_add(b, ", ");
        sb_ident(b, t->cols[s->set[i]].name);
    }
    sb_add(b, ")");
    if (writes_identity_always(t, s->set, s->nset))
        sb_add(b, " OVERRIDING SYSTEM VALUE");
    sb_add(b, " VALUES (");
    for (int i = 0; i < s->nset; i++)
        sb_add(b, "%s$%d", i > 0 ? ", " : "", i + 1);
    sb_add(b, ")");
}

/* UPDATE as DELETE + INSERT in one statement, for rows whose GENERATED
 * ALWAYS identity column cannot be SET: columns absent from the change
 * (unchanged TOAST) are taken from the deleted row. */
static void sql_replace(sbuf *b, const apply_table *t, const apply_shape *s)
{
    sb_add(b, "WITH d AS (DELETE FROM %s WHERE ", t->qname);
    sql_where(b, t, s, s->nset + 1);
    sb_add(b, " RETURNING *) INSERT INTO %s (", t->qname);
    bool first = true;
    for (int i = 0; i < t->ncols; i++) {
        if (t->cols[i].generated)
            continue;
        sb_add(b, "%s", first ? "" : ", ");
        sb_ident(b, t->cols[i].name);
        first = false;
    }
    sb_add(b, ") OVERRIDING SYSTEM VALUE SELECT ");
    first = true;
    for (int i = 0; i < t->ncols; i++) {
        if (t->cols[i].generated)
            continue;
        sb_add(b, "%s", first ? "" : ", ");
        first = false;
        int k = -1;
        for (int j = 0; j < s->nset; j++)
            if (s->set[j] == i)
                k = j;
        if (k >= 0) {
            sb_add(b, "$%d::%s", k + 1, t->cols[i].type);
        } else {
            sb_add(b, "d.");
            sb_ident(b, t->cols[i].name);
        }
    }
    sb_add(b, " FROM d");
}

/* unnest($1::A1, ...) over the SET columns then the key columns of S. */
static void sql_unnest(sbuf *b, const apply_table *t, const apply_shape *s)
{
    sb_add(b, "unnest(");
    for (int i = 0; i < s->nset + s->nwhere; i++) {
        const apply_column *c = &t->cols[i < s->nset ? s->set[i] : s->where[i - s->nset]];
        sb_add(b, "%s$%d::%s", i > 0 ? ", " : "", i + 1, c->array_type);
    }
    sb_add(b, ")");
}

/* " AS pgb_v(p1, ...)" and, for UPDATE/DELETE, the key join. */
static void sql_grouped_join(sbuf *b, const apply_table *t, const apply_shape *s)
{
    sb_add(b, " AS pgb_v(");
    for (int i = 0; i < s->nset + s->nwhere; i++)
        sb_add(b, "%sp%d", i > 0 ? ", " : "", i + 1);
    sb_add(b, ") WHERE ");
    for (int i = 0; i < s->nwhere; i++) {
        sb_add(b, "%spgb_t.", i > 0 ? " AND " : "");
        sb_ident(b, t->cols[s->where[i]].name);
        sb_add(b, " = pgb_v.p%d", s->nset + i + 1);
    }
}

static void sql_grouped(sbuf *b, const apply_table *t, const apply_shape *s)
{
    switch (s->op) {
    case APPLY_OP_INSERT:
        sb_add(b, "INSERT INTO %s (", t->qname);
        for (int i = 0; i < s->nset; i++) {
            sb_add(b, "%s", i > 0 ? ", " : "");
            sb_ident(b, t->cols[s->set[i]].name);
        }
        sb_add(b, ")%s SELECT * FROM ",
               writes_identity_always(t, s->set, s->nset) ? " OVERRIDING SYSTEM VALUE" : "");
        sql_unnest(b, t, s);
        break;
    case APPLY_OP_UPDATE:
        sb_add(b, "UPDATE %s AS pgb_t SET ", t->qname);
        for (int i = 0; i < s->nset; i++) {
            sb_add(b, "%s", i > 0 ? ", " : "");
            sb_ident(b, t->cols[s->set[i]].name);
            sb_add(b, " = pgb_v.p%d", i + 1);
        }
        sb_add(b, " FROM ");
        sql_unnest(b, t, s);
        sql_grouped_join(b, t, s);
        break;
    case APPLY_OP_DELETE:
        sb_add(b, "DELETE FROM %s AS pgb_t USING ", t->qname);
        sql_unnest(b, t, s);
        sql_grouped_join(b, t, s);
        break;
    case APPLY_OP_REPLACE:
        abort(); /* never grouped */
    }
}

char *apply_sql_build(const apply_table *t, const apply_shape *s)
{
    sbuf b = {0};
    if (s->grouped) {
        sql_grouped(&b, t, s);
        return b.s;
    }
    switch (s->op) {
    case APPLY_OP_INSERT:
        sql_insert(&b, t, s);
        break;
    case APPLY_OP_UPDATE:
        sb_add(&b, "UPDATE %s SET ", t->qname);
        for (int i = 0; i < s->nset; i++) {
            if (i > 0)
                sb_add(&b, ", ");
            sb_ident(&b, t->cols[s->set[i]].name);
            sb_add(&b, " = $%d", i + 1);
        }
        sb_add(&b, " WHERE ");
        sql_where(&b, t, s, s->nset + 1);
        break;
    case APPLY_OP_DELETE:
        sb_add(&b, "DELETE FROM %s WHERE ", t->qname);
        sql_where(&b, t, s, 1);
        break;
    case APPLY_OP_REPLACE:
        sql_replace(&b, t, s);
        break;
    }
    return b.s;
}

/* ---------------------------------------------------------------------- */
/* failures                                                                */

static apply_status fail(apply_ctx *a, apply_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static apply_status fail(apply_ctx *a, apply_status st, const char *fmt, ...)
{
    if (a->failure != APPLY_OK)
        return a->failure; /* keep the first */
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    a->failure = st;
    free(a->error);
    a->error = log_redact(buf);
    if (st == APPLY_FATAL)
        log_error("%s", a->error);
    else
        log_warn("%s", a->error);
    return st;
}

/* Errors that go away with a new connection (or a retry of the batch). */
static bool sqlstate_transient(const char *s)
{
    if (!s)
        return false;
    return strncmp(s, "08", 2) == 0 || strcmp(s, "57P01") == 0 || strcmp(s, "57P02") == 0 ||
           strcmp(s, "57P03") == 0 || strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0;
}

static apply_status conn_lost(apply_ctx *a, const char *what)
{
    char *msg = log_redact(PQerrorMessage(a->db->pg));
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    apply_status st = fail(a, APPLY_RETRY, "target: connection lost while %s: %s", what, msg);
    free(msg);
    return st;
}

/* ---------------------------------------------------------------------- */
/* the queue of expected results                                           */

static pending *queue_push(apply_ctx *a, pend_kind kind)
{
    pending *p = &a->queue[(a->qhead + a->qlen) % QUEUE_CAP];
    a->qlen++;
    p->kind = kind;
    p->expect = -1;
    p->grouped = false;
    p->got = false;
    p->lsn = LSN_INVALID;
    p->changes = p->txns = 0;
    p->desc[0] = '\0';
    return p;
}

static void queue_pop(apply_ctx *a)
{
    a->qhead = (a->qhead + 1) % QUEUE_CAP;
    a->qlen--;
}

/* A grouped statement failed: roll back, and stream the batch again one
 * change at a time up to the last change seen, so that the error names the
 * change (apply.h, APPLY_REPLAY). */
static void fail_grouped(apply_ctx *a, const pending *p, const char *why)
{
    if (a->opts.ungrouped_until && *a->opts.ungrouped_until < a->seen_lsn)
        *a->opts.ungrouped_until = a->seen_lsn;
    fail(a, APPLY_REPLAY,
         "target rejected %s: %s; nothing of this batch was committed: applying it again one "
         "change at a time to name the change it rejects",
         p->desc, why);
}

static void handle_error_result(apply_ctx *a, const pending *p, const PGresult *r)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    /* the primary message only: DETAIL may hold a whole row's values */
    const char *prim = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    if (!prim)
        prim = PQerrorMessage(a->db->pg);
    if (sqlstate_transient(state) || PQstatus(a->db->pg) == CONNECTION_BAD) {
        fail(a, APPLY_RETRY, "target: %s (SQLSTATE %s) while applying %s", prim,
             state ? state : "none", p->desc);
        return;
    }
    if (p->grouped && a->opts.ungrouped_until) {
        char why[600];
        snprintf(why, sizeof why, "%s (SQLSTATE %s)", prim, state ? state : "none");
        fail_grouped(a, p, why);
        return;
    }
    fail(a, APPLY_FATAL,
         "target rejected %s: %s (SQLSTATE %s); nothing of this batch was committed and the "
         "position was not advanced: fix the cause on the target, then run `pgbaton start` "
         "again",
         p->desc, prim, state ? state : "none");
}

/* The applier goes on while the phase is streaming or cutover; anything
 * else (done after a cutover, stopped by abort) ends it. */
static bool phase_ends_streaming(const char *phase)
{
    return strcmp(phase, "streaming") != 0 && strcmp(phase, "cutover") != 0;
}

/* hold_lsn column text (NULL or "X/Y") into a->hold_lsn. */
static void set_hold(apply_ctx *a, const PGresult *r, int col)
{
    a->hold_lsn = LSN_INVALID;
    if (!PQgetisnull(r, 0, col) && !lsn_parse(PQgetvalue(r, 0, col), &a->hold_lsn))
        a->hold_lsn = LSN_INVALID;
}

static void handle_position_result(apply_ctx *a, const PGresult *r)
{
    if (PQntuples(r) != 1 || PQnfields(r) != 2) {
        fail(a, APPLY_FATAL,
             "target: the migration row \"%s\" is missing from pgbaton.migration: was `pgbaton "
             "clean` run?",
             a->opts.o->name);
        return;
    }
    if (phase_ends_streaming(PQgetvalue(r, 0, 0)))
        a->phase_done = true;
    set_hold(a, r, 1);
}

static void handle_result(apply_ctx *a, pending *p, PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    p->got = true;
    if (st == PGRES_PIPELINE_ABORTED)
        return; /* an earlier error was recorded */
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        handle_error_result(a, p, r);
        return;
    }
    if (p->kind == PEND_POSITION) {
        handle_position_result(a, r);
    } else if (p->expect >= 0 && strtol(PQcmdTuples(r), NULL, 10) != p->expect) {
        if (p->grouped && a->opts.ungrouped_until) {
            char why[100];
            snprintf(why, sizeof why, "it affected %s rows instead of %ld", PQcmdTuples(r),
                     p->expect);
            fail_grouped(a, p, why);
            return;
        }
        fail(a, APPLY_FATAL,
             "target: %s affected %s rows instead of 1: the target has diverged from the source "
             "(was the row changed or deleted on the target?); fix the row on the target, then "
             "run `pgbaton start` again",
             p->desc, PQcmdTuples(r));
    }
}

static void handle_sync(apply_ctx *a, const pending *p)
{
    if (a->failure != APPLY_OK)
        return;
    if (p->lsn > a->committed_lsn)
        a->committed_lsn = p->lsn;
    a->last_commit = a->last_alive = mono_now();
}

/* start's sign of life, pgbaton.migration.alive_at, is written by every
 * commit; but a batch holds whole source transactions, so a long one (a
 * batch job's million-row UPDATE) keeps the batch open for as long as it
 * takes, and status and cutover would think start is gone. So while
 * applying or waiting, alive_at is refreshed at least every ALIVE_MS from
 * the catalog session, in its own short transaction. It never waits for
 * the row: the apply transaction locks it at its very end (the position
 * update, just before COMMIT), possibly while its results wait for this
 * very process to read them, so a locked row is skipped (SKIP LOCKED; the
 * commit under way writes alive_at itself). */
static const char sql_alive[] =
    "UPDATE pgbaton.migration SET alive_at = clock_timestamp() WHERE name = (SELECT name FROM "
    "pgbaton.migration WHERE name = $1 FOR NO KEY UPDATE SKIP LOCKED)";

static void refresh_alive(apply_ctx *a)
{
    double now = mono_now();
    if ((now - a->last_alive) * 1000.0 < ALIVE_MS)
        return;
    a->last_alive = now;
    const char *params[1] = {a->opts.o->name};
    PGresult *r = db_exec(a->catalog, DB_QUIET, sql_alive, 1, params);
    if (!r)
        log_debug("target: could not refresh alive_at: %s",
                  a->catalog->last_error ? a->catalog->last_error : "error");
    PQclear(r);
}

/* Wait up to MS for the apply socket to be readable (or writable when
 * output is pending). False when the socket is gone. */
static bool wait_socket(apply_ctx *a, int ms)
{
    refresh_alive(a);
    int fd = PQsocket(a->db->pg);
    if (fd < 0)
        return false;
    fd_set rfds, wfds;
    FD_ZERO(&rfds);
    FD_ZERO(&wfds);
    FD_SET(fd, &rfds);
    if (PQflush(a->db->pg) == 1)
        FD_SET(fd, &wfds);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return select(fd + 1, &rfds, &wfds, NULL, &tv) >= 0 || errno == EINTR;
}

/* Read every result available; with BLOCK, wait until the queue is empty. */
static apply_status read_results(apply_ctx *a, bool block)
{
    PGconn *pg = a->db->pg;
    if (PQflush(pg) < 0)
        return conn_lost(a, "sending");
    if (a->qlen == 0 && !block) {
        /* nothing expected: notice a session the server has ended */
        if (!PQconsumeInput(pg) || PQstatus(pg) == CONNECTION_BAD)
            return conn_lost(a, "idle");
        return a->failure;
    }
    while (a->qlen > 0) {
        if (PQisBusy(pg)) {
            if (PQflush(pg) < 0)
                return conn_lost(a, "sending");
            if (!PQconsumeInput(pg))
                return conn_lost(a, "reading results");
            if (PQisBusy(pg)) {
                if (!block)
                    break;
                if (!wait_socket(a, 1000))
                    return conn_lost(a, "waiting for results");
                continue;
            }
        }
        pending *p = &a->queue[a->qhead];
        PGresult *r = PQgetResult(pg);
        if (p->kind == PEND_SYNC) {
            if (!r)
                return conn_lost(a, "reading results");
            if (PQresultStatus(r) == PGRES_PIPELINE_SYNC)
                handle_sync(a, p);
            else if (PQresultStatus(r) == PGRES_FATAL_ERROR)
                handle_error_result(a, p, r);
            PQclear(r);
            if (a->failure == APPLY_RETRY && PQstatus(pg) == CONNECTION_BAD)
                return a->failure;
            queue_pop(a);
            continue;
        }
        if (!r) {
            if (p->got) {
                queue_pop(a);
                continue;
            }
            if (PQstatus(pg) == CONNECTION_BAD)
                return conn_lost(a, "reading results");
            continue;
        }
        handle_result(a, p, r);
        PQclear(r);
        if (PQstatus(pg) == CONNECTION_BAD)
            return conn_lost(a, "reading results");
    }
    return a->failure;
}

/* Room for one more command: read results while the queue is full. */
static apply_status make_room(apply_ctx *a)
{
    while (a->qlen >= QUEUE_CAP - 8) {
        apply_status st = read_results(a, false);
        if (st != APPLY_OK)
            return st;
        if (a->qlen < QUEUE_CAP - 8)
            break;
        /* results wait in the server's buffer until a sync or a flush
         * request: ask for them */
        if (!PQsendFlushRequest(a->db->pg) || PQflush(a->db->pg) < 0)
            return conn_lost(a, "asking for results");
        if (!wait_socket(a, 100))
            return conn_lost(a, "waiting for results");
    }
    return a->failure;
}

static apply_status send_cmd(apply_ctx *a, const char *sql, const char *desc)
{
    apply_status st = make_room(a);
    if (st != APPLY_OK)
        return st;
    if (!PQsendQueryParams(a->db->pg, sql, 0, NULL, NULL, NULL, NULL, 0))
        return conn_lost(a, "sending a command");
    pending *p = queue_push(a, PEND_CMD);
    snprintf(p->desc, sizeof p->desc, "%s", desc);
    return APPLY_OK;
}

/* ---------------------------------------------------------------------- */
/* table metadata                                                          */

#define FNV_BASIS 2166136261u

/* FNV-1a of the bytes of S, continuing from H. */
static unsigned fnv(unsigned h, const char *s)
{
    for (const char *p = s; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

static unsigned hash_name(const char *schema, const char *table)
{
    return fnv(fnv(fnv(FNV_BASIS, schema), "."), table) % TABLE_BUCKETS;
}

static bool load_table(apply_ctx *a, apply_table *t)
{
    const char *params[2] = {t->schema, t->name};
    PGresult *r = db_exec(a->catalog, DB_LOG, sql_apply_table, 2, params);
    if (!r)
        return false;
    if (PQnfields(r) != 10) {
        db_check_shape(a->catalog, r, 10, 0, "table columns");
        PQclear(r);
        return false;
    }
    int n = PQntuples(r);
    t->missing = n == 0;
    t->cols = xcalloc((size_t)(n > 0 ? n : 1), sizeof(apply_column));
    t->ncols = n;
    for (int i = 0; i < n; i++) {
        apply_column *c = &t->cols[i];
        c->name = xstrdup(PQgetvalue(r, i, 0));
        c->type = xstrdup(PQgetvalue(r, i, 1));
        c->typoid = (uint32_t)strtoul(PQgetvalue(r, i, 2), NULL, 10);
        c->generated = PQgetvalue(r, i, 3)[0] == 't';
        c->identity = PQgetvalue(r, i, 4)[0];
        c->in_key = PQgetvalue(r, i, 5)[0] == 't';
        if (c->in_key)
            t->nkey++;
        t->relkind = PQgetvalue(r, i, 6)[0];
        c->array_type = PQgetisnull(r, i, 7) ? NULL : xstrdup(PQgetvalue(r, i, 7));
        c->delim = PQgetvalue(r, i, 8)[0] ? PQgetvalue(r, i, 8)[0] : ',';
        t->other_unique = PQgetvalue(r, i, 9)[0] == 't';
    }
    PQclear(r);
    return true;
}

/* The table's metadata (cached), or NULL when the catalog query failed. */
static apply_table *get_table(apply_ctx *a, const char *schema, const char *table)
{
    unsigned h = hash_name(schema, table);
    for (table_entry *e = a->buckets[h]; e; e = e->next)
        if (strcmp(e->t.name, table) == 0 && strcmp(e->t.schema, schema) == 0)
            return &e->t;
    table_entry *e = xcalloc(1, sizeof *e);
    apply_table *t = &e->t;
    t->schema = xstrdup(schema);
    t->name = xstrdup(table);
    t->qname = db_quote_qualified(schema, table);
    t->selected = filter_table_selected(a->opts.o, schema, table);
    if (t->selected && !load_table(a, t)) {
        free(t->schema);
        free(t->name);
        free(t->qname);
        free(t->cols);
        free(e);
        return NULL;
    }
    e->next = a->buckets[h];
    a->buckets[h] = e;
    return t;
}

static void free_group(apply_group *g)
{
    if (!g)
        return;
    free(g->set);
    free(g->where);
    free(g->off);
    free(g->text.s);
    free(g->slot);
    free(g);
}

static void free_table(apply_table *t)
{
    for (int i = 0; i < t->ncols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].type);
        free(t->cols[i].array_type);
    }
    free_group(t->group);
    free(t->cols);
    for (int i = 0; i < t->nstmts; i++) {
        free(t->stmts[i].set);
        free(t->stmts[i].where);
    }
    free(t->stmts);
    free(t->schema);
    free(t->name);
    free(t->qname);
}

/* ---------------------------------------------------------------------- */
/* statement cache                                                         */

static bool same_ints(const int *a, int na, const int *b, int nb)
{
    return na == nb && (na == 0 || memcmp(a, b, (size_t)na * sizeof(int)) == 0);
}

static int *dup_ints(const int *v, int n)
{
    int *d = xmalloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    if (n > 0)
        memcpy(d, v, (size_t)n * sizeof(int));
    return d;
}

/* The prepared statement for SHAPE on T, preparing it (in the pipeline) the
 * first time. NULL when sending failed. */
static apply_stmt *get_stmt(apply_ctx *a, apply_table *t, const apply_shape *s)
{
    for (int i = 0; i < t->nstmts; i++) {
        apply_stmt *st = &t->stmts[i];
        if (st->op == s->op && st->full_row == s->full_row && st->grouped == s->grouped &&
            same_ints(st->set, st->nset, s->set, s->nset) &&
            same_ints(st->where, st->nwhere, s->where, s->nwhere))
            return st;
    }
    if (make_room(a) != APPLY_OK)
        return NULL;
    char *sql = apply_sql_build(t, s);
    char name[24];
    snprintf(name, sizeof name, "pgb_%d", ++a->nstmt_names);
    log_debug("target: prepare %s: %s", name, sql);
    int ok = PQsendPrepare(a->db->pg, name, sql, s->nset + s->nwhere, NULL);
    free(sql);
    if (!ok) {
        conn_lost(a, "preparing a statement");
        return NULL;
    }
    pending *p = queue_push(a, PEND_CMD);
    snprintf(p->desc, sizeof p->desc, "the preparation of a %s%c statement for %s",
             s->grouped ? "grouped " : "", (char)s->op, t->qname);
    if (t->nstmts == t->capstmts) {
        t->capstmts = t->capstmts ? 2 * t->capstmts : 4;
        t->stmts = xrealloc(t->stmts, (size_t)t->capstmts * sizeof(apply_stmt));
    }
    apply_stmt *st = &t->stmts[t->nstmts++];
    st->op = s->op;
    st->full_row = s->full_row;
    st->grouped = s->grouped;
    st->set = dup_ints(s->set, s->nset);
    st->nset = s->nset;
    st->where = dup_ints(s->where, s->nwhere);
    st->nwhere = s->nwhere;
    memcpy(st->name, name, sizeof name);
    return st;
}

/* ---------------------------------------------------------------------- */
/* one change                                                              */

static void ensure_scratch(apply_ctx *a, int n)
{
    if (n <= a->capscratch)
        return;
    a->capscratch = n * 2;
    size_t cap = (size_t)a->capscratch;
    a->map = xrealloc(a->map, cap * sizeof(int));
    a->set = xrealloc(a->set, cap * sizeof(int));
    a->where = xrealloc(a->where, cap * sizeof(int));
    a->idmap = xrealloc(a->idmap, cap * sizeof(int));
    a->params = xrealloc(a->params, 2 * cap * sizeof(char *));
    a->gparams = xrealloc(a->gparams, 2 * cap * sizeof(char *));
    a->goff = xrealloc(a->goff, 2 * cap * sizeof(size_t));
}

static int find_column(const apply_table *t, const char *name, int hint)
{
    if (hint >= 0 && hint < t->ncols && strcmp(t->cols[hint].name, name) == 0)
        return hint;
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return i;
    return -1;
}

static const char *op_name(change_kind k)
{
    switch (k) {
    case CHG_INSERT:
        return "INSERT";
    case CHG_UPDATE:
        return "UPDATE";
    case CHG_DELETE:
        return "DELETE";
    case CHG_TRUNCATE:
        return "TRUNCATE";
    default:
        return "change";
    }
}

static apply_status ddl_fail(apply_ctx *a, const apply_table *t, change_kind k, const char *diff,
                             const char *fix)
{
    return fail(a, APPLY_FATAL,
                "schema change detected on the source at a %s on %s: %s; nothing was applied "
                "from this transaction: %s on the target, then run `pgbaton start` again",
                op_name(k), t->qname, diff, fix);
}

/* The source type of column COL, for messages: wal2json is asked for type
 * OIDs only (names cost the source's decoding time), and built-in type
 * OIDs are the same on every server, so the target names them. */
static void source_type(apply_ctx *a, const pgb_column *col, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s", col->type ? col->type : "?");
    if (col->type || col->typeoid == 0)
        return;
    if (col->typeoid >= FIRST_NORMAL_OID) {
        snprintf(out, outsz, "a user-defined type (OID %u on the source)", col->typeoid);
        return;
    }
    char oid[16];
    snprintf(oid, sizeof oid, "%u", col->typeoid);
    const char *params[1] = {oid};
    PGresult *r = db_exec(a->catalog, DB_QUIET, "SELECT format_type($1::oid, NULL)", 1, params);
    if (r && PQntuples(r) == 1 && PQnfields(r) == 1)
        snprintf(out, outsz, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

/* Map each column of COLS to the target column; check names and types. */
static apply_status map_columns(apply_ctx *a, const apply_table *t, const pgb_change *c,
                                const pgb_column *cols, int n)
{
    char diff[512], type[160];
    for (int i = 0; i < n; i++) {
        int k = find_column(t, cols[i].name, i);
        if (k < 0) {
            source_type(a, &cols[i], type, sizeof type);
            snprintf(diff, sizeof diff, "column \"%s\" (%s) is not on the target", cols[i].name,
                     type);
            return ddl_fail(a, t, c->kind, diff,
                            "apply the same ALTER TABLE ... ADD COLUMN (or RENAME) that was run on "
                            "the source");
        }
        uint32_t so = cols[i].typeoid;
        if (so != 0 && so < FIRST_NORMAL_OID && t->cols[k].typoid != so) {
            source_type(a, &cols[i], type, sizeof type);
            snprintf(diff, sizeof diff, "column \"%s\" is %s on the source but %s on the target",
                     cols[i].name, type, t->cols[k].type);
            return ddl_fail(a, t, c->kind, diff,
                            "apply the same ALTER TABLE ... ALTER COLUMN ... TYPE that was run on "
                            "the source");
        }
        a->map[i] = k;
    }
    return APPLY_OK;
}

/* "OP on T with key (k1, k2)=(v1, v2)" from the key columns of COLS
 * (values truncated): how messages name a change. */
static void describe_change(const apply_table *t, change_kind kind, const pgb_column *cols, int n,
                            const int *map, char *out, size_t outsz)
{
    if (t->nkey == 0) {
        snprintf(out, outsz, "%s on %s with key (no key: row matched on all its columns)",
                 op_name(kind), t->qname);
        return;
    }
    sbuf names = {0}, vals = {0};
    sb_add(&names, "%s", "");
    sb_add(&vals, "%s", "");
    bool first = true;
    for (int i = 0; i < n; i++) {
        if (map[i] < 0 || !t->cols[map[i]].in_key)
            continue;
        sb_add(&names, "%s%s", first ? "" : ", ", cols[i].name);
        sb_add(&vals, "%s%.60s", first ? "" : ", ", cols[i].value ? cols[i].value : "NULL");
        first = false;
    }
    snprintf(out, outsz, "%s on %s with key (%s)=(%s)", op_name(kind), t->qname, names.s, vals.s);
    free(names.s);
    free(vals.s);
}

static bool same_value(const char *x, const char *y)
{
    return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

/* WHERE columns of an UPDATE/DELETE from the change's identity: the key
 * columns, or (no key) every non-generated column of the old row. Fills
 * a->where and the parameters from index FIRST. */
static apply_status build_where(apply_ctx *a, apply_table *t, const pgb_change *c, int first,
                                int *nwhere, int *idmap)
{
    int n = 0;
    for (int i = 0; i < c->nidentity; i++) {
        int k = idmap[i];
        if (t->nkey > 0 ? !t->cols[k].in_key : t->cols[k].generated)
            continue;
        a->where[n] = k;
        a->params[first + n] = c->identity[i].value;
        n++;
    }
    if (t->nkey > 0 && n != t->nkey) {
        char diff[256];
        snprintf(diff, sizeof diff,
                 "the change identifies rows by other columns than the target's key (%d of %d "
                 "key columns sent)",
                 n, t->nkey);
        return ddl_fail(a, t, c->kind, diff,
                        "give the table the same primary key or replica identity as the source");
    }
    *nwhere = n;
    return APPLY_OK;
}

/* One more data change in the batch, the source transaction and the
 * current lag sample. */
static void count_change(apply_ctx *a)
{
    a->batch_changes++;
    a->src_changes++;
    a->changes_since_sample++;
}

static apply_status send_change(apply_ctx *a, apply_table *t, const apply_shape *s,
                                const pgb_change *c, const pgb_column *keycols, int nkeycols,
                                const int *keymap)
{
    apply_stmt *st = get_stmt(a, t, s);
    if (!st)
        return a->failure ? a->failure : APPLY_RETRY;
    if (make_room(a) != APPLY_OK)
        return a->failure;
    if (!PQsendQueryPrepared(a->db->pg, st->name, s->nset + s->nwhere, a->params, NULL, NULL, 0))
        return conn_lost(a, "sending a change");
    pending *p = queue_push(a, PEND_CHANGE);
    p->expect = s->op != APPLY_OP_INSERT ? 1 : -1;
    describe_change(t, c->kind, keycols, nkeycols, keymap, p->desc, sizeof p->desc);
    count_change(a);
    return APPLY_OK;
}

/* ---------------------------------------------------------------------- */
/* grouping (see the top of the file)                                     */

static const char *apply_op_name(apply_op op)
{
    return op == APPLY_OP_INSERT ? "INSERT" : op == APPLY_OP_UPDATE ? "UPDATE" : "DELETE";
}

static bool group_allowed(const apply_ctx *a)
{
    return (!a->opts.ungrouped_until || a->committed_lsn >= *a->opts.ungrouped_until);
}

static bool cols_groupable(const apply_table *t, const int *cols, int n)
{
    for (int i = 0; i < n; i++)
        if (!t->cols[cols[i]].array_type)
            return false;
    return true;
}

static void sb_reserve(sbuf *b, size_t n)
{
    if (b->len + n < b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap <= b->len + n)
        cap *= 2;
    b->s = xrealloc(b->s, cap);
    b->cap = cap;
}

static void sb_putc(sbuf *b, char c)
{
    sb_reserve(b, 1);
    b->s[b->len++] = c;
}

/* One array element: NULL, or the value in double quotes with \ and "
 * escaped (array_in then hands the type's input function the exact text). */
static void sb_array_element(sbuf *b, const char *v)
{
    if (!v) {
        sb_reserve(b, 4);
        memcpy(b->s + b->len, "NULL", 4);
        b->len += 4;
        return;
    }
    size_t n = strlen(v);
    sb_reserve(b, 2 * n + 2);
    char *o = b->s + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '"' || v[i] == '\\')
            *o++ = '\\';
        *o++ = v[i];
    }
    *o++ = '"';
    b->len = (size_t)(o - b->s);
}

static const char *group_value(const apply_group *g, int row, int i)
{
    size_t o = g->off[(size_t)row * (size_t)g->width + (size_t)i];
    return o == GROUP_NULL ? NULL : g->text.s + o;
}

static size_t group_store(apply_group *g, const char *v)
{
    if (!v)
        return GROUP_NULL;
    size_t n = strlen(v) + 1;
    sb_reserve(&g->text, n);
    memcpy(g->text.s + g->text.len, v, n);
    size_t o = g->text.len;
    g->text.len += n;
    return o;
}

static unsigned key_hash(const char *const *vals, int n)
{
    unsigned h = FNV_BASIS;
    for (int i = 0; i < n; i++)
        h = fnv(fnv(h, vals[i] ? vals[i] : ""), vals[i] ? "\x01" : "\x02");
    return h;
}

/* The held row whose key values are KEY, or -1; *SLOT: where it is or would go. */
static int group_find(const apply_group *g, const char *const *key, int *slot)
{
    unsigned mask = (unsigned)g->nslot - 1;
    unsigned i = key_hash(key, g->nwhere) & mask;
    for (; g->slot[i]; i = (i + 1) & mask) {
        int r = g->slot[i] - 1;
        bool eq = true;
        for (int k = 0; k < g->nwhere && eq; k++)
            eq = same_value(group_value(g, r, g->nset + k), key[k]);
        if (eq) {
            *slot = (int)i;
            return r;
        }
    }
    *slot = (int)i;
    return -1;
}

static void group_reset(apply_ctx *a, apply_group *g)
{
    a->held_bytes -= g->text.len;
    g->text.len = 0;
    g->nrows = 0;
    g->op = 0;
    if (g->slot)
        memset(g->slot, 0, (size_t)g->nslot * sizeof(int));
}

/* Send the changes T holds: one row as the ordinary statement, more as one
 * grouped statement whose parameters are arrays. */
static apply_status group_flush(apply_ctx *a, apply_table *t)
{
    apply_group *g = t->group;
    if (!g || g->nrows == 0)
        return a->failure;
    apply_shape s = {.op = g->op,
                     .set = g->set,
                     .nset = g->nset,
                     .where = g->where,
                     .nwhere = g->nwhere,
                     .grouped = g->nrows > 1};
    apply_stmt *st = get_stmt(a, t, &s);
    if (!st)
        return a->failure ? a->failure : APPLY_RETRY;
    if (make_room(a) != APPLY_OK)
        return a->failure;
    if (g->nrows == 1) {
        for (int i = 0; i < g->width; i++)
            a->gparams[i] = group_value(g, 0, i);
    } else {
        sbuf *b = &a->arrays;
        b->len = 0;
        for (int i = 0; i < g->width; i++) {
            int col = i < g->nset ? g->set[i] : g->where[i - g->nset];
            char delim = t->cols[col].delim;
            a->goff[i] = b->len;
            sb_putc(b, '{');
            for (int r = 0; r < g->nrows; r++) {
                if (r > 0)
                    sb_putc(b, delim);
                sb_array_element(b, group_value(g, r, i));
            }
            sb_putc(b, '}');
            sb_putc(b, '\0');
        }
        for (int i = 0; i < g->width; i++)
            a->gparams[i] = b->s + a->goff[i];
    }
    if (!PQsendQueryPrepared(a->db->pg, st->name, g->width, a->gparams, NULL, NULL, 0))
        return conn_lost(a, "sending changes");
    pending *p = queue_push(a, PEND_CHANGE);
    p->expect = g->op == APPLY_OP_INSERT ? -1 : g->nrows;
    p->grouped = g->nrows > 1;
    if (g->nrows == 1)
        snprintf(p->desc, sizeof p->desc, "%s", g->first_desc);
    else
        snprintf(p->desc, sizeof p->desc, "a grouped %s of %d rows on %.60s (the first: %.120s)",
                 apply_op_name(g->op), g->nrows, t->qname, g->first_desc);
    group_reset(a, g);
    if (a->arrays.cap > (size_t)4 * GROUP_BYTES) { /* do not keep a huge scratch */
        free(a->arrays.s);
        a->arrays = (sbuf){0};
    }
    return APPLY_OK;
}

/* Send everything held, every table. */
static apply_status group_flush_all(apply_ctx *a)
{
    apply_status st = a->failure;
    for (int i = 0; i < a->nheld; i++) {
        if (st == APPLY_OK)
            st = group_flush(a, a->held[i]);
        a->held[i]->group->listed = false;
    }
    a->nheld = 0;
    return st;
}

/* Hold the change of shape S (its values in a->params, the SET columns then
 * the key) to send it with the next ones of the same shape on T. */
static apply_status group_add(apply_ctx *a, apply_table *t, const apply_shape *s,
                              const pgb_change *c, const pgb_column *keycols, int nkeycols,
                              const int *keymap)
{
    apply_group *g = t->group;
    if (!g) {
        g = t->group = xcalloc(1, sizeof *g);
        g->set = xmalloc((size_t)t->ncols * sizeof(int));
        g->where = xmalloc((size_t)t->ncols * sizeof(int));
    }
    int width = s->nset + s->nwhere;
    if (g->nrows > 0 && (g->op != s->op || !same_ints(g->set, g->nset, s->set, s->nset) ||
                         !same_ints(g->where, g->nwhere, s->where, s->nwhere))) {
        apply_status st = group_flush(a, t);
        if (st != APPLY_OK)
            return st;
    }
    if (g->nrows == 0) {
        g->op = s->op;
        memcpy(g->set, s->set, (size_t)s->nset * sizeof(int));
        g->nset = s->nset;
        if (s->nwhere > 0)
            memcpy(g->where, s->where, (size_t)s->nwhere * sizeof(int));
        g->nwhere = s->nwhere;
        g->width = width;
        describe_change(t, c->kind, keycols, nkeycols, keymap, g->first_desc, sizeof g->first_desc);
    }
    int row = -1, slot = 0;
    if (s->op != APPLY_OP_INSERT) {
        if (!g->slot) {
            g->nslot = 2 * GROUP_ROWS;
            g->nslot = 1 << (32 - __builtin_clz((unsigned)g->nslot - 1));
            g->slot = xcalloc((size_t)g->nslot, sizeof(int));
        }
        row = group_find(g, a->params + s->nset, &slot);
        if (row >= 0 && s->op == APPLY_OP_DELETE) {
            /* the same key deleted twice: send the first delete first */
            apply_status st = group_flush(a, t);
            if (st != APPLY_OK)
                return st;
            return group_add(a, t, s, c, keycols, nkeycols, keymap);
        }
    }
    size_t before = g->text.len;
    if (row >= 0) { /* an UPDATE of a held row: its latest values win */
        for (int i = 0; i < s->nset; i++)
            g->off[(size_t)row * (size_t)width + (size_t)i] = group_store(g, a->params[i]);
    } else {
        if (g->nrows == g->caprows) {
            g->caprows = g->caprows ? 2 * g->caprows : 64;
            g->off = xrealloc(g->off, (size_t)g->caprows * (size_t)t->ncols * 2 * sizeof(size_t));
        }
        row = g->nrows++;
        for (int i = 0; i < width; i++)
            g->off[(size_t)row * (size_t)width + (size_t)i] = group_store(g, a->params[i]);
        if (s->op != APPLY_OP_INSERT)
            g->slot[slot] = row + 1;
    }
    a->held_bytes += g->text.len - before;
    if (!g->listed) {
        if (a->nheld == a->capheld) {
            a->capheld = a->capheld ? 2 * a->capheld : 16;
            a->held = xrealloc(a->held, (size_t)a->capheld * sizeof(apply_table *));
        }
        a->held[a->nheld++] = t;
        g->listed = true;
    }
    count_change(a);
    if (g->nrows >= GROUP_ROWS)
        return group_flush(a, t);
    if (a->held_bytes >= GROUP_BYTES)
        return group_flush_all(a);
    return APPLY_OK;
}

/* Whether the change in a->params (shape S) may be held, else send what T
 * holds first, so that T's changes stay in order. */
static apply_status group_or_send(apply_ctx *a, apply_table *t, const apply_shape *s,
                                  bool groupable, const pgb_change *c, const pgb_column *keycols,
                                  int nkeycols, const int *keymap)
{
    if (groupable) {
        size_t bytes = 0;
        for (int i = 0; i < s->nset + s->nwhere; i++)
            bytes += a->params[i] ? strlen(a->params[i]) : 0;
        groupable = bytes <= GROUP_VALUE_MAX;
    }
    if (groupable)
        return group_add(a, t, s, c, keycols, nkeycols, keymap);
    apply_status st = group_flush(a, t);
    if (st != APPLY_OK)
        return st;
    return send_change(a, t, s, c, keycols, nkeycols, keymap);
}

static apply_status ensure_txn(apply_ctx *a)
{
    if (a->in_txn)
        return APPLY_OK;
    apply_status st = send_cmd(a, "BEGIN", "BEGIN");
    if (st != APPLY_OK)
        return st;
    a->in_txn = true;
    a->batch_started = mono_now();
    return APPLY_OK;
}

static apply_status apply_insert(apply_ctx *a, apply_table *t, const pgb_change *c)
{
    apply_status st = map_columns(a, t, c, c->columns, c->ncolumns);
    if (st != APPLY_OK)
        return st;
    int nset = 0;
    for (int i = 0; i < c->ncolumns; i++) {
        if (t->cols[a->map[i]].generated)
            continue;
        a->set[nset] = a->map[i];
        a->params[nset++] = c->columns[i].value;
    }
    for (int k = 0; k < t->ncols; k++)
        if (!t->cols[k].generated && !in_list(a->set, nset, k)) {
            char diff[256];
            snprintf(diff, sizeof diff,
                     "column \"%s\" is on the target but not in the source's row", t->cols[k].name);
            return ddl_fail(a, t, c->kind, diff,
                            "apply the same ALTER TABLE ... DROP COLUMN (or RENAME) that was run "
                            "on the source");
        }
    apply_shape s = {.op = APPLY_OP_INSERT, .set = a->set, .nset = nset};
    bool groupable = nset > 0 && group_allowed(a) && cols_groupable(t, a->set, nset);
    return group_or_send(a, t, &s, groupable, c, c->columns, c->ncolumns, a->map);
}

static apply_status apply_update_delete(apply_ctx *a, apply_table *t, const pgb_change *c)
{
    int *idmap = a->idmap;
    apply_status st = map_columns(a, t, c, c->identity, c->nidentity);
    if (st != APPLY_OK)
        goto out;
    memcpy(idmap, a->map, (size_t)c->nidentity * sizeof(int));
    if (c->kind == CHG_UPDATE) {
        st = map_columns(a, t, c, c->columns, c->ncolumns);
        if (st != APPLY_OK)
            goto out;
    }
    apply_shape s = {.op = c->kind == CHG_DELETE ? APPLY_OP_DELETE : APPLY_OP_UPDATE,
                     .full_row = t->nkey == 0};
    int nset = 0;
    for (int i = 0; c->kind == CHG_UPDATE && i < c->ncolumns; i++) {
        const apply_column *col = &t->cols[a->map[i]];
        if (col->generated)
            continue;
        if (col->identity == 'a') {
            /* cannot be SET: leave it out when unchanged, else replace */
            bool unchanged = false;
            for (int j = 0; j < c->nidentity; j++)
                if (idmap[j] == a->map[i] && same_value(c->identity[j].value, c->columns[i].value))
                    unchanged = true;
            if (unchanged)
                continue;
            s.op = APPLY_OP_REPLACE;
        }
        a->set[nset] = a->map[i];
        a->params[nset++] = c->columns[i].value;
    }
    if (c->kind == CHG_UPDATE && nset == 0) {
        st = APPLY_OK; /* nothing the target stores changed (only generated columns) */
        goto out;
    }
    int nwhere = 0;
    st = build_where(a, t, c, nset, &nwhere, idmap);
    if (st != APPLY_OK)
        goto out;
    s.set = a->set;
    s.nset = nset;
    s.where = a->where;
    s.nwhere = nwhere;
    /* grouped by key: DELETEs; UPDATEs that keep the key, on a table whose
     * only unique index is the key (see the top of the file) */
    bool groupable = !s.full_row && group_allowed(a) &&
                     (s.op == APPLY_OP_DELETE || (s.op == APPLY_OP_UPDATE && !t->other_unique)) &&
                     cols_groupable(t, a->set, nset) && cols_groupable(t, a->where, nwhere);
    for (int j = 0; groupable && s.op == APPLY_OP_UPDATE && j < nwhere; j++)
        for (int i = 0; i < nset; i++)
            if (a->set[i] == a->where[j] && !same_value(a->params[i], a->params[nset + j]))
                groupable = false; /* the key changes */
    st = group_or_send(a, t, &s, groupable, c, c->identity, c->nidentity, idmap);
out:
    return st;
}

static apply_status flush_truncates(apply_ctx *a)
{
    if (a->ntrunc == 0)
        return APPLY_OK;
    sbuf b = {0};
    sb_add(&b, "TRUNCATE ");
    for (int i = 0; i < a->ntrunc; i++)
        sb_add(&b, "%s%s%s", i ? ", " : "", a->trunc[i]->relkind == 'p' ? "" : "ONLY ",
               a->trunc[i]->qname);
    char desc[DESC_LEN];
    snprintf(desc, sizeof desc, "TRUNCATE of %s%s", a->trunc[0]->qname,
             a->ntrunc > 1 ? " and related tables" : "");
    a->ntrunc = 0;
    apply_status st = send_cmd(a, b.s, desc);
    free(b.s);
    if (st == APPLY_OK) {
        a->batch_changes++;
        a->src_changes++;
    }
    return st;
}

static apply_status apply_row_change(apply_ctx *a, const pgb_change *c)
{
    apply_table *t = get_table(a, c->schema, c->table);
    if (!t)
        return fail(a, APPLY_RETRY, "target: cannot read the definition of %s.%s", c->schema,
                    c->table);
    if (!t->selected)
        return APPLY_OK;
    if (t->missing)
        return fail(a, APPLY_FATAL,
                    "schema change detected on the source at a %s on %s: the table is not on the "
                    "target (created on the source after the copy?); nothing was applied from "
                    "this transaction: create the table on the target with the same definition "
                    "(and copy any rows it already had), then run `pgbaton start` again",
                    op_name(c->kind), t->qname);
    ensure_scratch(a, (c->ncolumns > c->nidentity ? c->ncolumns : c->nidentity) + t->ncols + 1);
    apply_status st = ensure_txn(a);
    if (st != APPLY_OK)
        return st;
    /* a TRUNCATE comes after everything held, in every table */
    if (c->kind == CHG_TRUNCATE && (st = group_flush_all(a)) != APPLY_OK)
        return st;
    if (c->kind == CHG_TRUNCATE) {
        if (a->ntrunc > 0 && a->trunc_lsn != c->lsn && (st = flush_truncates(a)) != APPLY_OK)
            return st;
        if (a->ntrunc == a->captrunc) {
            a->captrunc = a->captrunc ? 2 * a->captrunc : 8;
            a->trunc = xrealloc(a->trunc, (size_t)a->captrunc * sizeof(apply_table *));
        }
        a->trunc[a->ntrunc++] = t;
        a->trunc_lsn = c->lsn;
        return APPLY_OK;
    }
    if ((st = flush_truncates(a)) != APPLY_OK)
        return st;
    if (c->kind == CHG_INSERT)
        return apply_insert(a, t, c);
    return apply_update_delete(a, t, c);
}

/* ---------------------------------------------------------------------- */
/* commits                                                                 */

static const char sql_position[] =
    "UPDATE pgbaton.migration SET applied_lsn = GREATEST(applied_lsn, $2::pg_lsn), "
    "applied_source_ts = coalesce($3::timestamptz, applied_source_ts), "
    "heartbeat_source_ts = coalesce($4::timestamptz, heartbeat_source_ts), "
    "changes_applied = changes_applied + $5::bigint, txns_applied = txns_applied + $6::bigint, "
    "alive_at = clock_timestamp(), last_error = NULL, "
    /* cutover: the fence message was applied in this transaction ($8 its LSN);
     * post_fence_changes counts the data changes applied after the latest
     * fence ($9: those of this batch) */
    "fence_applied_at = CASE WHEN $7::bool THEN now() ELSE fence_applied_at END, "
    "fence_applied_lsn = CASE WHEN $7::bool THEN $8::pg_lsn ELSE fence_applied_lsn END, "
    "post_fence_changes = CASE WHEN $7::bool THEN 0 ELSE post_fence_changes END + $9::bigint, "
    /* verify's hold: this commit reaches the hold point */
    "held_at = CASE WHEN $10::bool THEN now() ELSE held_at END "
    "WHERE name = $1 RETURNING phase, hold_lsn::text";

static const char sql_lag_sample[] =
    "INSERT INTO pgbaton.lag_sample (migration, lag_bytes, lag_seconds, apply_rate) "
    "SELECT name, $2::bigint, extract(epoch FROM now() - heartbeat_source_ts), $3::float8 "
    "FROM pgbaton.migration WHERE name = $1";

static apply_status send_lag_sample(apply_ctx *a, lsn_t pos)
{
    double now = mono_now();
    double rate = (double)a->changes_since_sample / (now - a->last_sample);
    char bytes[32], rate_s[64];
    snprintf(bytes, sizeof bytes, "%llu",
             (unsigned long long)(a->source_lsn ? lsn_diff(a->source_lsn, pos) : 0));
    snprintf(rate_s, sizeof rate_s, "%.3f", rate);
    const char *params[3] = {a->opts.o->name, a->source_lsn ? bytes : NULL, rate_s};
    if (!PQsendQueryParams(a->db->pg, sql_lag_sample, 3, NULL, params, NULL, NULL, 0))
        return conn_lost(a, "sending a lag sample");
    pending *p = queue_push(a, PEND_CMD);
    snprintf(p->desc, sizeof p->desc, "the lag sample");
    a->last_sample = now;
    a->changes_since_sample = 0;
    return APPLY_OK;
}

/* Is a result with a row count to check still unread? */
static bool counts_unchecked(const apply_ctx *a)
{
    for (int i = 0; i < a->qlen; i++) {
        const pending *p = &a->queue[(a->qhead + i) % QUEUE_CAP];
        if (p->kind == PEND_CHANGE && p->expect >= 0 && !p->got)
            return true;
    }
    return false;
}

/* Commit the batch with the position and wait until it is durable. */
static apply_status commit_batch(apply_ctx *a)
{
    apply_status st = group_flush_all(a);
    if (st == APPLY_OK)
        st = flush_truncates(a);
    if (st == APPLY_OK)
        st = ensure_txn(a);
    if (st == APPLY_OK)
        st = make_room(a);
    if (st != APPLY_OK)
        return st;
    /* A row count that does not match is no server error: it would not stop
     * the pipeline, and a COMMIT sent behind it would commit the batch and
     * its position. So when the batch has counts to check, its results are
     * all read before the position and COMMIT are sent (on a mismatch, the
     * open transaction holds no lock on pgbaton.migration, and closing the
     * session rolls it back). */
    if (counts_unchecked(a)) {
        if (!PQsendFlushRequest(a->db->pg))
            return conn_lost(a, "asking for results");
        if ((st = read_results(a, true)) != APPLY_OK)
            return st;
    }
    lsn_t pos = a->pending_lsn > a->committed_lsn ? a->pending_lsn : a->committed_lsn;
    char lsn[LSN_STRLEN], changes[32], txns[32];
    lsn_format(pos, lsn, sizeof lsn);
    snprintf(changes, sizeof changes, "%ld", a->batch_changes);
    snprintf(txns, sizeof txns, "%ld", a->batch_txns);
    char fence_lsn[LSN_STRLEN], post_fence[32];
    lsn_format(a->pending_fence_lsn, fence_lsn, sizeof fence_lsn);
    snprintf(post_fence, sizeof post_fence, "%ld", a->post_fence_batch);
    const char *params[10] = {a->opts.o->name,
                              lsn,
                              a->pending_ts[0] ? a->pending_ts : NULL,
                              a->pending_hb_ts[0] ? a->pending_hb_ts : NULL,
                              changes,
                              txns,
                              a->pending_fence ? "true" : "false",
                              a->pending_fence ? fence_lsn : NULL,
                              post_fence,
                              a->pending_held ? "true" : "false"};
    if (!PQsendQueryParams(a->db->pg, sql_position, 10, NULL, params, NULL, NULL, 0))
        return conn_lost(a, "sending the position");
    pending *p = queue_push(a, PEND_POSITION);
    snprintf(p->desc, sizeof p->desc, "the position update");
    /* cutover and verify wait for this commit (src/state.c, top of file) */
    if (a->pending_fence || a->pending_held) {
        if (!state_send_notify(a->db->pg, a->opts.o->name))
            return conn_lost(a, "sending the notification");
        p = queue_push(a, PEND_CMD);
        snprintf(p->desc, sizeof p->desc, "the notification");
    }
    if (mono_now() - a->last_sample >= LAG_SAMPLE_MS / 1000.0 &&
        (st = send_lag_sample(a, pos)) != APPLY_OK)
        return st;
    if ((st = send_cmd(a, "COMMIT", "COMMIT")) != APPLY_OK)
        return st;
    if (!PQpipelineSync(a->db->pg))
        return conn_lost(a, "sending a sync");
    p = queue_push(a, PEND_SYNC);
    p->lsn = pos;
    p->changes = a->batch_changes;
    p->txns = a->batch_txns;
    snprintf(p->desc, sizeof p->desc, "the commit of the batch");
    a->in_txn = false;
    st = read_results(a, true);
    if (st != APPLY_OK)
        return st;
    log_debug("committed %ld changes of %ld source transactions up to %s", a->batch_changes,
              a->batch_txns, lsn);
    a->batch_changes = a->batch_txns = 0;
    a->pending_ts[0] = a->pending_hb_ts[0] = '\0';
    a->pending_fence = a->pending_held = false;
    a->post_fence_batch = 0;
    return APPLY_OK;
}

static bool batch_full(const apply_ctx *a)
{
    return a->batch_changes >= a->opts.batch_changes || a->batch_txns >= a->opts.batch_txns ||
           (mono_now() - a->batch_started) * 1000.0 >= a->opts.batch_ms;
}

/* ---------------------------------------------------------------------- */
/* messages                                                                */

static bool message_is_ours(const apply_ctx *a, const char *content, char *ts, size_t tssz,
                            bool *wake)
{
    json_error_t err;
    json_t *j = content ? json_loads(content, JSON_DECODE_ANY, &err) : NULL; /* new reference */
    bool ours = false;
    if (json_is_object(j)) {
        const char *name = json_string_value(json_object_get(j, "name"));
        const char *t = json_string_value(json_object_get(j, "ts"));
        ours = !name || strcmp(name, a->opts.o->name) == 0;
        if (ours && t && ts)
            snprintf(ts, tssz, "%s", t);
        if (ours && wake)
            *wake = json_is_true(json_object_get(j, "wake"));
    }
    json_decref(j);
    return ours;
}

static apply_status apply_message(apply_ctx *a, const pgb_change *c)
{
    char ts[64] = "";
    bool wake = false; /* verify's wake-up call: commit at once (the commit reads its hold) */
    if (strcmp(c->prefix, "pgbaton") == 0) {
        if (!message_is_ours(a, c->content, ts, sizeof ts, &wake))
            return APPLY_OK;
        if (ts[0])
            snprintf(a->pending_hb_ts, sizeof a->pending_hb_ts, "%s", ts);
    } else if (strcmp(c->prefix, "pgbaton_fence") == 0) {
        /* cutover: fence_applied_at/_lsn are set in the commit of this batch,
         * which happens at once (the source is frozen: every millisecond
         * counts), and later data changes are counted as post-fence */
        if (!message_is_ours(a, c->content, NULL, 0, NULL))
            return APPLY_OK;
        a->pending_fence = true;
        a->pending_fence_lsn = c->lsn;
        a->fence_seen = true;
        a->post_fence_batch = 0;
        log_info("fence message applied at %X/%X", (unsigned)(c->lsn >> 32), (unsigned)c->lsn);
        if (!c->transactional && !a->in_src) {
            if (c->lsn > a->pending_lsn)
                a->pending_lsn = c->lsn;
            return commit_batch(a);
        }
    } else {
        return APPLY_OK;
    }
    /* outside a transaction, every earlier commit has been seen: the
     * message's end is a safe resume point */
    if (!c->transactional && !a->in_src && c->lsn > a->pending_lsn)
        a->pending_lsn = c->lsn;
    return wake && !c->transactional && !a->in_src ? commit_batch(a) : APPLY_OK;
}

/* ---------------------------------------------------------------------- */
/* public                                                                  */

apply_status apply_change(apply_ctx *a, const pgb_change *c)
{
    if (a->failure != APPLY_OK)
        return a->failure;
    if (c->lsn != LSN_INVALID && c->lsn > a->seen_lsn)
        a->seen_lsn = c->lsn;
    if (c->nextlsn != LSN_INVALID && c->nextlsn > a->seen_lsn)
        a->seen_lsn = c->nextlsn;
    apply_status st = APPLY_OK;
    switch (c->kind) {
    case CHG_BEGIN:
        a->in_src = true;
        a->src_changes = 0;
        /* already applied (should not be sent again, but never twice) */
        a->skipping = c->nextlsn != LSN_INVALID
                          ? c->nextlsn <= a->committed_lsn
                          : c->lsn != LSN_INVALID && c->lsn < a->committed_lsn; /* pgoutput: the
                                                   commit's start only; commits do not overlap */
        return APPLY_OK;
    case CHG_COMMIT:
        if (!a->skipping) {
            if ((st = flush_truncates(a)) != APPLY_OK)
                return st;
            if (c->nextlsn > a->pending_lsn)
                a->pending_lsn = c->nextlsn;
            if (a->src_changes > 0) {
                a->batch_txns++;
                snprintf(a->pending_ts, sizeof a->pending_ts, "%s",
                         c->timestamp ? c->timestamp : "");
            }
        }
        a->in_src = a->skipping = false;
        if (a->in_txn && batch_full(a))
            st = commit_batch(a);
        break;
    case CHG_MESSAGE:
        if (!a->skipping)
            st = apply_message(a, c);
        break;
    default:
        if (a->in_txn)
            refresh_alive(a);
        if (!a->skipping) {
            st = apply_row_change(a, c);
            if (a->fence_seen)
                a->post_fence_batch++;
        }
        break;
    }
    if (st == APPLY_OK)
        st = read_results(a, false);
    return st;
}

apply_status apply_poll(apply_ctx *a, bool idle)
{
    apply_status st = read_results(a, false);
    if (st != APPLY_OK || a->in_src)
        return st;
    double since = (mono_now() - a->last_commit) * 1000.0;
    bool moved = a->pending_lsn > a->committed_lsn || a->pending_hb_ts[0] || a->pending_fence;
    bool aged = (mono_now() - a->batch_started) * 1000.0 >= a->opts.batch_ms / 10.0;
    if ((a->in_txn && ((idle && aged) || batch_full(a))) ||
        (idle && moved && since >= IDLE_POSITION_MS) || since >= ALIVE_MS)
        st = commit_batch(a);
    return st;
}

apply_status apply_finish(apply_ctx *a)
{
    if (a->failure != APPLY_OK)
        return a->failure;
    if (a->in_src) {
        /* a partial source transaction: drop the whole batch, it is sent again */
        log_info("rolling back the open batch (a source transaction was only partly received)");
        a->in_txn = false; /* closing the session rolls it back */
        return APPLY_OK;
    }
    return commit_batch(a);
}

static bool setup_session(apply_ctx *a)
{
    db_conn *db = a->db;
    if (!db_command(db, "SET session_replication_role = replica") ||
        !db_command(db, "SET synchronous_commit = on"))
        return false;
    if (!db_command(a->catalog, "SET search_path = pg_catalog"))
        return false;
    if (!PQenterPipelineMode(db->pg) || PQsetnonblocking(db->pg, 1) != 0) {
        db_report(db, DB_LOG, NULL, "entering pipeline mode");
        return false;
    }
    return true;
}

static bool read_position(apply_ctx *a)
{
    const char *params[1] = {a->opts.o->name};
    PGresult *r = db_exec(a->catalog, DB_LOG,
                          "SELECT applied_lsn::text, phase, hold_lsn::text, "
                          "fence_applied_lsn IS NOT NULL FROM pgbaton.migration WHERE name = $1",
                          1, params);
    if (!r)
        return false;
    bool ok = db_check_shape(a->catalog, r, 4, 1, "the migration row");
    if (ok) {
        set_hold(a, r, 2);
        a->fence_seen = strcmp(PQgetvalue(r, 0, 3), "t") == 0;
    }
    if (ok && !PQgetisnull(r, 0, 0) && !lsn_parse(PQgetvalue(r, 0, 0), &a->committed_lsn))
        ok = false;
    if (ok && phase_ends_streaming(PQgetvalue(r, 0, 1)))
        a->phase_done = true;
    PQclear(r);
    return ok;
}

apply_ctx *apply_open(const apply_opts *opts, apply_status *st)
{
    apply_ctx *a = xcalloc(1, sizeof *a);
    a->opts = *opts;
    if (a->opts.batch_changes <= 0)
        a->opts.batch_changes = 5000;
    if (a->opts.batch_txns <= 0)
        a->opts.batch_txns = 500;
    if (a->opts.batch_ms <= 0)
        a->opts.batch_ms = 200;
    a->queue = xcalloc(QUEUE_CAP, sizeof(pending));
    a->last_commit = a->last_sample = a->last_alive = mono_now();
    *st = APPLY_RETRY;
    db_connect_opts co = {.mode = DB_MODE_NORMAL,
                          .application_name = "pgbaton apply",
                          .errmode = DB_LOG,
                          .client_encoding = opts->source_encoding};
    a->db = db_connect(opts->target, DB_TARGET, &co, NULL, NULL);
    co.application_name = "pgbaton catalog";
    co.client_encoding = NULL;
    a->catalog = a->db ? db_connect(opts->target, DB_TARGET, &co, NULL, NULL) : NULL;
    if (!a->catalog)
        goto fail;
    if (!read_position(a)) {
        *st = APPLY_FATAL;
        goto fail;
    }
    if (!setup_session(a)) {
        *st = db_sqlstate_is(a->db, "42501") ? APPLY_FATAL : APPLY_RETRY;
        if (*st == APPLY_FATAL)
            log_error("target: the role needs superuser or `GRANT SET ON PARAMETER "
                      "session_replication_role` to apply changes without firing triggers");
        goto fail;
    }
    ensure_scratch(a, 64);
    *st = APPLY_OK;
    return a;
fail:
    apply_close(a);
    return NULL;
}

void apply_close(apply_ctx *a)
{
    if (!a)
        return;
    db_close(a->db);
    db_close(a->catalog);
    for (int i = 0; i < TABLE_BUCKETS; i++) {
        table_entry *e = a->buckets[i];
        while (e) {
            table_entry *next = e->next;
            free_table(&e->t);
            free(e);
            e = next;
        }
    }
    free(a->queue);
    free(a->trunc);
    free(a->map);
    free(a->set);
    free(a->where);
    free(a->idmap);
    free(a->params);
    free(a->gparams);
    free(a->goff);
    free(a->held);
    free(a->arrays.s);
    free(a->error);
    free(a);
}

lsn_t apply_committed_lsn(const apply_ctx *a)
{
    return a->committed_lsn;
}

int apply_socket(const apply_ctx *a)
{
    return PQsocket(a->db->pg);
}

bool apply_wants_write(const apply_ctx *a)
{
    return PQflush(a->db->pg) == 1;
}

bool apply_hold_blocks(const apply_ctx *a, const pgb_change *c)
{
    if (a->hold_lsn == LSN_INVALID || a->in_src)
        return false;
    if (!c) { /* idle: has the applier reached the hold point (committed or not)? */
        lsn_t pos = a->pending_lsn > a->committed_lsn ? a->pending_lsn : a->committed_lsn;
        return pos >= a->hold_lsn;
    }
    if (c->kind == CHG_BEGIN)
        return c->lsn != LSN_INVALID && c->lsn >= a->hold_lsn;
    if (c->kind == CHG_MESSAGE && !c->transactional)
        return c->lsn >= a->hold_lsn;
    return false;
}

apply_status apply_commit_held(apply_ctx *a)
{
    a->pending_held = true;
    return commit_batch(a);
}

lsn_t apply_hold_lsn(const apply_ctx *a)
{
    return a->hold_lsn;
}

apply_status apply_refresh_hold(apply_ctx *a)
{
    const char *params[1] = {a->opts.o->name};
    PGresult *r =
        db_exec(a->catalog, DB_QUIET,
                "SELECT phase, hold_lsn::text FROM pgbaton.migration WHERE name = $1", 1, params);
    if (!r)
        return APPLY_RETRY;
    if (PQntuples(r) == 1 && PQnfields(r) == 2) {
        if (phase_ends_streaming(PQgetvalue(r, 0, 0)))
            a->phase_done = true;
        set_hold(a, r, 1);
    }
    PQclear(r);
    return APPLY_OK;
}

bool apply_phase_done(const apply_ctx *a)
{
    return a->phase_done;
}

void apply_set_source_lsn(apply_ctx *a, lsn_t lsn)
{
    a->source_lsn = lsn;
}

const char *apply_error(const apply_ctx *a)
{
    return a->error;
}

void apply_record_error(apply_ctx *a, const char *message)
{
    const char *params[2] = {a->opts.o->name, message};
    if (!db_commandp(a->catalog, "UPDATE pgbaton.migration SET last_error = $2 WHERE name = $1", 2,
                     params))
        log_warn("could not record the error in pgbaton.migration.last_error");
}
