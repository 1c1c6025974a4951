/*
 * src/copy.c — the parallel data copy of `pgbaton start`.
 *
 * How it works
 * ------------
 * The plan (copy_plan_load) is read at the snapshot: every table with its
 * size, non-generated columns and COPY format (binary when both servers run
 * the same major version and the column types allow it, text otherwise),
 * plus the indexes and key constraints of plain tables.
 *
 * copy_run() fills a work queue and starts N workers on the worker runtime
 * (src/worker.c). Each worker owns
 * two connections: a source session that imports the exported snapshot
 * (BEGIN ISOLATION LEVEL REPEATABLE READ; SET TRANSACTION SNAPSHOT) and a
 * target session. Work items, in the order workers take them:
 *   1. urgent: INDEX items — pushed when a table's data is complete, so that
 *      its indexes are built while other tables are still being copied;
 *   2. main: COPY items, largest first. A table no larger than the split
 *      threshold (--split-larger-than; by default one worker's fair share of
 *      the whole copy, at least 1 GB) is one item, copied as
 *        target: BEGIN; TRUNCATE ONLY t; COPY t FROM STDIN (FREEZE); COMMIT
 *      (frozen rows: no later VACUUM rewrite on the target). A larger table is
 *      split into equal ranges of heap pages, as many as a multiple of
 *      --jobs (so that the workers finish together), each copied with
 *        COPY (SELECT cols FROM ONLY t WHERE ctid >= '(a,0)' AND ctid <
 *        '(b,0)') TO STDOUT
 *      (a TID range scan from PostgreSQL 14); the last range is open-ended so
 *      that no page is missed;
 *   3. late: the large objects.
 * ANALYZE is not part of the copy: it would hold up the key builds (the two
 * lock each other out); start runs it while streaming (src/analyze.c).
 * COPY data flows source -> worker -> target: each row returned by
 * PQgetCopyData is appended to a 256 kB buffer sent with PQputCopyData, so
 * memory stays bounded whatever the table size (no files, no processes).
 *
 * A table's state goes pending -> copying -> copied (all its ranges are in)
 * -> indexed (all its index items are done). Workers update counters in
 * memory under one mutex; only the main thread (the runtime's supervisor,
 * through its tick) writes them to pgbaton.table_state (every 2 s at most)
 * and logs progress (every 5 s, or a bar on a terminal). The first failure,
 * or a stop signal, stops the pool: the runtime records that first error,
 * cancels the query every worker has in flight (a COPY, a CREATE INDEX that
 * would otherwise run to its end), and sets the abort flag through on_stop:
 * workers leave at the next row or item, close their sessions (the target
 * rolls back what was in flight) and copy_run returns false.
 */
#include "copy.h"

#include "db_async.h"
#include "failpoint.h"
#include "largeobj.h"
#include "log.h"
#include "mono.h"
#include "sql_embed.h"
#include "state.h"
#include "state_audit.h"
#include "worker.h"
#include "xalloc.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define COPY_BUFSZ         (256 * 1024)
#define PUBLISH_EVERY      (1024 * 1024) /* bytes between counter updates */
#define STATE_EVERY_MS     2000
#define PROGRESS_EVERY_MS  5000
#define BLOCK_SIZE_DEFAULT 8192

/* ---- plan ---------------------------------------------------------------- */

static copy_table *find_table(copy_plan *plan, unsigned oid)
{
    for (int i = 0; i < plan->ntables; i++)
        if (plan->tables[i].oid == oid)
            return &plan->tables[i];
    return NULL;
}

static bool load_tables(db_conn *snap, copy_table_filter selected, const void *selected_arg,
                        bool binary_allowed, copy_plan *plan)
{
    db_res *res = db_exec(snap, DB_LOG, sql_copy_tables, 0, NULL);
    if (!res)
        return false;
    if (!db_check_shape(snap, res, 9, 0, "table list")) {
        db_res_free(res);
        return false;
    }
    plan->ntables = db_nrows(res);
    plan->tables = xcalloc((size_t)plan->ntables + 1, sizeof(copy_table));
    for (int i = 0; i < plan->ntables; i++) {
        copy_table *t = &plan->tables[i];
        t->oid = (unsigned)strtoul(db_val(res, i, 0), NULL, 10);
        t->schema = xstrdup(db_val(res, i, 1));
        t->name = xstrdup(db_val(res, i, 2));
        t->qname = db_quote_qualified(t->schema, t->name);
        t->relkind = db_val(res, i, 3)[0];
        t->size_bytes = strtoll(db_val(res, i, 4), NULL, 10);
        t->pages = strtoll(db_val(res, i, 5), NULL, 10);
        t->est_rows = strtoll(db_val(res, i, 6), NULL, 10);
        t->columns = xstrdup(db_val(res, i, 7));
        t->binary = binary_allowed && strcmp(db_val(res, i, 8), "t") == 0;
        t->selected = selected(selected_arg, t->schema, t->name);
        t->state = "pending";
    }
    db_res_free(res);
    return true;
}

