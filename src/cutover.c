/*
 * src/cutover.c — `pgbaton cutover`: hand the database over to the target.
 *
 * How it works (steps as the user sees them):
 *   1. Wait (up to --timeout) until `start` is alive and lag is below
 *      --max-lag. Nothing has been changed yet: on timeout, exit 4.
 *   2. Record in the state (target) phase 'cutover', frozen_at and the
 *      source's previous read-only setting, THEN freeze the source
 *      (src/freeze.c): read-only default for the database, other client
 *      sessions ended. From here until the end, any failure, timeout or
 *      SIGINT/SIGTERM unfreezes the source, puts the state back to
 *      'streaming' and exits 4.
 *   3. Write the fence (a non-transactional logical message, flushed at
 *      once) on the source; wait until the running `start` has applied it
 *      (fence_applied_*), woken by NOTIFY pgbaton_state (src/state.c).
 *   4. Fail if the applier saw data changes after the fence; with pgoutput
 *      and a FOR TABLE publication, fail if a selected table of the source
 *      is not in it (created after start: none of its changes streamed).
 *   5. Copy every unlogged table of the migration up to
 *      --unlogged-recopy-max again in full from the frozen source (their
 *      changes are not in the WAL; a crash restart empties them), then every
 *      sequence's last_value/is_called, to the target.
 *   6. Compare row counts of every table, unless --skip-count: one worker
 *      per side on the worker runtime; the source's counts from the end of
 *      step 2 on, beside steps 3-5, the target's once step 5 is done. A difference of an unlogged
 *      table left as copied at the start (above --unlogged-recopy-max) is a
 *      WARN, not a rollback.
 *   7. Mark the migration 'done' (only if still nothing after the fence) and,
 *      in the same target transaction, put back the source's modes of the
 *      user triggers and rules that start switched off (src/triggers.c);
 *      wait briefly for `start` to leave the slot, NOTIFY pgbaton_cutover,
 *      run --exec, print the write-unavailability and the final line.
 * The deadline of steps 2-7 is --timeout from the start of the freeze.
 *
 * A killed cutover leaves phase 'cutover' with frozen_at set and no cutover
 * session on the source (its session is named STATUS_APPNAME_CUTOVER+name);
 * `status` reports it; a new `cutover` resumes (re-asserts the freeze, then
 * step 3 on) and `abort` unfreezes. Killed between recording the freeze and
 * applying it, the source is writable: status_read asks the source whether
 * the freeze is in effect (freeze_in_effect), status says it is not, abort
 * has nothing to unfreeze, and a new `cutover` puts the state back to
 * 'streaming' and starts from step 1. A second cutover of a done migration
 * says so and exits 0.
 *
 * After 'done' the source stays frozen: the target is authoritative. A
 * failing --exec hook then exits 1 (the target is ready nonetheless). The
 * hook is started with posix_spawn (src/pgtools.c), its environment built
 * beforehand; with --json its stdout goes to our stderr, so that stdout
 * holds only the one JSON object.
 *
 * Failures before the freeze change nothing and exit 4 ("not started");
 * failures after it unfreeze the source (on a new session when the
 * cutover's own is lost) and exit 4, or exit 1 when the source could not
 * be unfrozen, saying so. --json prints one object on every path.
 */
#include "analyze.h"
#include "cli.h"
#include "db_async.h"
#include "failpoint.h"
#include "filter.h"
#include "freeze.h"
#include "log.h"
#include "mono.h"
#include "pgtools.h"
#include "signals.h"
#include "sqlstate.h"
#include "state.h"
#include "state_audit.h"
#include "state_read.h"
#include "sql_embed.h"
#include "status.h"
#include "strutil.h"
#include "triggers.h"
#include "worker.h"
#include "xalloc.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POLL_NS         (100 * 1000 * 1000)
#define START_STOP_WAIT 10.0 /* seconds to wait for `start` to leave the slot */
#define FENCE_RECHECK_S 1.0  /* wait_fence re-reads at least this often */

/* What the source is known to be, for the user and for --json. */
typedef enum source_state {
    SOURCE_UNKNOWN,  /* not looked at yet */
    SOURCE_WRITABLE, /* not frozen by this cutover, or unfrozen again */
    SOURCE_FROZEN,   /* frozen (or being frozen): a failure must unfreeze it */
} source_state;

typedef struct cutover_ctx {
    const pgb_options *o;
    conninfo *sci, *tci; /* owned */
    db_conn *src, *tgt;  /* owned; NULL when a reconnect failed */
    char *slot_name;     /* owned */
    char *publication;   /* pgoutput's publication, NULL with wal2json; owned */
    char *database;      /* source database frozen; owned */
    char *prev;          /* its previous read-only setting, NULL = none; owned */
    source_state source;
    double deadline; /* monotonic; steps 2-7 */
    double count_ms; /* NAN when skipped */
    int sequences;   /* copied */
    int tables_compared;
    double write_unavailable_ms;
    struct unlogged_table *unlogged; /* the migration's unlogged tables; owned */
    struct count_set *counts;        /* step 6's, from the freeze on; owned */
    state_audit_queue audit;         /* actions taken, written after the window */
    double fence_written_at;         /* mono_now() */
    int nunlogged;
    int exec_status;    /* -1 when no hook */
    const char *result; /* --json status: "done", "rolled_back", "not_started" */
    char error[1024];   /* why it failed */
    const char *step;   /* the step that failed */
} cutover_ctx;

static void nap(void)
{
    struct timespec ts = {.tv_nsec = POLL_NS};
    nanosleep(&ts, NULL);
}