static bool load_indexes(db_conn *snap, copy_plan *plan)
{
    db_res *res = db_exec(snap, DB_LOG, sql_copy_indexes, 0, NULL);
    if (!res)
        return false;
    if (!db_check_shape(snap, res, 5, 0, "index list")) {
        db_res_free(res);
        return false;
    }
    for (int i = 0; i < db_nrows(res); i++) {
        copy_table *t = find_table(plan, (unsigned)strtoul(db_val(res, i, 0), NULL, 10));
        if (!t || !t->selected)
            continue;
        t->indexes = xrealloc(t->indexes, (size_t)(t->nindexes + 1) * sizeof(copy_index));
        copy_index *ix = &t->indexes[t->nindexes++];
        ix->catalog_oid = (unsigned)strtoul(db_val(res, i, 1), NULL, 10);
        ix->object_oid = (unsigned)strtoul(db_val(res, i, 2), NULL, 10);
        ix->name = xstrdup(db_val(res, i, 3));
        ix->sql = xstrdup(db_val(res, i, 4));
    }
    db_res_free(res);
    return true;
}

static bool load_large_objects(db_conn *snap, copy_plan *plan)
{
    db_res *res = db_exec(snap, DB_LOG,
                          "SELECT count(*), pg_relation_size('pg_largeobject') "
                          "FROM pg_largeobject_metadata",
                          0, NULL);
    if (!res)
        return false;
    bool ok = db_check_shape(snap, res, 2, 1, "large object count");
    if (ok) {
        plan->lo_count = strtoll(db_val(res, 0, 0), NULL, 10);
        plan->lo_bytes = strtoll(db_val(res, 0, 1), NULL, 10);
    }
    db_res_free(res);
    return ok;
}

bool copy_plan_load(db_conn *snap, copy_table_filter selected, const void *selected_arg,
                    bool binary_allowed, copy_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    return load_tables(snap, selected, selected_arg, binary_allowed, plan) &&
           load_indexes(snap, plan) && load_large_objects(snap, plan);
}

void copy_plan_free(copy_plan *plan)
{
    for (int i = 0; i < plan->ntables; i++) {
        copy_table *t = &plan->tables[i];
        for (int j = 0; j < t->nindexes; j++) {
            free(t->indexes[j].name);
            free(t->indexes[j].sql);
        }
        free(t->indexes);
        free(t->schema);
        free(t->name);
        free(t->qname);
        free(t->columns);
    }
    free(plan->tables);
    memset(plan, 0, sizeof *plan);
}

bool copy_plan_builds(const copy_plan *plan, unsigned catalog_oid, unsigned object_oid)
{
    for (int i = 0; i < plan->ntables; i++) {
        const copy_table *t = &plan->tables[i];
        for (int j = 0; t->selected && j < t->nindexes; j++)
            if (t->indexes[j].catalog_oid == catalog_oid && t->indexes[j].object_oid == object_oid)
                return true;
    }
    return false;
}

/* ---- work queue ------------------------------------------------------------ */

typedef enum item_kind {
    ITEM_COPY,     /* a whole table, or one page range of it */
    ITEM_INDEX,    /* one index or key constraint */
    ITEM_LARGEOBJ, /* every large object */
} item_kind;

typedef struct work_item {
    item_kind kind;
    int table;          /* index into plan->tables (not for ITEM_LARGEOBJ) */
    int index;          /* ITEM_INDEX: index into the table's indexes */
    bool whole;         /* ITEM_COPY: the whole table in one item */
    int64_t first_page; /* ITEM_COPY range: first heap page */
    int64_t end_page;   /* ITEM_COPY range: page after the last, -1 = to the end */
} work_item;

/* A FIFO of items (fixed capacity, computed up front). */
typedef struct fifo {
    work_item *items; /* owned */
    int head, tail, cap;
} fifo;

struct worker;

typedef struct copy_shared {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    fifo urgent, main, late; /* taken in this order */
    int outstanding;         /* items queued or running */
    atomic_int abort_flag;   /* set when the pool stops (on_stop: the first
                              * failure or a stop signal); atomic: the
                              * workers poll it without the lock */
    bool gate_open;          /* before_data is done: items may be taken */
    copy_plan *plan;
    const copy_run_opts *opts;
    struct worker *workers;            /* one per pool worker; owned */
    atomic_int_fast64_t lo_bytes_done; /* large objects: bytes copied (atomic) */
    bool lo_finished;                  /* the large objects are all copied */
    /* main thread only (the supervisor's tick): */
    int64_t started_ms, last_state_ms, last_log_ms;
} copy_shared;

static void fifo_init(fifo *f, int cap)
{
    f->items = xcalloc((size_t)cap + 1, sizeof(work_item));
    f->head = f->tail = 0;
    f->cap = cap + 1;
}

static void fifo_push(fifo *f, work_item it)
{
    f->items[f->tail] = it;
    f->tail = (f->tail + 1) % f->cap;
}

static bool fifo_pop(fifo *f, work_item *out)
{
    if (f->head == f->tail)
        return false;
    *out = f->items[f->head];
    f->head = (f->head + 1) % f->cap;
    return true;
}

/* Push under the lock (caller holds it). */
static void queue_push(copy_shared *sh, fifo *f, work_item it)
{
    fifo_push(f, it);
    sh->outstanding++;
    pthread_cond_broadcast(&sh->cond);
}

/* Take the next item, waiting while others may still produce some. False
 * when there is nothing left to do (or the run is aborted). */
static bool queue_take(copy_shared *sh, work_item *out)
{
    pthread_mutex_lock(&sh->lock);
    for (;;) {
        if (atomic_load(&sh->abort_flag)) {
            pthread_mutex_unlock(&sh->lock);
            return false;
        }
        if (!sh->gate_open) {
            pthread_cond_wait(&sh->cond, &sh->lock);
            continue;
        }
        if (fifo_pop(&sh->urgent, out) || fifo_pop(&sh->main, out) || fifo_pop(&sh->late, out)) {
            pthread_mutex_unlock(&sh->lock);
            return true;
        }
        if (sh->outstanding == 0) {
            pthread_mutex_unlock(&sh->lock);
            return false;
        }
        pthread_cond_wait(&sh->cond, &sh->lock);
    }
}

/* The pool stopped (runtime's on_stop): wake the workers waiting for
 * items, so that they leave. */
static void abort_run(void *arg)
{
    copy_shared *sh = arg;
    pthread_mutex_lock(&sh->lock);
    atomic_store(&sh->abort_flag, 1);
    pthread_cond_broadcast(&sh->cond);
    pthread_mutex_unlock(&sh->lock);
}

/* What a finished item completed, for the audit trail. */
typedef struct item_outcome {
    bool table_copied; /* its table's last part */
    int64_t rows, bytes;
    double ms;
} item_outcome;

/* An item is done: update the table and queue what it unlocks. */
static item_outcome item_done(copy_shared *sh, const work_item *it)
{
    item_outcome out = {0};
    pthread_mutex_lock(&sh->lock);
    copy_table *t = it->kind == ITEM_LARGEOBJ ? NULL : &sh->plan->tables[it->table];
    if (it->kind == ITEM_COPY && --t->parts_left == 0) {
        out = (item_outcome){.table_copied = true,
                             .rows = t->rows,
                             .bytes = t->bytes,
                             .ms = (mono_now() - t->started) * 1000};
        t->state = t->nindexes > 0 ? "copied" : "indexed";
        t->dirty = true;
        t->indexes_left = t->nindexes;
        for (int j = 0; j < t->nindexes; j++)
            queue_push(sh, &sh->urgent,
                       (work_item){.kind = ITEM_INDEX, .table = it->table, .index = j});
    } else if (it->kind == ITEM_INDEX && --t->indexes_left == 0) {
        t->state = "indexed";
        t->dirty = true;
    } else if (it->kind == ITEM_LARGEOBJ) {
        sh->lo_finished = true;
    }
    sh->outstanding--;
    pthread_cond_broadcast(&sh->cond);
    pthread_mutex_unlock(&sh->lock);
    return out;
}

/* ---- one worker ------------------------------------------------------------ */