/* Record why step STEP failed (printf-style). Always returns false. */
static bool fail(cutover_ctx *c, const char *step, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(cutover_ctx *c, const char *step, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
    c->step = step;
    return false;
}

/* Fail because WHAT failed on DB: with the server's error (already logged
 * by the wrapper), or, when the query ran but its answer had the wrong
 * shape (db_check_shape logged that), saying so. */
static bool fail_db(cutover_ctx *c, const char *step, db_conn *db, const char *what)
{
    if (db->err.text)
        return fail(c, step, "%s: %s failed: %s", db_side_name(db->side), what, db->err.text);
    return fail(c, step, "%s: %s failed: unexpected answer from the server", db_side_name(db->side),
                what);
}

/* Fail with *WHY (from freeze.h; freed here). */
static bool fail_freeze(cutover_ctx *c, const char *step, char *why)
{
    fail(c, step, "%s", why ? why : "source: the freeze failed");
    free(why);
    return false;
}

static bool past_deadline(cutover_ctx *c, const char *step)
{
    if (signals_stop_requested())
        return !fail(c, step, "interrupted by a signal");
    if (mono_now() > c->deadline)
        return !fail(c, step, "--timeout (%.0f s) exceeded", c->o->timeout);
    return false;
}

/* --- step 1 -------------------------------------------------------------- */

/* Prepared transactions of the source database, or -1 when the query
 * failed (logged). */
static int prepared_xacts(db_conn *src)
{
    char *v =
        db_scalar(src, "SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database()",
                  0, NULL, NULL);
    int n = v ? atoi(v) : -1;
    free(v);
    return n;
}

/* Is the migration ready for the freeze? WHY says what it waits for. False
 * with c->error set when the state or the source cannot be read. */
static bool lag_ready(cutover_ctx *c, bool *ready, char *why, size_t whylen)
{
    status_snapshot s;
    if (!status_read(c->src, c->tgt, c->o->name, NULL, &s)) {
        status_free(&s);
        return fail_db(c, "wait for lag", c->tgt, "reading the migration's state");
    }
    int nprep = s.source_ok ? prepared_xacts(c->src) : 0;
    bool ok = nprep >= 0;
    *ready = false;
    if (!s.found)
        snprintf(why, whylen, "migration %s is gone from the target", c->o->name);
    else if (!s.source_ok)
        snprintf(why, whylen, "source: %s", s.source_error ? s.source_error : "unreachable");
    else if (nprep < 0)
        fail_db(c, "wait for lag", c->src, "counting prepared transactions");
    else if (s.last_error && !s.alive) {
        /* start has stopped, and an error is recorded (the one start stopped
         * on, or an earlier cutover's): waiting would not help */
        fail(c, "wait for lag",
             "`pgbaton start` is not running, and the last error recorded is: %s; fix that, run "
             "pgbaton start again (it resumes where it stopped), then pgbaton cutover",
             s.last_error);
        ok = false;
    } else if (!s.alive)
        snprintf(why, whylen, "`pgbaton start` is not running (no heartbeat)");
    else if (nprep > 0)
        snprintf(why, whylen, "%d prepared transaction(s) pending on the source", nprep);
    else if (isnan(s.lag_seconds) || s.lag_seconds >= c->o->max_lag)
        snprintf(why, whylen, "lag is %.1f s (%lld bytes), above --max-lag %.3g s", s.lag_seconds,
                 (long long)s.lag_bytes, c->o->max_lag);
    else {
        *ready = true;
        log_info("step 1/7: lag %.3f s (%lld bytes) is below --max-lag %.3g s", s.lag_seconds,
                 (long long)s.lag_bytes, c->o->max_lag);
    }
    status_free(&s);
    return ok;
}

/* Wait for lag < max-lag. True when reached; false (c->error set, nothing
 * changed) on timeout, signal or error. */
static bool wait_for_lag(cutover_ctx *c)
{
    double deadline = mono_now() + c->o->timeout, next_note = 0;
    char why[512] = "";
    for (;;) {
        bool ready = false;
        if (!lag_ready(c, &ready, why, sizeof why))
            return false;
        if (ready)
            return true;
        if (mono_now() > deadline || signals_stop_requested())
            return fail(c, "wait for lag", "%s after %s", why,
                        signals_stop_requested() ? "a signal" : "--timeout");
        if (mono_now() > next_note) {
            log_info("step 1/7: waiting: %s", why);
            next_note = mono_now() + 5;
        }
        nap();
    }
}

/* --- step 2 -------------------------------------------------------------- */

static bool record_and_freeze(cutover_ctx *c)
{
    char *why = NULL;
    if (!freeze_read_prev(c->src, &c->database, &c->prev, &why))
        return fail_freeze(c, "freeze", why);
    long rows = 0;
    if (!state_cutover_begin(c->tgt, c->o->name, c->database, c->prev, &rows))
        return fail_db(c, "freeze", c->tgt, "recording the freeze in the state");
    if (rows != 1)
        return fail(c, "freeze",
                    "the migration left phase 'streaming' meanwhile (an abort, or another "
                    "cutover?): see `pgbaton status`");
    /* recorded: from here on a failure unfreezes, whatever got done */
    c->source = SOURCE_FROZEN;
    c->deadline = mono_now() + c->o->timeout;
    failpoint("cutover.freeze-recorded");
    log_info("step 2/7: freezing source database %s (read-only for every role)", c->database);
    double t0 = mono_now();
    long ended = 0;
    bool ok = freeze_apply(c->src, c->database, c->deadline - mono_now(), &ended, &why);
    double ms = (mono_now() - t0) * 1000;
    if (!ok) {
        state_audit_queuef(&c->audit, DB_SOURCE, "source frozen", c->database, false, ms, "%s",
                           why ? why : "the freeze failed");
        return fail_freeze(c, "freeze", why);
    }
    state_audit_queuef(&c->audit, DB_SOURCE, "source frozen", c->database, true, ms,
                       "read-only for every role; %ld session(s) that could write ended", ended);
    return true;
}

/* --- steps 3 and 4 ------------------------------------------------------- */

/* Write the fence on the source (flushed at once) and record it in the
 * state. The target session LISTENs first, so that the applier's commit of
 * the fence (NOTIFY pgbaton_state) cannot be missed. */
static bool write_fence(cutover_ctx *c)
{
    if (!state_listen(c->tgt))
        return fail_db(c, "fence", c->tgt, "LISTEN " STATE_CHANNEL);
    lsn_t fence = LSN_INVALID;
    if (!state_fence_write(c->src, c->o->name, &fence))
        return fail_db(c, "fence", c->src, "writing the fence message");
    long rows = 0;
    if (!state_fence_record(c->tgt, c->o->name, fence, &rows))
        return fail_db(c, "fence", c->tgt, "recording the fence in the state");
    if (rows != 1)
        return fail(c, "fence",
                    "the migration left phase 'cutover' meanwhile (an abort?): see `pgbaton "
                    "status`");
    char lsn[LSN_STRLEN];
    log_info("step 3/7: fence written at %s; waiting for start to apply it",
             lsn_format(fence, lsn, sizeof lsn));
    state_audit_queuef(&c->audit, DB_SOURCE, "fence written", NULL, true, NAN,
                       "logical message at %s", lsn);
    c->fence_written_at = mono_now();
    return true;
}

/* Wait until the applier has committed the fence: woken by its commit's
 * notification, re-reading at least every FENCE_RECHECK_S (the fallback
 * should a notification be lost with a connection), until the deadline. */
static bool wait_fence(cutover_ctx *c)
{
    for (;;) {
        state_fence f;
        if (!state_fence_read(c->tgt, c->o->name, &f))
            return fail_db(c, "fence", c->tgt, "reading whether start applied the fence");
        if (f.applied) {
            if (f.changes_after > 0)
                return fail(c, "check after fence",
                            "%lld data change(s) were written on the source after the fence "
                            "(a session wrote despite the freeze)",
                            f.changes_after);
            log_info("step 4/7: fence applied; no change after it");
            state_audit_queuef(&c->audit, DB_TARGET, "fence applied", NULL, true,
                               (mono_now() - c->fence_written_at) * 1000,
                               "by start's applier; no change after it");
            return true;
        }
        if (past_deadline(c, "fence")) {
            size_t len = strlen(c->error);
            if (f.alive_age > STATUS_STALE_SECONDS)
                snprintf(c->error + len, sizeof c->error - len,
                         " waiting for the fence: `pgbaton start` is not running (start it "
                         "again, then run `pgbaton cutover` again)");
            else
                snprintf(c->error + len, sizeof c->error - len,
                         " waiting for start to apply the fence (see start's log; a larger "
                         "--timeout gives it more time)");
            return false;
        }
        double left = c->deadline - mono_now();
        if (state_wait(c->tgt, c->o->name, left < FENCE_RECHECK_S ? left : FENCE_RECHECK_S) < 0)
            return fail_db(c, "fence", c->tgt, "waiting for start to apply the fence");
    }
}

/* --- step 5: unlogged tables --------------------------------------------- */

/* An unlogged table of the migration: its changes are not in the WAL (and
 * a crash restart of the source empties it), so what start copied may
 * differ from the frozen source. Up to --unlogged-recopy-max it is copied
 * again in full; above, its row count difference is reported, not fatal.
 * EVENT (level EVENT_LEVEL) is recorded in pgbaton.event in the
 * transaction that marks the migration done, for `pgbaton report`. */
typedef struct unlogged_table {
    char *schema, *name, *columns; /* owned; COLUMNS: quoted list, may be "" */
    long long size;                /* pg_table_size on the source */
    bool recopied;
    char *event;             /* "unlogged table X ..."; owned, NULL until known */
    const char *event_level; /* "info" or "warn" */
} unlogged_table;

static void unlogged_free(cutover_ctx *c)
{
    for (int i = 0; i < c->nunlogged; i++) {
        free(c->unlogged[i].schema);
        free(c->unlogged[i].name);
        free(c->unlogged[i].columns);
        free(c->unlogged[i].event);
    }
    free(c->unlogged);
    c->unlogged = NULL;
    c->nunlogged = 0;
}

static double mbytes(long long bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

/* Read the migration's unlogged tables from the source into c->unlogged. */
static bool list_unlogged(cutover_ctx *c)
{
    char *list = state_tables_json(c->tgt, c->o->name);
    if (!list)
        return fail_db(c, "unlogged tables", c->tgt, "listing the migration's tables");
    const char *p2[1] = {list};
    db_res *r = db_exec(c->src, DB_LOG, sql_cutover_unlogged, 1, p2);
    free(list);
    if (!r || !db_check_shape(c->src, r, 4, 0, "unlogged table list")) {
        db_res_free(r);
        return fail_db(c, "unlogged tables", c->src, "listing the unlogged tables");
    }
    unlogged_free(c); /* a resumed run lists them again */
    c->nunlogged = db_nrows(r);
    c->unlogged = xcalloc((size_t)c->nunlogged + 1, sizeof *c->unlogged);
    for (int i = 0; i < c->nunlogged; i++) {
        unlogged_table *u = &c->unlogged[i];
        u->schema = xstrdup(db_val(r, i, 0));
        u->name = xstrdup(db_val(r, i, 1));
        u->size = strtoll(db_val(r, i, 2), NULL, 10);
        u->columns = xstrdup(db_val(r, i, 3));
        u->recopied = c->o->unlogged_recopy_max > 0 && u->size <= c->o->unlogged_recopy_max;
    }
    db_res_free(r);
    return true;
}

/* On DB, in the open transaction: the copy's session settings (exact text
 * values, the source's encoding, the rest of the deadline). */
static bool recopy_settings(cutover_ctx *c, db_conn *db, const char *encoding, bool target)
{
    char ms[32];
    double left = c->deadline - mono_now();
    snprintf(ms, sizeof ms, "%ld", left > 0 ? (long)(left * 1000) : 1L);
    const char *params[2] = {encoding, ms};
    return db_commandp(db,
                       "SELECT set_config('client_encoding', $1, true), "
                       "set_config('statement_timeout', $2, true), "
                       "set_config('DateStyle', 'ISO', true), "
                       "set_config('IntervalStyle', 'postgres', true), "
                       "set_config('TimeZone', 'UTC', true), "
                       "set_config('extra_float_digits', '3', true), "
                       "set_config('bytea_output', 'hex', true)",
                       2, params) &&
           (!target || db_command(db, "SET LOCAL session_replication_role = replica"));
}

/* Copy U from the source's COPY TO STDOUT into the target's COPY FROM
 * STDIN, in the open transactions of the cutover's sessions. */
static bool recopy_one(cutover_ctx *c, unlogged_table *u)
{
    double t0 = mono_now();
    char *qual = db_quote_qualified(u->schema, u->name);
    const char *open = u->columns[0] ? " (" : "", *close = u->columns[0] ? ")" : "";
    char *ssql = str_printf("COPY %s%s%s%s TO STDOUT", qual, open, u->columns, close);
    char *tsql = str_printf("COPY %s%s%s%s FROM STDIN", qual, open, u->columns, close);
    long long bytes = 0;
    int64_t rows = 0;
    bool in_copy = db_copy_start(c->tgt, DB_LOG, tsql, DB_RES_COPY_IN, qual);
    bool ok =
        in_copy || fail_db(c, "unlogged tables", c->tgt, "starting the COPY of an unlogged table");
    ok = ok && (db_copy_start(c->src, DB_LOG, ssql, DB_RES_COPY_OUT, qual) ||
                fail_db(c, "unlogged tables", c->src, "starting the COPY of an unlogged table"));
    while (ok) {
        char *row = NULL;
        int n = db_copy_get(c->src, &row, false);
        if (n == DB_COPY_DONE)
            break;
        if (n < 0) {
            db_report(c->src, DB_LOG, NULL, qual);
            ok = fail_db(c, "unlogged tables", c->src, "reading an unlogged table");
            break;
        }
        bool put = db_copy_put(c->tgt, row, n);
        db_copy_free(row);
        if (!put) {
            db_report(c->tgt, DB_LOG, NULL, qual);
            ok = fail_db(c, "unlogged tables", c->tgt, "writing an unlogged table");
        }
        bytes += n;
        if (ok && signals_stop_requested())
            ok = fail(c, "unlogged tables", "interrupted by a signal");
    }
    if (ok && !db_copy_finish(c->src, qual, NULL))
        ok = db_sqlstate_is(c->src, SQLSTATE_QUERY_CANCELED)
                 ? fail(c, "unlogged tables",
                        "copying %s again did not finish before --timeout "
                        "(%.0f s); give the cutover a longer --timeout, or a smaller "
                        "--unlogged-recopy-max",
                        qual, c->o->timeout)
                 : fail_db(c, "unlogged tables", c->src, "reading an unlogged table");
    if (in_copy) {
        /* end the target's COPY; abandon it when the source side failed */
        if (!db_copy_end(c->tgt, ok ? NULL : "pgbaton cutover: copy abandoned") && ok) {
            db_report(c->tgt, DB_LOG, NULL, qual);
            ok = fail_db(c, "unlogged tables", c->tgt, "ending the COPY of an unlogged table");
        }
        bool fin = db_copy_finish(c->tgt, qual, &rows);
        if (ok && !fin)
            ok = db_sqlstate_is(c->tgt, SQLSTATE_QUERY_CANCELED)
                     ? fail(c, "unlogged tables",
                            "copying %s again did not finish before --timeout (%.0f s); give the "
                            "cutover a longer --timeout, or a smaller --unlogged-recopy-max",
                            qual, c->o->timeout)
                     : fail_db(c, "unlogged tables", c->tgt, "writing an unlogged table");
    }
    if (ok) {
        double ms = (mono_now() - t0) * 1000;
        log_info("step 5/7: unlogged table %s copied again in full: %lld rows, %.1f MB (%.0f ms)",
                 qual, (long long)rows, mbytes(bytes), ms);
        u->event = str_printf("unlogged table %s copied again in full at the cutover: %lld rows, "
                              "%.1f MB (%.0f ms)",
                              qual, (long long)rows, mbytes(bytes), ms);
        u->event_level = "info";
    }
    if (ok)
        state_audit_queuef(&c->audit, DB_TARGET, "unlogged table copied again", qual, true,
                           (mono_now() - t0) * 1000, "%lld rows, %.1f MB from the frozen source",
                           (long long)rows, mbytes(bytes));
    else
        state_audit_queuef(&c->audit, DB_TARGET, "unlogged table copied again", qual, false,
                           (mono_now() - t0) * 1000, "%s", c->error);
    free(ssql);
    free(tsql);
    free(qual);
    return ok;
}

/* Roll back DB's open transaction, unless a COPY still runs on it (the
 * rollback of the cutover then reconnects). */
static void recopy_abandon(db_conn *db)
{
    db_txn_state ts = db_txn(db);
    if ((ts == DB_TXN_OPEN || ts == DB_TXN_FAILED) && !db_command(db, "ROLLBACK"))
        log_warn("%s: could not roll back the copy of the unlogged tables (the rollback of the "
                 "cutover reconnects)",
                 db_side_name(db->side));
}

/* Step 5: copy every unlogged table of the migration up to
 * --unlogged-recopy-max again in full from the frozen source: one target
 * transaction (TRUNCATE ONLY of them all at once, so that foreign keys
 * between them do not stand in the way, then one COPY each), without
 * triggers (session_replication_role = replica), within the deadline. */
static bool recopy_unlogged(cutover_ctx *c)
{
    if (!list_unlogged(c))
        return false;
    char *truncate = NULL;
    for (int i = 0; i < c->nunlogged; i++) {
        unlogged_table *u = &c->unlogged[i];
        char *qual = db_quote_qualified(u->schema, u->name);
        if (!u->recopied) {
            log_info("step 5/7: unlogged table %s (%.1f MB) is not copied again (above "
                     "--unlogged-recopy-max %.1f MB): its row counts are reported, not compared",
                     qual, mbytes(u->size), mbytes(c->o->unlogged_recopy_max));
        } else {
            char *t = str_printf("%s%s%s", truncate ? truncate : "TRUNCATE ONLY ",
                                 truncate ? ", " : "", qual);
            free(truncate);
            truncate = t;
        }
        free(qual);
    }
    if (!truncate)
        return true;
    char *encoding = db_scalar(c->src, "SELECT current_setting('server_encoding')", 0, NULL, NULL);
    bool ok = encoding || fail_db(c, "unlogged tables", c->src, "reading the server encoding");
    ok = ok && (db_command(c->src, "BEGIN") || fail_db(c, "unlogged tables", c->src, "BEGIN"));
    ok = ok && (db_command(c->tgt, "BEGIN") || fail_db(c, "unlogged tables", c->tgt, "BEGIN"));
    ok = ok && (recopy_settings(c, c->src, encoding, false) ||
                fail_db(c, "unlogged tables", c->src, "setting the copy's session settings"));
    ok = ok && (recopy_settings(c, c->tgt, encoding, true) ||
                fail_db(c, "unlogged tables", c->tgt,
                        "setting the copy's session settings (session_replication_role = "
                        "replica)"));
    ok = ok && (db_command(c->tgt, truncate) ||
                fail_db(c, "unlogged tables", c->tgt, "emptying the unlogged tables (TRUNCATE)"));
    for (int i = 0; ok && i < c->nunlogged; i++)
        if (c->unlogged[i].recopied)
            ok = !past_deadline(c, "unlogged tables") && recopy_one(c, &c->unlogged[i]);
    ok = ok && (db_command(c->tgt, "COMMIT") ||
                fail_db(c, "unlogged tables", c->tgt, "committing the unlogged tables' copy"));
    ok = ok && (db_command(c->src, "COMMIT") || fail_db(c, "unlogged tables", c->src, "COMMIT"));
    if (!ok) {
        recopy_abandon(c->tgt);
        recopy_abandon(c->src);
    }
    free(encoding);
    free(truncate);
    return ok;
}

/* Step 6 for unlogged table SCHEMA.TABLE whose counts are SRC and DST:
 * NULL when it is not one left as copied at the start (compare as usual);
 * otherwise its entry, with its event set (a WARN when the counts
 * differ). */
static unlogged_table *unlogged_counted(cutover_ctx *c, const char *schema, const char *table,
                                        long long src, long long dst)
{
    for (int i = 0; i < c->nunlogged; i++) {
        unlogged_table *u = &c->unlogged[i];
        if (u->recopied || strcmp(u->schema, schema) != 0 || strcmp(u->name, table) != 0)
            continue;
        char *qual = db_quote_qualified(schema, table);
        char lim[64];
        snprintf(lim, sizeof lim, "%.1f MB", mbytes(c->o->unlogged_recopy_max));
        free(u->event);
        if (src != dst) {
            u->event = str_printf(
                "unlogged table %s left as copied at the start: it has %lld rows on the source, "
                "%lld on the target; it was not copied again at the cutover (%.1f MB, above "
                "--unlogged-recopy-max %s); copy it by hand if it matters",
                qual, src, dst, mbytes(u->size), lim);
            u->event_level = "warn";
            log_warn("%s", u->event);
        } else {
            u->event = str_printf("unlogged table %s left as copied at the start: %lld rows on "
                                  "both sides (its changes are not replicated, so its content "
                                  "may differ); not copied again at the cutover (%.1f MB, above "
                                  "--unlogged-recopy-max %s)",
                                  qual, src, mbytes(u->size), lim);
            u->event_level = "info";
            log_info("%s", u->event);
        }
        free(qual);
        return u;
    }
    return NULL;
}

/* --- step 5 -------------------------------------------------------------- */

static bool copy_one_sequence(cutover_ctx *c, const char *schema, const char *name)
{
    char *qual = db_quote_qualified(schema, name);
    char *sql = str_printf("SELECT last_value::text, is_called FROM %s", qual);
    char *what = str_printf("reading sequence %s", qual);
    bool ok = false;
    db_res *r = db_exec(c->src, DB_LOG, sql, 0, NULL);
    if (!r || !db_check_shape(c->src, r, 2, 1, "sequence value")) {
        fail_db(c, "sequences", c->src, what);
        goto out;
    }
    const char *params[3] = {qual, db_val(r, 0, 0), db_val(r, 0, 1)};
    bool missing = false;
    char *exists = db_scalar(c->tgt, "SELECT to_regclass($1)::text", 1, params, &missing);
    if (!exists && !missing) {
        fail_db(c, "sequences", c->tgt, what);
    } else if (missing) {
        log_warn("target: sequence %s does not exist there: its value was not copied", qual);
        ok = true;
    } else {
        ok = db_commandp(c->tgt, "SELECT pg_catalog.setval($1::regclass, $2::bigint, $3::bool)", 3,
                         params);
        if (ok)
            c->sequences++;
        else
            fail_db(c, "sequences", c->tgt, "setting a sequence's value");
    }
    free(exists);
out:
    db_res_free(r);
    free(what);
    free(qual);
    free(sql);
    return ok;
}

static bool copy_sequences(cutover_ctx *c)
{
    double t0 = mono_now();
    db_res *r = db_exec(c->src, DB_LOG, sql_cutover_sequences, 0, NULL);
    if (!r || !db_check_shape(c->src, r, 2, 0, "sequence list")) {
        db_res_free(r);
        return fail_db(c, "sequences", c->src, "listing the sequences");
    }
    bool ok = db_command(c->tgt, "BEGIN") || fail_db(c, "sequences", c->tgt, "BEGIN");
    bool in_txn = ok;
    for (int i = 0; ok && i < db_nrows(r); i++)
        ok = !past_deadline(c, "sequences") &&
             copy_one_sequence(c, db_val(r, i, 0), db_val(r, i, 1));
    db_res_free(r);
    if (ok)
        ok = db_command(c->tgt, "COMMIT") ||
             fail_db(c, "sequences", c->tgt, "committing the sequence values");
    else if (in_txn && !db_command(c->tgt, "ROLLBACK"))
        log_warn("target: could not roll back the sequence copy (the rollback of the cutover "
                 "reconnects)");
    if (ok)
        log_info("step 5/7: copied %d sequence value(s)", c->sequences);
    if (ok)
        state_audit_queuef(&c->audit, DB_TARGET, "sequences set", NULL, true,
                           (mono_now() - t0) * 1000, "%d sequence value(s) from the source",
                           c->sequences);
    else
        state_audit_queuef(&c->audit, DB_TARGET, "sequences set", NULL, false,
                           (mono_now() - t0) * 1000, "%s", c->error);
    return ok;
}

/* Step 5 (continued): REFRESH on the target every materialized view the
 * source has populated (those the migration left out are skipped). */
static bool refresh_matviews(cutover_ctx *c)
{
    db_res *r = db_exec(c->src, DB_LOG, sql_cutover_matviews, 0, NULL);
    if (!r || !db_check_shape(c->src, r, 2, 0, "materialized view list")) {
        db_res_free(r);
        return fail_db(c, "materialized views", c->src, "listing the materialized views");
    }
    int refreshed = 0;
    bool ok = true;
    for (int i = 0; ok && i < db_nrows(r); i++) {
        char *qual = db_quote_qualified(db_val(r, i, 0), db_val(r, i, 1));
        char *sql = str_printf("REFRESH MATERIALIZED VIEW %s", qual);
        const char *params[1] = {qual};
        bool missing = false;
        char *exists = db_scalar(c->tgt, "SELECT to_regclass($1)::text", 1, params, &missing);
        if (exists) {
            double t0 = mono_now();
            ok = !past_deadline(c, "materialized views") &&
                 (db_command(c->tgt, sql) ||
                  fail(c, "materialized views", "target: REFRESH MATERIALIZED VIEW %s failed: %s",
                       qual, db_errtext(c->tgt, "?")));
            if (ok)
                state_audit_queuef(&c->audit, DB_TARGET, "materialized view refreshed", qual, true,
                                   (mono_now() - t0) * 1000, NULL);
            else
                state_audit_queuef(&c->audit, DB_TARGET, "materialized view refreshed", qual, false,
                                   (mono_now() - t0) * 1000, "%s", c->error);
            refreshed += ok;
        } else if (!missing) {
            ok = fail_db(c, "materialized views", c->tgt, "looking up a materialized view");
        }
        free(exists);
        free(qual);
        free(sql);
    }
    db_res_free(r);
    if (ok && refreshed > 0)
        log_info("step 5/7: refreshed %d materialized view(s) on the target", refreshed);
    return ok;
}

/* --- step 6 -------------------------------------------------------------- */

/* The tables to compare: the migration's, else the source's; *N of them
 * (state_relnames_free()). NULL with c->error set on failure. */
static state_relname *count_table_list(cutover_ctx *c, int *n)
{
    state_relname *t = NULL;
    if (!state_read_table_names(c->tgt, c->o->name, &t, n)) {
        fail_db(c, "row counts", c->tgt, "listing the migration's tables");
        return NULL;
    }
    if (*n > 0)
        return t;
    free(t);
    db_res *r = db_exec(c->src, DB_LOG, sql_cutover_source_tables, 0, NULL);
    if (!r || !db_check_shape(c->src, r, 2, 0, "table list")) {
        db_res_free(r);
        fail_db(c, "row counts", c->src, "listing the tables");
        return NULL;
    }
    *n = db_nrows(r);
    t = xcalloc((size_t)*n + 1, sizeof *t);
    for (int i = 0; i < *n; i++)
        t[i] =
            (state_relname){.schema = xstrdup(db_val(r, i, 0)), .table = xstrdup(db_val(r, i, 1))};
    db_res_free(r);
    return t;
}

static bool set_statement_timeout(db_conn *db, double seconds)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SET statement_timeout = %ld",
             seconds > 0 ? (long)(seconds * 1000) : 1);
    return db_command(db, sql);
}

/* The row counts run on the worker runtime, one worker per side. The source
 * is frozen when they start (right after step 2), so its worker counts at
 * once, on a session of its own, while steps 3-5 run: its counts are the
 * final ones (a write despite the freeze shows as a difference here or as a
 * change after the fence). The target's worker waits until step 6, when
 * the fence is applied and step 5 has written, and counts on c->tgt, which
 * the main thread leaves alone while it waits for the pool. A failure,
 * Ctrl-C or a failed step stops the pool: the query in flight is cancelled. */
typedef struct count_set {
    cutover_ctx *c;
    state_relname *tables; /* owned */
    int ntables;
    long long *counts[2]; /* per side (0 source, 1 target), one per table; owned */
    worker_pool *pool;    /* NULL once waited for */
    pthread_mutex_t lock; /* guards target_go */
    pthread_cond_t wake;  /* target_go set, or the pool stopped */
    bool target_go;       /* step 6 began: the target may be counted */
} count_set;

static void counts_wake(void *arg)
{
    count_set *cs = arg;
    pthread_mutex_lock(&cs->lock);
    pthread_cond_broadcast(&cs->wake);
    pthread_mutex_unlock(&cs->lock);
}

/* The target's worker: until step 6 begins; false when the pool stopped. */
static bool counts_wait_target(worker_slot *w, count_set *cs)
{
    pthread_mutex_lock(&cs->lock);
    while (!cs->target_go && !worker_stopping(w))
        pthread_cond_wait(&cs->wake, &cs->lock);
    bool go = cs->target_go && !worker_stopping(w);
    pthread_mutex_unlock(&cs->lock);
    return go;
}