typedef struct worker {
    copy_shared *sh;
    worker_slot *slot; /* the runtime's handle */
    int id;
    db_conn *src; /* imports the snapshot; owned */
    db_conn *dst; /* owned */
    char *buf;    /* COPY_BUFSZ bytes; owned */
} worker;

static bool worker_connect(worker *w)
{
    const copy_run_opts *opts = w->sh->opts;
    char app[64];
    snprintf(app, sizeof app, "pgbaton copy %d", w->id);
    db_connect_opts co = {.mode = DB_MODE_NORMAL, .application_name = app};
    w->src = db_connect(opts->source, DB_SOURCE, &co, NULL, NULL);
    if (!w->src)
        return false;
    (void)worker_watch(w->slot, w->src); /* a stop cancels its COPY */
    bool ok = db_begin_snapshot(w->src, opts->snapshot) &&
              db_command(w->src, "SET LOCAL extra_float_digits = 3; SET LOCAL DateStyle = ISO; "
                                 "SET LOCAL IntervalStyle = postgres; SET LOCAL TimeZone = UTC; "
                                 "SET LOCAL bytea_output = hex; SET LOCAL statement_timeout = 0");
    if (!ok) {
        log_error("copy worker %d could not import the snapshot on the source (see above)", w->id);
        return false;
    }
    co.client_encoding = opts->source_encoding;
    w->dst = db_connect(opts->target, DB_TARGET, &co, NULL, NULL);
    if (w->dst)
        (void)worker_watch(w->slot, w->dst); /* and its COPY, CREATE INDEX */
    return w->dst &&
           db_command(w->dst, "SET synchronous_commit = off; SET DateStyle = ISO; "
                              "SET IntervalStyle = postgres; SET TimeZone = UTC; "
                              "SET statement_timeout = 0; SET maintenance_work_mem = '256MB'");
}

/* Add DELTA bytes / MSGS COPY messages to table T's counters. */
static void publish(copy_shared *sh, copy_table *t, int64_t delta, int64_t msgs)
{
    pthread_mutex_lock(&sh->lock);
    t->bytes += delta;
    t->rows += msgs;
    t->dirty = true;
    pthread_mutex_unlock(&sh->lock);
}

/* Send one batch of COPY rows to the target (failpoint copy.rows). */
static bool put_batch(worker *w, const char *buf, int len)
{
    if (!db_copy_put(w->dst, buf, len))
        return false;
    failpoint("copy.rows");
    return true;
}

/* Stream COPY data from w->src to w->dst until the end of the COPY. */
static bool pump(worker *w, copy_table *t, int64_t *msgs_out)
{
    size_t used = 0;
    int64_t unpublished = 0, msgs = 0, msgs_published = 0;
    for (;;) {
        if (atomic_load(&w->sh->abort_flag))
            return false;
        char *row = NULL;
        int n = db_copy_get(w->src, &row, false);
        if (n == DB_COPY_DONE)
            break;
        if (n < 0) {
            db_report(w->src, DB_LOG, NULL, t->qname);
            return false;
        }
        if (used + (size_t)n > COPY_BUFSZ && used > 0) {
            if (!put_batch(w, w->buf, (int)used))
                goto put_failed;
            used = 0;
        }
        if ((size_t)n > COPY_BUFSZ) {
            if (!put_batch(w, row, n))
                goto put_failed;
        } else {
            memcpy(w->buf + used, row, (size_t)n);
            used += (size_t)n;
        }
        db_copy_free(row);
        row = NULL;
        msgs++;
        unpublished += n;
        if (unpublished >= PUBLISH_EVERY) {
            publish(w->sh, t, unpublished, msgs - msgs_published);
            msgs_published = msgs;
            unpublished = 0;
        }
        continue;
    put_failed:
        db_copy_free(row);
        db_report(w->dst, DB_LOG, NULL, t->qname);
        return false;
    }
    if (used > 0 && !put_batch(w, w->buf, (int)used)) {
        db_report(w->dst, DB_LOG, NULL, t->qname);
        return false;
    }
    publish(w->sh, t, unpublished, msgs - msgs_published);
    *msgs_out = msgs;
    return true;
}