/* Count every table on DB into COUNTS; false after failing the pool. */
static bool count_tables(worker_slot *w, count_set *cs, db_conn *db, long long *counts)
{
    cutover_ctx *c = cs->c;
    for (int i = 0; i < cs->ntables && !worker_stopping(w); i++) {
        const char *schema = cs->tables[i].schema, *table = cs->tables[i].table;
        char *qual = db_quote_qualified(schema, table);
        char *sql = str_printf("SELECT count(*) FROM ONLY %s", qual);
        char *v = db_scalar(db, sql, 0, NULL, NULL);
        free(sql);
        free(qual);
        if (!v) {
            if (db_sqlstate_is(db, SQLSTATE_QUERY_CANCELED) && !worker_stopping(w))
                worker_pool_fail(worker_pool_of(w),
                                 "counting %s.%s on the %s did not finish before --timeout "
                                 "(%.0f s); give the cutover a longer --timeout, or use "
                                 "--skip-count",
                                 schema, table, db_side_name(db->side), c->o->timeout);
            else
                worker_pool_fail(worker_pool_of(w), "counting %s.%s on the %s failed: %s", schema,
                                 table, db_side_name(db->side),
                                 db_errtext(db, "unexpected answer"));
            return false;
        }
        counts[i] = strtoll(v, NULL, 10);
        free(v);
    }
    return true;
}