static char *copy_sql_source(const copy_table *t, const work_item *it)
{
    const char *fmt = t->binary ? " WITH (FORMAT binary)" : "";
    size_t n = strlen(t->qname) + strlen(t->columns) + 256;
    char *sql = xmalloc(n);
    if (it->whole && t->columns[0])
        snprintf(sql, n, "COPY %s (%s) TO STDOUT%s", t->qname, t->columns, fmt);
    else if (it->whole)
        snprintf(sql, n, "COPY %s TO STDOUT%s", t->qname, fmt);
    else if (it->end_page >= 0)
        snprintf(sql, n,
                 "COPY (SELECT %s FROM ONLY %s WHERE ctid >= '(%" PRId64 ",0)'::tid AND ctid < "
                 "'(%" PRId64 ",0)'::tid) TO STDOUT%s",
                 t->columns, t->qname, it->first_page, it->end_page, fmt);
    else
        snprintf(sql, n,
                 "COPY (SELECT %s FROM ONLY %s WHERE ctid >= '(%" PRId64 ",0)'::tid) TO STDOUT%s",
                 t->columns, t->qname, it->first_page, fmt);
    return sql;
}

static char *copy_sql_target(const copy_table *t, bool freeze)
{
    size_t n = strlen(t->qname) + strlen(t->columns) + 128;
    char *sql = xmalloc(n);
    snprintf(sql, n, "COPY %s%s%s%s FROM STDIN WITH (FORMAT %s%s)", t->qname,
             t->columns[0] ? " (" : "", t->columns, t->columns[0] ? ")" : "",
             t->binary ? "binary" : "text", freeze ? ", FREEZE" : "");
    return sql;
}

static bool run_copy(worker *w, const work_item *it)
{
    copy_shared *sh = w->sh;
    copy_table *t = &sh->plan->tables[it->table];
    pthread_mutex_lock(&sh->lock);
    if (strcmp(t->state, "pending") == 0) {
        t->state = "copying";
        t->dirty = true;
        t->started = mono_now();
    }
    pthread_mutex_unlock(&sh->lock);

    char *ssql = copy_sql_source(t, it);
    char *tsql = copy_sql_target(t, it->whole);
    bool ok = true;
    if (it->whole) {
        char trunc[1024];
        snprintf(trunc, sizeof trunc, "BEGIN; TRUNCATE ONLY %s", t->qname);
        ok = db_command(w->dst, trunc);
    }
    ok = ok && db_copy_start(w->dst, DB_LOG, tsql, DB_RES_COPY_IN, t->qname) &&
         db_copy_start(w->src, DB_LOG, ssql, DB_RES_COPY_OUT, t->qname);
    int64_t msgs = 0, rows = 0;
    ok = ok && pump(w, t, &msgs) && db_copy_finish(w->src, t->qname, NULL);
    if (ok) {
        if (!db_copy_end(w->dst, NULL)) {
            db_report(w->dst, DB_LOG, NULL, t->qname);
            ok = false;
        }
    }
    ok = ok && db_copy_finish(w->dst, t->qname, &rows);
    if (ok && it->whole)
        ok = db_command(w->dst, "COMMIT");
    if (ok) {
        /* the exact count replaces the message count (binary COPY sends a
         * trailer message) */
        publish(sh, t, 0, rows - msgs);
        log_debug("copied %s%s: %" PRId64 " rows", t->qname, it->whole ? "" : " (range)", rows);
    }
    free(ssql);
    free(tsql);
    return ok;
}

static int64_t now_ms(void)
{
    return (int64_t)(mono_now() * 1000.0);
}

/* Run SQL on DB; with -v, log "VERB WHAT in N ms" when it succeeds. */
static bool timed_command(db_conn *db, const char *sql, const char *verb, const char *what)
{
    int64_t t0 = now_ms();
    bool ok = db_command(db, sql);
    if (ok)
        log_debug("%s %s in %" PRId64 " ms", verb, what, now_ms() - t0);
    return ok;
}

static bool run_item(worker *w, const work_item *it)
{
    copy_shared *sh = w->sh;
    switch (it->kind) {
    case ITEM_COPY:
        return run_copy(w, it);
    case ITEM_INDEX: {
        const copy_index *ix = &sh->plan->tables[it->table].indexes[it->index];
        log_debug("building %s on the target", ix->name);
        double t0 = mono_now();
        if (!timed_command(w->dst, ix->sql, "built", ix->name))
            return false;
        (void)state_auditf(w->dst, sh->opts->migration, DB_TARGET, "index built", ix->name, true,
                           (mono_now() - t0) * 1000, NULL);
        failpoint("copy.index");
        return true;
    }
    case ITEM_LARGEOBJ: {
        int64_t count = 0;
        return largeobj_copy(w->src, w->dst,
                             sh->opts->lo_owners ? LARGEOBJ_KEEP_OWNER : LARGEOBJ_NO_OWNER, &count,
                             &sh->lo_bytes_done, &sh->abort_flag);
    }
    }
    return false;
}