/* One side's counts, under a statement timeout that ends at the deadline. */
static bool count_side(worker_slot *w, count_set *cs, db_conn *db, long long *counts)
{
    if (!worker_watch(w, db))
        log_debug("%s: the row counts cannot be cancelled", db_side_name(db->side));
    bool ok = set_statement_timeout(db, cs->c->deadline - mono_now());
    if (!ok)
        worker_pool_fail(worker_pool_of(w), "%s: setting statement_timeout for the counts: %s",
                         db_side_name(db->side), db_errtext(db, "unexpected answer"));
    ok = ok && count_tables(w, cs, db, counts);
    /* a failed count leaves the session usable: give it its own timeout back */
    if (!db_command(db, "RESET statement_timeout") && ok) {
        worker_pool_fail(worker_pool_of(w), "%s: resetting statement_timeout: %s",
                         db_side_name(db->side), db_errtext(db, "unexpected answer"));
        ok = false;
    }
    worker_unwatch(w, db);
    return ok;
}

static bool count_worker(worker_slot *w, void *arg)
{
    count_set *cs = arg;
    if (worker_index(w) == 1)
        return !counts_wait_target(w, cs) || count_side(w, cs, cs->c->tgt, cs->counts[1]);
    db_connect_opts co = {.application_name = "pgbaton cutover counts", .errmode = DB_QUIET};
    char *err = NULL;
    db_conn *src = db_connect(cs->c->sci, DB_SOURCE, &co, NULL, &err);
    if (!src) {
        worker_pool_fail(worker_pool_of(w), "cannot open a source session for the row counts: %s",
                         err ? err : "unknown error");
        free(err);
        return false;
    }
    bool ok = count_side(w, cs, src, cs->counts[0]);
    db_close(src);
    return ok;
}

/* Right after the freeze: list the tables and start counting the source.
 * False with c->error set when the tables cannot be listed. */
static bool counts_start(cutover_ctx *c)
{
    if (c->o->skip_count)
        return true;
    count_set *cs = xcalloc(1, sizeof *cs);
    cs->c = c;
    pthread_mutex_init(&cs->lock, NULL);
    pthread_cond_init(&cs->wake, NULL);
    c->counts = cs;
    cs->tables = count_table_list(c, &cs->ntables);
    if (!cs->tables)
        return false;
    int n = cs->ntables;
    for (int k = 0; k < 2; k++)
        cs->counts[k] = xcalloc((size_t)n + 1, sizeof(long long));
    worker_pool_opts po = {.name = "row count",
                           .nworkers = 2,
                           .run = count_worker,
                           .arg = cs,
                           .on_stop = counts_wake,
                           .signal_message = "interrupted by a signal"};
    cs->pool = worker_pool_start(&po);
    return true;
}

/* Stop the counts (a step failed before step 6), cancel them, free them. */
static void counts_end(cutover_ctx *c)
{
    count_set *cs = c->counts;
    if (!cs)
        return;
    if (cs->pool) {
        worker_pool_stop(cs->pool);
        char *err = NULL;
        if (!worker_pool_wait(cs->pool, &err))
            log_debug("row counts stopped: %s", err ? err : "no message");
        free(err);
    }
    state_relnames_free(cs->tables, cs->ntables);
    free(cs->counts[0]);
    free(cs->counts[1]);
    pthread_mutex_destroy(&cs->lock);
    pthread_cond_destroy(&cs->wake);
    free(cs);
    c->counts = NULL;
}

/* Step 6: let the target be counted, wait for both sides, compare. */
static bool compare_counts(cutover_ctx *c)
{
    if (c->o->skip_count) {
        log_info("step 6/7: row counts skipped (--skip-count)");
        return true;
    }
    count_set *cs = c->counts;
    double t0 = mono_now();
    pthread_mutex_lock(&cs->lock);
    cs->target_go = true;
    pthread_cond_broadcast(&cs->wake);
    pthread_mutex_unlock(&cs->lock);
    char *err = NULL;
    bool ok = worker_pool_wait(cs->pool, &err);
    cs->pool = NULL;
    if (!ok)
        fail(c, "row counts", "%s", err ? err : "a row count failed");
    free(err);
    int n = cs->ntables;
    const long long *src = cs->counts[0], *tgt = cs->counts[1];
    for (int i = 0; ok && i < n; i++)
        if (!unlogged_counted(c, cs->tables[i].schema, cs->tables[i].table, src[i], tgt[i]) &&
            src[i] != tgt[i])
            ok = fail(c, "row counts",
                      "table %s.%s has %lld rows on the source, %lld on the target (see `pgbaton "
                      "verify` for the difference)",
                      cs->tables[i].schema, cs->tables[i].table, src[i], tgt[i]);
    c->count_ms = (mono_now() - t0) * 1000;
    c->tables_compared = n;
    if (ok)
        state_audit_queuef(&c->audit, DB_TARGET, "row counts compared", NULL, true, c->count_ms,
                           "%d table(s), equal on the source and the target", n);
    else
        state_audit_queuef(&c->audit, DB_TARGET, "row counts compared", NULL, false, c->count_ms,
                           "%s", c->error);
    if (ok)
        log_info("step 6/7: row counts of %d table(s) equal on both sides (%.0f ms of the "
                 "write-unavailable time; the source's began at the freeze)",
                 n, c->count_ms);
    return ok;
}

/* --- step 7 -------------------------------------------------------------- */

/* Undo the open target transaction of a failed step 7; the rollback of the
 * cutover reconnects when even that fails. */
static void abandon_txn(cutover_ctx *c)
{
    if (!db_command(c->tgt, "ROLLBACK"))
        log_warn("target: could not roll back the transaction marking the migration done");
}

/* Mark the migration done and, in the same target transaction, put back
 * the source's modes of the user triggers and rules start switched off. */
static bool mark_done(cutover_ctx *c)
{
    if (!db_command(c->tgt, "BEGIN"))
        return fail_db(c, "mark done", c->tgt, "BEGIN");
    bool done = false;
    if (!state_cutover_done(c->tgt, c->o->name, c->count_ms, &done, &c->write_unavailable_ms)) {
        fail_db(c, "mark done", c->tgt, "marking the migration done");
        abandon_txn(c);
        return false;
    }
    if (!done) {
        abandon_txn(c);
        return fail(c, "mark done",
                    "changes arrived after the fence, or the phase changed meanwhile (an "
                    "abort?): see `pgbaton status`");
    }
    for (int i = 0; i < c->nunlogged; i++) {
        unlogged_table *u = &c->unlogged[i];
        if (!u->event) {
            char *qual = db_quote_qualified(u->schema, u->name);
            u->event = str_printf("unlogged table %s left as copied at the start, not copied "
                                  "again at the cutover (above --unlogged-recopy-max) and its "
                                  "row counts not compared (--skip-count)",
                                  qual);
            u->event_level = "warn";
            free(qual);
        }
        if (!state_event_add(c->tgt, c->o->name, u->event_level, u->event)) {
            fail_db(c, "mark done", c->tgt, "recording what became of the unlogged tables");
            abandon_txn(c);
            return false;
        }
    }
    int restored = 0;
    if (!triggers_restore(c->tgt, c->o->name, TRIGGERS_CALLER_TXN, &restored)) {
        fail_db(c, "mark done", c->tgt, "putting back the modes of the triggers and rules");
        abandon_txn(c);
        return false;
    }
    failpoint("cutover.before-done");
    if (!db_command(c->tgt, "COMMIT"))
        return fail_db(c, "mark done", c->tgt, "committing the migration's end");
    /* start stops on it at once (else at its next commit) */
    if (!state_notify(c->tgt, c->o->name))
        log_debug("target: could not notify start that the migration is done");
    if (restored > 0)
        log_info("step 7/7: put back the source's modes of %d user trigger(s) and rule(s) on the "
                 "target",
                 restored);
    if (restored > 0)
        state_audit_queuef(&c->audit, DB_TARGET, "triggers and rules put back", NULL, true, NAN,
                           "the source's modes of %d user trigger(s) and rule(s)", restored);
    state_audit_queuef(&c->audit, DB_TARGET, "migration done", c->o->name, true,
                       c->write_unavailable_ms,
                       "the target is ready; write-unavailable %.0f ms; the source stays "
                       "read-only",
                       c->write_unavailable_ms);
    return true;
}

/* `start` exits when it sees phase 'done' and leaves the slot; wait a little
 * for that. Not fatal: the target is already authoritative. */
static void wait_start_stopped(cutover_ctx *c)
{
    if (!c->slot_name)
        return;
    const char *params[1] = {c->slot_name};
    double until = mono_now() + START_STOP_WAIT;
    for (;;) {
        char *v = db_scalar(c->src,
                            "SELECT coalesce((SELECT active FROM pg_replication_slots "
                            "WHERE slot_name = $1), false)::text",
                            1, params, NULL);
        if (!v) {
            log_warn("source: cannot tell whether `pgbaton start` left slot %s; it stops on its "
                     "own when it sees the migration is done",
                     c->slot_name);
            return;
        }
        bool active = strcmp(v, "true") == 0;
        free(v);
        if (!active)
            return;
        if (mono_now() > until) {
            log_warn("`pgbaton start` still holds slot %s; it stops on its own when it sees the "
                     "migration is done",
                     c->slot_name);
            return;
        }
        nap();
    }
}

/* Run the --exec hook with /bin/sh; its exit status (128 + N when killed by
 * signal N), or -1 when it could not be started or waited for (logged). In
 * --json mode its output goes to our stderr, so stdout stays one JSON
 * object. */
static int run_exec(cutover_ctx *c)
{
    log_info("running --exec hook");
    fflush(stdout);
    fflush(stderr);
    const char *argv[] = {"/bin/sh", "-c", c->o->exec, NULL};
    pgtool_envvar env[] = {
        {"PGBATON_TARGET", c->o->target}, /* the connection string, only in its environment */
        {"PGBATON_NAME", c->o->name},
        {NULL, NULL},
    };
    pgtool_child child = {
        .argv = argv,
        .env = env,
        .in_fd = PGTOOL_INHERIT,
        .out_fd = c->o->json ? STDERR_FILENO : PGTOOL_INHERIT,
        .err_fd = PGTOOL_INHERIT,
        .what = "the --exec hook",
    };
    pid_t pid = pgtool_start(&child);
    if (pid < 0)
        return -1;
    int st = 0;
    if (!pgtool_reap(pid, "the --exec hook", &st))
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Log why the hook failed, in words for the usual shell statuses. */
static void report_exec_failure(int status)
{
    const char *what = status == 127   ? ", command not found"
                       : status == 126 ? ", command not executable"
                       : status > 128  ? ", killed by a signal"
                                       : "";
    if (status < 0)
        log_error("the --exec hook could not be run (see above); the target is ready all the "
                  "same: switch the application over by hand");
    else
        log_error("the --exec hook failed (exit status %d%s); the target is ready all the same: "
                  "switch the application over by hand",
                  status, what);
}

/* --- rollback ------------------------------------------------------------ */

/* Make *DB a usable session with no transaction open: roll back an open
 * one, or reconnect (closing the old one) when that fails or the
 * connection is gone. *DB may be NULL (a reconnect failed before); it is
 * NULL again when this reconnect fails too (logged). */
static db_conn *usable_session(db_conn **db, const conninfo *ci, db_side side)
{
    if (*db && db_alive(*db)) {
        db_txn_state ts = db_txn(*db);
        if (ts == DB_TXN_IDLE || (ts != DB_TXN_ACTIVE && db_command(*db, "ROLLBACK")))
            return *db;
    }
    db_close(*db);
    log_info("%s: reconnecting to roll the cutover back", db_side_name(side));
    *db = db_connect(ci, side, NULL, NULL, NULL);
    return *db;
}

/* Unfreeze the source: on the cutover's own session, and when that fails
 * (lost, or stuck behind a statement timeout) on a new one. */
static bool unfreeze_source(cutover_ctx *c)
{
    char *why = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (attempt == 1) {
            db_close(c->src);
            c->src = NULL;
        }
        if (!usable_session(&c->src, c->sci, DB_SOURCE))
            continue;
        free(why);
        if (freeze_undo(c->src, c->database, c->prev, &why)) {
            c->source = SOURCE_WRITABLE;
            return true;
        }
    }
    if (why)
        log_error("%s", why);
    free(why);
    return false;
}