static const char *item_label(const copy_shared *sh, const work_item *it)
{
    return it->kind == ITEM_LARGEOBJ ? "large objects" : sh->plan->tables[it->table].qname;
}

/* The body of one worker (the runtime's worker_fn). Failures are recorded
 * in the pool (worker_pool_fail), so it always returns true. */
static bool worker_body(worker_slot *slot, void *arg)
{
    copy_shared *sh = arg;
    worker_pool *pool = worker_pool_of(slot);
    worker *w = &sh->workers[worker_index(slot)];
    *w = (worker){.sh = sh, .slot = slot, .id = worker_index(slot) + 1};
    w->buf = xmalloc(COPY_BUFSZ);
    if (!worker_connect(w)) {
        if (!worker_stopping(slot))
            worker_pool_fail(pool, "copy worker %d could not connect (see above)", w->id);
    } else {
        work_item it;
        while (queue_take(sh, &it)) {
            if (!run_item(w, &it)) {
                /* once the pool stops, failures are its cancellations */
                if (!worker_stopping(slot))
                    worker_pool_fail(pool, "copy of %s failed: %s", item_label(sh, &it),
                                     w->dst->err.text ? w->dst->err.text
                                                      : db_errtext(w->src, "see above"));
                pthread_mutex_lock(&sh->lock);
                if (it.kind != ITEM_LARGEOBJ) {
                    sh->plan->tables[it.table].state = "failed";
                    sh->plan->tables[it.table].dirty = true;
                }
                pthread_mutex_unlock(&sh->lock);
                break;
            }
            item_outcome done = item_done(sh, &it);
            if (done.table_copied)
                (void)state_auditf(w->dst, sh->opts->migration, DB_TARGET, "table copied",
                                   sh->plan->tables[it.table].qname, true, done.ms,
                                   "%" PRId64 " rows, %" PRId64 " bytes of COPY data", done.rows,
                                   done.bytes);
        }
    }
    worker_unwatch(slot, w->src);
    worker_unwatch(slot, w->dst);
    db_close(w->src);
    db_close(w->dst);
    w->src = w->dst = NULL;
    free(w->buf);
    w->buf = NULL;
    return true;
}

/* ---- main thread: queue, progress, state ------------------------------------ */

/* Never split a table smaller than this by default: a range cannot use COPY
 * FREEZE, so its rows arrive without hint bits and the first scan of the
 * table (its primary key build) sets them on every page. Measured on a
 * 384 MB table and 2 cores (bench W1a): copy + key build 3.55 s split in two
 * ranges, 3.3 s whole. Splitting pays off when the table takes long enough
 * to copy that running ranges side by side saves more than that. */
#define AUTO_SPLIT_MIN ((int64_t)1 << 30)
#define MAX_PARTS      1024

int64_t copy_split_threshold(int64_t split_larger_than, int jobs, int64_t total_bytes)
{
    if (split_larger_than > 0)
        return split_larger_than;
    int64_t share = total_bytes / (jobs > 0 ? jobs : 1);
    return share > AUTO_SPLIT_MIN ? share : AUTO_SPLIT_MIN;
}

int copy_split_parts(int64_t size_bytes, int64_t pages, int64_t threshold, int jobs)
{
    if (size_bytes <= threshold || pages < 2)
        return 1;
    int64_t parts = (size_bytes + threshold - 1) / threshold;
    if (jobs > 1)
        parts = (parts + jobs - 1) / jobs * jobs;
    if (parts > pages)
        parts = pages;
    return parts > MAX_PARTS ? MAX_PARTS : (int)parts;
}

void copy_split_range(int64_t pages, int parts, int p, int64_t *first_page, int64_t *end_page)
{
    *first_page = pages * p / parts;
    *end_page = p == parts - 1 ? -1 : pages * (p + 1) / parts;
}

static int run_jobs(const copy_run_opts *opts)
{
    return opts->jobs > 0 ? opts->jobs : 1;
}

/* The split threshold of this plan (copy_split_threshold over the bytes of
 * its selected plain tables). */
static int64_t split_threshold(const copy_run_opts *opts, const copy_plan *plan)
{
    int64_t total = 0;
    for (int i = 0; i < plan->ntables; i++)
        if (plan->tables[i].selected && plan->tables[i].relkind == 'r')
            total += plan->tables[i].size_bytes;
    return copy_split_threshold(opts->split_larger_than, run_jobs(opts), total);
}

static int split_parts(const copy_table *t, int64_t threshold, int jobs)
{
    return copy_split_parts(t->size_bytes, t->pages, threshold, jobs);
}

/* Queue the COPY items (largest first) and the large objects; returns the
 * number of items. */
static int fill_queue(copy_shared *sh)
{
    const copy_run_opts *opts = sh->opts;
    copy_plan *plan = sh->plan;
    int64_t threshold = split_threshold(opts, plan);
    int jobs = run_jobs(opts);
    int count = 0, cap = 0;
    for (int i = 0; i < plan->ntables; i++) {
        copy_table *t = &plan->tables[i];
        if (!t->selected || t->relkind != 'r')
            continue;
        cap += split_parts(t, threshold, jobs) + t->nindexes + 1;
    }
    fifo_init(&sh->main, cap + 1);
    fifo_init(&sh->urgent, cap + 1);
    fifo_init(&sh->late, cap + 1);
    bool lo_queued = false;
    for (int i = 0; i < plan->ntables; i++) {
        copy_table *t = &plan->tables[i];
        if (!t->selected || t->relkind != 'r')
            continue;
        /* the large objects go in by size among the tables */
        if (opts->large_objects && plan->lo_count > 0 && !lo_queued &&
            plan->lo_bytes >= t->size_bytes) {
            queue_push(sh, &sh->main, (work_item){.kind = ITEM_LARGEOBJ});
            lo_queued = true;
            count++;
        }
        int parts = split_parts(t, threshold, jobs);
        if (parts == 1) {
            t->parts_left = 1;
            queue_push(sh, &sh->main, (work_item){.kind = ITEM_COPY, .table = i, .whole = true});
            count++;
            continue;
        }
        t->parts_left = parts;
        for (int p = 0; p < parts; p++) {
            int64_t first, end;
            copy_split_range(t->pages, parts, p, &first, &end);
            queue_push(
                sh, &sh->main,
                (work_item){.kind = ITEM_COPY, .table = i, .first_page = first, .end_page = end});
            count++;
        }
        log_info("%s (%" PRId64 " MB) is copied in %d parallel ranges", t->qname,
                 t->size_bytes >> 20, parts);
    }
    if (opts->large_objects && plan->lo_count > 0 && !lo_queued) {
        queue_push(sh, &sh->late, (work_item){.kind = ITEM_LARGEOBJ});
        count++;
    }
    return count;
}

typedef struct progress_totals {
    int tables_total, tables_copied;
    int64_t bytes_total, bytes_done;
} progress_totals;

/* Write changed table rows to the state table (main thread). */
static void flush_state(copy_shared *sh, progress_totals *pt)
{
    copy_plan *plan = sh->plan;
    const copy_run_opts *opts = sh->opts;
    memset(pt, 0, sizeof *pt);
    for (int i = 0; i < plan->ntables; i++) {
        copy_table *t = &plan->tables[i];
        if (!t->selected || t->relkind != 'r')
            continue;
        pthread_mutex_lock(&sh->lock);
        bool dirty = t->dirty;
        const char *state = t->state;
        int64_t rows = t->rows, bytes = t->bytes;
        t->dirty = false;
        pthread_mutex_unlock(&sh->lock);
        pt->tables_total++;
        if (strcmp(state, "copied") == 0 || strcmp(state, "indexed") == 0)
            pt->tables_copied++;
        pt->bytes_total += t->size_bytes;
        bool done = strcmp(state, "copied") == 0 || strcmp(state, "indexed") == 0;
        pt->bytes_done += done || bytes > t->size_bytes ? t->size_bytes : bytes;
        if (dirty && opts->state &&
            !state_table_update(opts->state, opts->migration, t->schema, t->name, state, rows,
                                bytes))
            log_warn("could not record the progress of %s in the target's state table", t->qname);
    }
    if (opts->large_objects && plan->lo_count > 0) {
        pt->bytes_total += plan->lo_bytes;
        pthread_mutex_lock(&sh->lock);
        bool finished = sh->lo_finished;
        pthread_mutex_unlock(&sh->lock);
        int64_t lo = finished ? plan->lo_bytes : (int64_t)atomic_load(&sh->lo_bytes_done);
        pt->bytes_done += lo < plan->lo_bytes ? lo : plan->lo_bytes;
    }
}