/* Unfreeze the source (when this cutover froze it) and put the state back
 * to streaming. Returns the exit code: 4 when the source is writable, 1
 * when it could not be unfrozen. */
static int roll_back(cutover_ctx *c)
{
    if (c->source != SOURCE_FROZEN) {
        log_error("cutover not started: %s; nothing was changed and the source is writable (fix "
                  "that, then run `pgbaton cutover` again)",
                  c->error);
        return EXIT_ROLLED_BACK;
    }
    log_error("cutover failed at step \"%s\": %s", c->step ? c->step : "?", c->error);
    c->result = "rolled_back";
    bool unfrozen = unfreeze_source(c);
    state_audit_queuef(&c->audit, DB_SOURCE, "source unfrozen", c->database, unfrozen, NAN,
                       unfrozen ? "the read-only default put back as it was"
                                : "could not: the source is still read-only");
    if (!unfrozen) {
        log_error("THE SOURCE IS STILL READ-ONLY: run `pgbaton abort` to unfreeze it");
        if (usable_session(&c->tgt, c->tci, DB_TARGET))
            state_audit_flush(&c->audit, c->tgt, c->o->name);
        return EXIT_FAILURE_RUNTIME;
    }
    char *reason =
        str_printf("cutover rolled back at step \"%s\": %s", c->step ? c->step : "?", c->error);
    if (!usable_session(&c->tgt, c->tci, DB_TARGET) ||
        !state_cutover_rollback(c->tgt, c->o->name, reason))
        log_warn("target: could not put the migration back to phase streaming (the source is "
                 "writable all the same): run `pgbaton cutover` again, or `pgbaton abort`");
    state_audit_queuef(&c->audit, DB_TARGET, "cutover rolled back", c->o->name, true, NAN, "%s",
                       reason);
    if (c->tgt)
        state_audit_flush(&c->audit, c->tgt, c->o->name);
    free(reason);
    log_error("cutover rolled back: the source is writable again (database %s unfrozen); fix the "
              "problem above and run `pgbaton cutover` again",
              c->database);
    return EXIT_ROLLED_BACK;
}

/* --- the command --------------------------------------------------------- */

static void print_result(cutover_ctx *c, int rc)
{
    if (!c->o->json)
        return;
    json_t *j = json_object(); /* new reference, freed below */
    json_object_set_new(j, "name", json_string(c->o->name));
    json_object_set_new(j, "status", json_string(c->result));
    json_object_set_new(j, "exit_code", json_integer(rc));
    json_object_set_new(j, "failed_step", c->step ? json_string(c->step) : json_null());
    json_object_set_new(j, "error", c->error[0] ? json_string(c->error) : json_null());
    json_object_set_new(j, "source_writable",
                        c->source == SOURCE_UNKNOWN ? json_null()
                                                    : json_boolean(c->source == SOURCE_WRITABLE));
    json_object_set_new(j, "write_unavailable_ms",
                        isnan(c->write_unavailable_ms) ? json_null()
                                                       : json_real(c->write_unavailable_ms));
    json_object_set_new(j, "count_ms", isnan(c->count_ms) ? json_null() : json_real(c->count_ms));
    json_object_set_new(j, "sequences_copied", json_integer(c->sequences));
    json_object_set_new(j, "tables_compared", json_integer(c->tables_compared));
    json_object_set_new(j, "exec_status",
                        c->exec_status < 0 ? json_null() : json_integer(c->exec_status));
    char *text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (text)
        printf("%s\n", text);
    else
        log_error("cannot print the JSON result (out of memory)");
    free(text);
    json_decref(j);
}

/* Steps 3 to 7 (after the freeze). False on failure (c->error set). */
/* pgoutput with a FOR TABLE publication: a table created on the source
 * after start (and selected by the migration's filters) is not in it, so
 * none of its changes were streamed. Under the freeze, no table can be
 * created any more: look once. */
static bool check_published(cutover_ctx *c)
{
    if (!c->publication)
        return true;
    const char *step = "publication";
    const char *pp[1] = {c->publication};
    bool isnull = false;
    char *all = db_scalar(c->src, "SELECT puballtables FROM pg_publication WHERE pubname = $1", 1,
                          pp, &isnull);
    if (!all && !isnull)
        return fail_db(c, step, c->src, "reading the publication");
    if (!all)
        return fail(c, step,
                    "the publication %s is gone from the source, so changes were not streamed "
                    "since it was dropped: run `pgbaton abort`, `pgbaton clean`, and start a new "
                    "migration",
                    c->publication);
    bool every = strcmp(all, "t") == 0;
    free(all);
    if (every)
        return true;
    char *stored = NULL;
    if (!state_read_options(c->tgt, c->o->name, &stored))
        return fail_db(c, step, c->tgt, "reading the migration's table filters");
    filter_set fo = {0};
    filter_adopt_stored(&fo, stored);
    free(stored);
    db_res *r = db_exec(c->src, DB_LOG, sql_cutover_source_tables, 0, NULL);
    if (!r || !db_check_shape(c->src, r, 2, 0, "table list")) {
        db_res_free(r);
        filter_set_free(&fo);
        return fail_db(c, step, c->src, "listing the tables");
    }
    int n = db_nrows(r), k = 0;
    const char **schemas = xcalloc((size_t)n + 1, sizeof *schemas);
    const char **tables = xcalloc((size_t)n + 1, sizeof *tables);
    for (int i = 0; i < n; i++) {
        if (!filter_table_selected(&fo, db_val(r, i, 0), db_val(r, i, 1)))
            continue;
        schemas[k] = db_val(r, i, 0);
        tables[k++] = db_val(r, i, 1);
    }
    char *as = db_text_array(schemas, k), *at = db_text_array(tables, k);
    const char *params[3] = {c->publication, as, at};
    db_res *m = db_exec(c->src, DB_LOG, sql_publication_missing, 3, params);
    bool ok = m && db_check_shape(c->src, m, 1, 0, "missing tables");
    if (!ok)
        fail_db(c, step, c->src, "comparing the tables with the publication");
    else if (db_nrows(m) > 0)
        ok = fail(c, step,
                  "schema change detected on the source: table %s%s is not in the publication "
                  "%s (created after `pgbaton start`?), so none of its changes were streamed and "
                  "the target does not have them: create it on the target with the same "
                  "definition and copy its rows, ALTER PUBLICATION %s ADD TABLE it on the "
                  "source (or drop it there if it is not needed), then run the cutover again",
                  db_val(m, 0, 0), db_nrows(m) > 1 ? " (and others)" : "", c->publication,
                  c->publication);
    db_res_free(m);
    db_res_free(r);
    free(as);
    free(at);
    free(schemas);
    free(tables);
    filter_set_free(&fo);
    return ok;
}

/* Steps 3 to 6, beside the row counts of step 6 (started at the freeze);
 * the failpoints (include/failpoint.h) come after each step. */
static bool fence_to_counts(cutover_ctx *c)
{
    if (!write_fence(c))
        return false;
    failpoint("cutover.fence-written");
    if (!wait_fence(c))
        return false;
    failpoint("cutover.fence-applied");
    if (!check_published(c) || past_deadline(c, "unlogged tables") || !recopy_unlogged(c) ||
        past_deadline(c, "sequences") || !copy_sequences(c))
        return false;
    failpoint("cutover.sequences");
    return refresh_matviews(c) && !past_deadline(c, "row counts") && compare_counts(c);
}

static bool after_freeze(cutover_ctx *c)
{
    failpoint("cutover.freeze");
    bool ok = counts_start(c) && fence_to_counts(c);
    counts_end(c);
    if (!ok)
        return false;
    failpoint("cutover.counts");
    return !past_deadline(c, "mark done") && mark_done(c);
}