static void log_progress(const progress_totals *pt, int64_t elapsed_ms, bool final)
{
    double pct =
        pt->bytes_total > 0 ? 100.0 * (double)pt->bytes_done / (double)pt->bytes_total : 100.0;
    double mbs =
        elapsed_ms > 0 ? (double)pt->bytes_done / 1048576.0 / ((double)elapsed_ms / 1000) : 0;
    if (log_stderr_is_tty() && !final) {
        char bar[31];
        int fill = (int)(pct * 30 / 100);
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r[%s] %5.1f%%  %d/%d tables  %.1f MB/s ", bar, pct, pt->tables_copied,
                pt->tables_total, mbs);
        fflush(stderr);
        return;
    }
    if (log_stderr_is_tty())
        fprintf(stderr, "\n");
    log_info("copy: %d/%d tables, %.1f of %.1f MB (%.0f%%), %.1f MB/s", pt->tables_copied,
             pt->tables_total, (double)pt->bytes_done / 1048576.0,
             (double)pt->bytes_total / 1048576.0, pct, mbs);
}

/* The supervisor's tick (main thread, about every 100 ms and when a worker
 * leaves): the state rows every STATE_EVERY_MS, progress every
 * PROGRESS_EVERY_MS (a bar on a terminal, redrawn with the state). */
static void supervise_tick(void *arg)
{
    copy_shared *sh = arg;
    int64_t now = now_ms();
    if (now - sh->last_state_ms < STATE_EVERY_MS)
        return;
    progress_totals pt;
    flush_state(sh, &pt);
    sh->last_state_ms = now;
    if (now - sh->last_log_ms >= PROGRESS_EVERY_MS || log_stderr_is_tty()) {
        log_progress(&pt, now - sh->started_ms, false);
        if (now - sh->last_log_ms >= PROGRESS_EVERY_MS)
            sh->last_log_ms = now;
    }
}

bool copy_run(const copy_run_opts *opts, copy_plan *plan)
{
    copy_shared sh = {.plan = plan, .opts = opts};
    atomic_init(&sh.abort_flag, 0);
    atomic_init(&sh.lo_bytes_done, 0);
    pthread_mutex_init(&sh.lock, NULL);
    pthread_cond_init(&sh.cond, NULL);
    int nitems = fill_queue(&sh);
    int nworkers = run_jobs(opts) < nitems ? run_jobs(opts) : nitems;
    sh.workers = xcalloc((size_t)nworkers + 1, sizeof(worker));
    worker_pool *pool = NULL;
    if (nworkers > 0)
        pool = worker_pool_start(&(worker_pool_opts){
            .name = "copy",
            .nworkers = nworkers,
            .run = worker_body,
            .arg = &sh,
            .on_stop = abort_run,
            .tick = supervise_tick,
            .signal_message = "the copy was interrupted by a stop signal",
        });
    /* the workers connect and import the snapshot while before_data runs */
    bool prepared = !opts->before_data || opts->before_data(opts->before_data_arg);
    if (!prepared && pool)
        worker_pool_stop(pool); /* cancels the workers' snapshot imports too */
    pthread_mutex_lock(&sh.lock);
    sh.gate_open = true;
    pthread_cond_broadcast(&sh.cond);
    pthread_mutex_unlock(&sh.lock);
    if (prepared)
        log_info("copying %d items with %d workers", nitems, nworkers);
    sh.started_ms = sh.last_state_ms = sh.last_log_ms = now_ms();
    char *first_error = NULL;
    bool ok = !pool || worker_pool_wait(pool, &first_error);
    ok = ok && prepared && !atomic_load(&sh.abort_flag) && sh.outstanding == 0;
    progress_totals pt;
    flush_state(&sh, &pt);
    if (ok)
        log_progress(&pt, now_ms() - sh.started_ms, true);
    if (!ok && prepared) {
        log_error("%s", first_error ? first_error : "the copy did not complete");
        (void)state_auditf(opts->state, opts->migration, DB_TARGET, "copy stopped", NULL, false,
                           (double)(now_ms() - sh.started_ms), "%s",
                           first_error ? first_error : "the copy did not complete");
    }
    free(first_error);
    free(sh.main.items);
    free(sh.urgent.items);
    free(sh.late.items);
    free(sh.workers);
    pthread_mutex_destroy(&sh.lock);
    pthread_cond_destroy(&sh.cond);
    return ok;
}