static int finish(cutover_ctx *c)
{
    c->result = "done";
    state_audit_flush(&c->audit, c->tgt, c->o->name);
    wait_start_stopped(c);
    const char *params[1] = {c->o->name};
    bool notified = db_commandp(c->tgt, "SELECT pg_notify('pgbaton_cutover', $1)", 1, params);
    if (!notified)
        log_warn("target: NOTIFY pgbaton_cutover failed; the target is ready all the same: tell "
                 "its listeners by hand");
    int rc = notified ? EXIT_OK : EXIT_FAILURE_RUNTIME;
    if (c->o->exec) {
        c->exec_status = run_exec(c);
        if (c->exec_status != 0) {
            report_exec_failure(c->exec_status);
            rc = EXIT_FAILURE_RUNTIME;
        }
    }
    if (!c->o->json) {
        printf("write-unavailable: %.0f ms (from the freeze to the target being ready",
               c->write_unavailable_ms);
        if (!isnan(c->count_ms))
            printf("; row counts took %.0f ms of it", c->count_ms);
        printf(")\n");
        printf("cutover of %s complete: the target is ready; the source stays read-only\n",
               c->o->name);
    }
    return rc;
}

/* Connect to both sides and name the source session; false when either
 * fails (logged). */
static bool connect_both(cutover_ctx *c)
{
    db_connect_opts topts = {.application_name = "pgbaton cutover"};
    c->tgt = db_connect(c->tci, DB_TARGET, &topts, NULL, NULL);
    if (!c->tgt)
        return false;
    c->src = db_connect(c->sci, DB_SOURCE, &topts, NULL, NULL);
    if (!c->src)
        return false;
    char appname[128];
    snprintf(appname, sizeof appname, "%s%s", STATUS_APPNAME_CUTOVER, c->o->name);
    const char *params[1] = {appname};
    if (!db_commandp(c->src, "SELECT pg_catalog.set_config('application_name', $1, false)", 1,
                     params)) {
        log_error("source: cannot name the cutover's session (application_name), which tells "
                  "other runs that a cutover is in progress");
        return false;
    }
    char *why = NULL;
    if (!freeze_session_writable(c->src, &why)) {
        log_error("%s", why);
        free(why);
        return false;
    }
    return true;
}

/* Bring existing state up to date (new columns); idempotent. Not when there
 * is none: cutover creates nothing on a target start never used. */
static bool upgrade_state(cutover_ctx *c)
{
    bool have = false;
    if (!state_schema_exists(c->tgt, DB_LOG, &have)) {
        log_error("target: cannot look for pgbaton's state (schema pgbaton)");
        return false;
    }
    if (have && !state_ensure_schema(c->tgt)) {
        log_error("target: cannot bring pgbaton's state (schema pgbaton) up to date; the role "
                  "pgbaton connects as must own it, as when `pgbaton start` created it");
        return false;
    }
    return true;
}

/* Where the migration stands; returns -1 to go on, or an exit code. */
static int check_state(cutover_ctx *c, bool *resume)
{
    status_snapshot s;
    *resume = false;
    if (!status_read(c->src, c->tgt, c->o->name, NULL, &s)) {
        status_free(&s);
        log_error("target: cannot read the state of migration %s", c->o->name);
        return EXIT_FAILURE_RUNTIME;
    }
    int rc = -1;
    if (!s.found) {
        log_error("no migration named \"%s\" on the target: run `pgbaton start` first (or check "
                  "--name)",
                  c->o->name);
        rc = EXIT_FAILURE_RUNTIME;
    } else if (!s.source_ok) {
        log_error("source: %s", s.source_error ? s.source_error : "unreachable");
        rc = EXIT_FAILURE_RUNTIME;
    } else if (s.stored_ephase == PHASE_DONE) {
        c->result = "done";
        c->source = SOURCE_FROZEN;
        if (c->o->json)
            log_info("migration %s is already done: the target is ready (nothing to do)",
                     c->o->name);
        else
            printf("migration %s is already done: the target is ready (nothing to do)\n",
                   c->o->name);
        rc = EXIT_OK;
    } else if (s.cutover_running) {
        log_error("another `pgbaton cutover` of %s is running (its session is connected to the "
                  "source): wait for it",
                  c->o->name);
        rc = EXIT_FAILURE_RUNTIME;
    } else if (s.stored_ephase == PHASE_CUTOVER && s.frozen) {
        const char *db = s.freeze_database ? s.freeze_database : s.source_database;
        if (!db) {
            log_error("the state of migration %s does not say which source database was frozen: "
                      "run `pgbaton abort`, or unfreeze it by hand",
                      c->o->name);
            rc = EXIT_FAILURE_RUNTIME;
        } else {
            log_info("resuming an interrupted cutover: the source was frozen by an earlier run");
            *resume = true;
            c->source = SOURCE_FROZEN;
            c->database = xstrdup(db);
            c->prev = s.freeze_prev_readonly ? xstrdup(s.freeze_prev_readonly) : NULL;
        }
    } else if (s.stored_ephase == PHASE_CUTOVER) {
        /* an earlier cutover recorded the freeze and was killed before it
         * took effect (status_read asked the source): nothing to finish,
         * the cutover starts over from step 1 */
        log_info("an earlier cutover was interrupted before the source was frozen (it is "
                 "writable): starting the cutover over");
        if (!state_cutover_rollback(c->tgt, c->o->name, NULL)) {
            log_error("target: cannot put migration %s back to phase streaming", c->o->name);
            rc = EXIT_FAILURE_RUNTIME;
        } else {
            c->source = SOURCE_WRITABLE;
        }
    } else if (s.stored_ephase != PHASE_STREAMING && s.stored_ephase != PHASE_FAILED) {
        /* (failed: step 1 says the error start stopped on, exit 4) */
        log_error("migration %s is in phase %s: cutover needs phase streaming (`pgbaton start` "
                  "running and caught up)",
                  c->o->name, s.phase);
        rc = EXIT_FAILURE_RUNTIME;
    } else {
        c->source = SOURCE_WRITABLE;
    }
    if (s.found && s.slot_name)
        c->slot_name = xstrdup(s.slot_name);
    if (s.found && s.publication)
        c->publication = xstrdup(s.publication);
    status_free(&s);
    return rc;
}

static int cutover_run(cutover_ctx *c)
{
    if (!connect_both(c) || !upgrade_state(c))
        return EXIT_FAILURE_RUNTIME;
    bool resume;
    int rc = check_state(c, &resume);
    if (rc >= 0)
        return rc;
    signals_install();
    if (resume) {
        c->deadline = mono_now() + c->o->timeout;
        log_info("step 2/7: re-asserting the freeze of source database %s", c->database);
        char *why = NULL;
        if (!freeze_apply(c->src, c->database, c->o->timeout, NULL, &why)) {
            fail_freeze(c, "freeze", why);
            return roll_back(c);
        }
    } else {
        /* statistics start has not gathered yet: now, while the source is
         * still writable, not in the write-unavailable window */
        if (!analyze_pending(c->tgt, c->o->name))
            log_warn("could not read which tables still need ANALYZE on the target; run "
                     "ANALYZE there after the cutover");
        if (!wait_for_lag(c) || !record_and_freeze(c))
            return roll_back(c);
    }
    if (!after_freeze(c))
        return roll_back(c);
    return finish(c);
}

int cmd_cutover(const pgb_options *o)
{
    cutover_ctx c = {.o = o,
                     .count_ms = NAN,
                     .write_unavailable_ms = NAN,
                     .exec_status = -1,
                     .result = "not_started"};
    c.sci = cli_conninfo(o, DB_SOURCE);
    if (!c.sci)
        return EXIT_USAGE;
    c.tci = cli_conninfo(o, DB_TARGET);
    if (!c.tci) {
        conninfo_free(c.sci);
        return EXIT_USAGE;
    }
    int rc = cutover_run(&c);
    print_result(&c, rc);
    if (c.tgt && c.audit.n > 0)
        state_audit_flush(&c.audit, c.tgt, c.o->name); /* a path that did not write them */
    state_audit_queue_free(&c.audit);
    db_close(c.src);
    db_close(c.tgt);
    conninfo_free(c.sci);
    conninfo_free(c.tci);
    free(c.slot_name);
    free(c.publication);
    free(c.database);
    free(c.prev);
    unlogged_free(&c);
    return rc;
}
