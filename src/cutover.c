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
 *   3. Write the fence (a non-transactional logical message) on the source;
 *      wait until the running `start` has applied it (fence_applied_*).
 *   4. Fail if the applier saw data changes after the fence.
 *   5. Copy every sequence's last_value/is_called to the target.
 *   6. Compare row counts of every table, source and target in parallel (one
 *      thread per side), unless --skip-count.
 *   7. Mark the migration 'done' (only if still nothing after the fence),
 *      wait briefly for `start` to leave the slot, NOTIFY pgbaton_cutover,
 *      run --exec, print the write-unavailability and the final line.
 * The deadline of steps 2-7 is --timeout from the start of the freeze.
 *
 * A killed cutover leaves phase 'cutover' with frozen_at set and no cutover
 * session on the source (its session is named STATUS_APPNAME_CUTOVER+name);
 * `status` reports it; a new `cutover` resumes (re-asserts the freeze, then
 * step 3 on) and `abort` unfreezes. A second cutover of a done migration says
 * so and exits 0.
 *
 * After 'done' the source stays frozen: the target is authoritative. A
 * failing --exec hook then exits 1 (the target is ready nonetheless).
 */
#include "analyze.h"
#include "cli.h"
#include "freeze.h"
#include "log.h"
#include "mono.h"
#include "signals.h"
#include "sql_embed.h"
#include "status.h"
#include "strutil.h"
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

typedef struct cutover_ctx {
    const pgb_options *o;
    conninfo *sci, *tci; /* owned */
    db_conn *src, *tgt;  /* owned */
    char *slot_name;     /* owned */
    char *database;      /* source database frozen; owned */
    char *prev;          /* its previous read-only setting, NULL = none; owned */
    double deadline;     /* monotonic; steps 2-7 */
    double count_ms;     /* NAN when skipped */
    int sequences;       /* copied */
    int tables_compared;
    double write_unavailable_ms;
    int exec_status;  /* -1 when no hook */
    char error[1024]; /* why it failed */
    const char *step; /* the step that failed */
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

/* Fail with the last error of DB (already logged by the wrapper). */
static bool fail_db(cutover_ctx *c, const char *step, db_conn *db)
{
    return fail(c, step, "%s: %s", db_side_name(db->side),
                db->last_error ? db->last_error : "query failed");
}

static bool past_deadline(cutover_ctx *c, const char *step)
{
    if (signals_stop_requested())
        return !fail(c, step, "interrupted by a signal");
    if (mono_now() > c->deadline)
        return !fail(c, step, "--timeout (%.0f s) exceeded", c->o->timeout);
    return false;
}

static bool target_update(cutover_ctx *c, const char *sql, int n, const char *const *params,
                          long *rows)
{
    PGresult *r = db_exec(c->tgt, DB_LOG, sql, n, params);
    if (!r)
        return false;
    if (rows)
        *rows = strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return true;
}

/* --- step 1 -------------------------------------------------------------- */

static int prepared_xacts(db_conn *src)
{
    char *v =
        db_scalar(src, "SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database()",
                  0, NULL, NULL);
    int n = v ? atoi(v) : -1;
    free(v);
    return n;
}

/* Wait for lag < max-lag. Returns EXIT_OK when reached, else an exit code. */
static int wait_for_lag(cutover_ctx *c)
{
    double deadline = mono_now() + c->o->timeout, next_note = 0;
    status_snapshot s;
    char why[256] = "";
    for (;;) {
        if (!status_read(c->src, c->tgt, c->o->name, NULL, &s))
            return EXIT_FAILURE_RUNTIME;
        int nprep = prepared_xacts(c->src);
        bool ready = s.found && s.source_ok && s.alive && !isnan(s.lag_seconds) &&
                     s.lag_seconds < c->o->max_lag && nprep == 0;
        if (!s.alive)
            snprintf(why, sizeof why, "`pgbaton start` is not running (no heartbeat)");
        else if (nprep != 0)
            snprintf(why, sizeof why, "%d prepared transaction(s) pending on the source", nprep);
        else
            snprintf(why, sizeof why, "lag is %.1f s (%lld bytes), above --max-lag %.3g s",
                     s.lag_seconds, (long long)s.lag_bytes, c->o->max_lag);
        if (ready)
            log_info("step 1/7: lag %.3f s (%lld bytes) is below --max-lag %.3g s", s.lag_seconds,
                     (long long)s.lag_bytes, c->o->max_lag);
        status_free(&s);
        if (ready)
            return EXIT_OK;
        if (mono_now() > deadline || signals_stop_requested()) {
            log_error("cutover not started: %s after %s; nothing was changed and the source "
                      "is writable",
                      why, signals_stop_requested() ? "a signal" : "--timeout");
            snprintf(c->error, sizeof c->error, "%s", why);
            c->step = "wait for lag";
            return EXIT_ROLLED_BACK;
        }
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
    if (!freeze_read_prev(c->src, &c->database, &c->prev))
        return fail_db(c, "freeze", c->src);
    const char *params[3] = {c->o->name, c->database, c->prev};
    long rows = 0;
    if (!target_update(c, sql_cutover_record_freeze, 3, params, &rows))
        return fail_db(c, "freeze", c->tgt);
    if (rows != 1)
        return fail(c, "freeze", "the migration left phase 'streaming' meanwhile");
    c->deadline = mono_now() + c->o->timeout;
    log_info("step 2/7: freezing source database %s (read-only for every role)", c->database);
    if (!freeze_apply(c->src, c->database, c->deadline - mono_now()))
        return fail_db(c, "freeze", c->src);
    return true;
}

/* --- steps 3 and 4 ------------------------------------------------------- */

static bool write_fence(cutover_ctx *c)
{
    const char *params[1] = {c->o->name};
    char *lsn =
        db_scalar(c->src,
                  "SELECT pg_logical_emit_message(false, 'pgbaton_fence', "
                  "json_build_object('name', $1::text, 'at', clock_timestamp())::text)::text",
                  1, params, NULL);
    if (!lsn)
        return fail_db(c, "fence", c->src);
    const char *p2[2] = {c->o->name, lsn};
    long rows = 0;
    bool ok = target_update(c, sql_cutover_set_fence, 2, p2, &rows);
    log_info("step 3/7: fence written at %s; waiting for start to apply it", lsn);
    free(lsn);
    if (!ok)
        return fail_db(c, "fence", c->tgt);
    if (rows != 1)
        return fail(c, "fence", "the migration left phase 'cutover' meanwhile");
    return true;
}

static bool wait_fence(cutover_ctx *c)
{
    const char *params[1] = {c->o->name};
    for (;;) {
        PGresult *r = db_exec(c->tgt, DB_LOG, sql_cutover_fence_state, 1, params);
        if (!r || !db_check_shape(c->tgt, r, 3, 1, "fence state")) {
            PQclear(r);
            return fail_db(c, "fence", c->tgt);
        }
        bool applied = PQgetvalue(r, 0, 0)[0] == 't';
        long long after = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
        double alive_age = PQgetisnull(r, 0, 2) ? INFINITY : strtod(PQgetvalue(r, 0, 2), NULL);
        PQclear(r);
        if (applied) {
            if (after > 0)
                return fail(c, "check after fence",
                            "%lld data change(s) were written on the source after the fence "
                            "(a session wrote despite the freeze)",
                            after);
            log_info("step 4/7: fence applied; no change after it");
            return true;
        }
        if (past_deadline(c, "fence")) {
            if (alive_age > STATUS_STALE_SECONDS)
                snprintf(c->error + strlen(c->error), sizeof c->error - strlen(c->error),
                         " waiting for the fence: `pgbaton start` is not running");
            else
                snprintf(c->error + strlen(c->error), sizeof c->error - strlen(c->error),
                         " waiting for start to apply the fence");
            return false;
        }
        nap();
    }
}

/* --- step 5 -------------------------------------------------------------- */

static bool copy_one_sequence(cutover_ctx *c, const char *schema, const char *name)
{
    char *qual = db_quote_qualified(schema, name);
    char *sql = str_printf("SELECT last_value::text, is_called FROM %s", qual);
    bool ok = false;
    PGresult *r = db_exec(c->src, DB_LOG, sql, 0, NULL);
    if (!r || !db_check_shape(c->src, r, 2, 1, "sequence value")) {
        fail_db(c, "sequences", c->src);
        goto out;
    }
    const char *params[3] = {qual, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1)};
    bool missing = false;
    char *exists = db_scalar(c->tgt, "SELECT to_regclass($1)::text", 1, params, &missing);
    if (!exists && !missing) {
        fail_db(c, "sequences", c->tgt);
    } else if (missing) {
        log_warn("target: sequence %s does not exist there: its value was not copied", qual);
        ok = true;
    } else {
        ok = db_commandp(c->tgt, "SELECT pg_catalog.setval($1::regclass, $2::bigint, $3::bool)", 3,
                         params) ||
             fail_db(c, "sequences", c->tgt);
        c->sequences += ok;
    }
    free(exists);
out:
    PQclear(r);
    free(qual);
    free(sql);
    return ok;
}

static bool copy_sequences(cutover_ctx *c)
{
    PGresult *r = db_exec(c->src, DB_LOG, sql_cutover_sequences, 0, NULL);
    if (!r || !db_check_shape(c->src, r, 2, 0, "sequence list")) {
        PQclear(r);
        return fail_db(c, "sequences", c->src);
    }
    bool ok = db_command(c->tgt, "BEGIN") || fail_db(c, "sequences", c->tgt);
    for (int i = 0; ok && i < PQntuples(r); i++)
        ok = !past_deadline(c, "sequences") &&
             copy_one_sequence(c, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    PQclear(r);
    if (ok)
        ok = db_command(c->tgt, "COMMIT") || fail_db(c, "sequences", c->tgt);
    else if (!db_command(c->tgt, "ROLLBACK"))
        log_warn("target: could not roll back the sequence copy");
    if (ok)
        log_info("step 5/7: copied %d sequence value(s)", c->sequences);
    return ok;
}

/* Step 5 (continued): REFRESH on the target every materialized view the
 * source has populated (those the migration left out are skipped). */
static bool refresh_matviews(cutover_ctx *c)
{
    PGresult *r = db_exec(c->src, DB_LOG, sql_cutover_matviews, 0, NULL);
    if (!r || !db_check_shape(c->src, r, 2, 0, "materialized view list")) {
        PQclear(r);
        return fail_db(c, "materialized views", c->src);
    }
    int refreshed = 0;
    bool ok = true;
    for (int i = 0; ok && i < PQntuples(r); i++) {
        char *qual = db_quote_qualified(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        char *sql = str_printf("REFRESH MATERIALIZED VIEW %s", qual);
        const char *params[1] = {qual};
        bool missing = false;
        char *exists = db_scalar(c->tgt, "SELECT to_regclass($1)::text", 1, params, &missing);
        if (exists) {
            ok = !past_deadline(c, "materialized views") &&
                 (db_command(c->tgt, sql) || fail_db(c, "materialized views", c->tgt));
            refreshed += ok;
        } else if (!missing) {
            ok = fail_db(c, "materialized views", c->tgt);
        }
        free(exists);
        free(qual);
        free(sql);
    }
    PQclear(r);
    if (ok && refreshed > 0)
        log_info("step 5/7: refreshed %d materialized view(s) on the target", refreshed);
    return ok;
}

/* --- step 6 -------------------------------------------------------------- */

typedef struct count_job {
    db_conn *db;       /* borrowed; used by this thread only */
    PGresult *tables;  /* borrowed: (schema, table) rows */
    long long *counts; /* owned by the caller, one per table */
    int failed_at;     /* index of the failing table, -1 when none */
} count_job;

static void *count_worker(void *arg)
{
    count_job *j = arg;
    j->failed_at = -1;
    for (int i = 0; i < PQntuples(j->tables); i++) {
        char *qual = db_quote_qualified(PQgetvalue(j->tables, i, 0), PQgetvalue(j->tables, i, 1));
        char *sql = str_printf("SELECT count(*) FROM ONLY %s", qual);
        char *v = db_scalar(j->db, sql, 0, NULL, NULL);
        free(sql);
        free(qual);
        if (!v) {
            j->failed_at = i;
            break;
        }
        j->counts[i] = strtoll(v, NULL, 10);
        free(v);
    }
    return NULL;
}

static PGresult *count_table_list(cutover_ctx *c)
{
    const char *params[1] = {c->o->name};
    PGresult *r = db_exec(c->tgt, DB_LOG, sql_cutover_tables, 1, params);
    if (r && PQntuples(r) == 0) {
        PQclear(r);
        r = db_exec(c->src, DB_LOG, sql_cutover_source_tables, 0, NULL);
    }
    return r;
}

static bool set_statement_timeout(db_conn *db, double seconds)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SET statement_timeout = %ld",
             seconds > 0 ? (long)(seconds * 1000) : 1);
    return db_command(db, sql);
}

static bool compare_counts(cutover_ctx *c)
{
    if (c->o->skip_count) {
        log_info("step 6/7: row counts skipped (--skip-count)");
        return true;
    }
    double t0 = mono_now();
    PGresult *tables = count_table_list(c);
    if (!tables || !db_check_shape(c->tgt, tables, 2, 0, "table list")) {
        PQclear(tables);
        return fail(c, "row counts", "cannot list the tables to compare");
    }
    int n = PQntuples(tables);
    count_job jobs[2] = {
        {.db = c->src, .tables = tables, .counts = xcalloc((size_t)n + 1, sizeof(long long))},
        {.db = c->tgt, .tables = tables, .counts = xcalloc((size_t)n + 1, sizeof(long long))},
    };
    bool ok = set_statement_timeout(c->src, c->deadline - mono_now()) &&
              set_statement_timeout(c->tgt, c->deadline - mono_now());
    pthread_t th[2];
    int started = 0;
    for (; ok && started < 2; started++)
        if (pthread_create(&th[started], NULL, count_worker, &jobs[started]) != 0)
            break;
    for (int k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    if (ok && started < 2)
        ok = fail(c, "row counts", "cannot start a counting thread");
    if (!ok) {
        fail(c, "row counts", "cannot set statement_timeout");
    } else if (jobs[0].failed_at >= 0 || jobs[1].failed_at >= 0) {
        int k = jobs[0].failed_at >= 0 ? 0 : 1;
        ok = fail(c, "row counts", "counting %s.%s on the %s failed: %s",
                  PQgetvalue(tables, jobs[k].failed_at, 0),
                  PQgetvalue(tables, jobs[k].failed_at, 1), db_side_name(jobs[k].db->side),
                  jobs[k].db->last_error ? jobs[k].db->last_error : "?");
    } else {
        for (int i = 0; ok && i < n; i++)
            if (jobs[0].counts[i] != jobs[1].counts[i])
                ok = fail(c, "row counts",
                          "table %s.%s has %lld rows on the source, %lld on the target",
                          PQgetvalue(tables, i, 0), PQgetvalue(tables, i, 1), jobs[0].counts[i],
                          jobs[1].counts[i]);
    }
    /* a failed count leaves the session usable; reset the timeout */
    if (!db_command(c->src, "SET statement_timeout = 0") ||
        !db_command(c->tgt, "SET statement_timeout = 0"))
        ok = ok && fail(c, "row counts", "cannot reset statement_timeout");
    c->count_ms = (mono_now() - t0) * 1000;
    c->tables_compared = n;
    if (ok)
        log_info("step 6/7: row counts of %d table(s) equal on both sides (%.0f ms)", n,
                 c->count_ms);
    free(jobs[0].counts);
    free(jobs[1].counts);
    PQclear(tables);
    return ok;
}

/* --- step 7 -------------------------------------------------------------- */

static bool mark_done(cutover_ctx *c)
{
    char ms[32];
    snprintf(ms, sizeof ms, "%.3f", c->count_ms);
    const char *params[2] = {c->o->name, isnan(c->count_ms) ? NULL : ms};
    PGresult *r = db_exec(c->tgt, DB_LOG, sql_cutover_mark_done, 2, params);
    if (!r)
        return fail_db(c, "mark done", c->tgt);
    bool ok = PQntuples(r) == 1;
    if (ok)
        c->write_unavailable_ms = strtod(PQgetvalue(r, 0, 0), NULL);
    PQclear(r);
    if (!ok)
        return fail(c, "mark done", "changes arrived after the fence, or the phase changed");
    return true;
}

/* `start` exits when it sees phase 'done' and leaves the slot; wait a little
 * for that. Not fatal: the target is already authoritative. */
static void wait_start_stopped(cutover_ctx *c)
{
    const char *params[1] = {c->slot_name};
    double until = mono_now() + START_STOP_WAIT;
    for (;;) {
        char *v = db_scalar(c->src,
                            "SELECT coalesce((SELECT active FROM pg_replication_slots "
                            "WHERE slot_name = $1), false)::text",
                            1, params, NULL);
        bool active = v && strcmp(v, "true") == 0;
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

static int run_exec(cutover_ctx *c)
{
    log_info("running --exec hook");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        log_error("cannot start the --exec hook: fork failed");
        return -1;
    }
    if (pid == 0) {
        setenv("PGBATON_TARGET", c->o->target, 1);
        setenv("PGBATON_NAME", c->o->name, 1);
        execl("/bin/sh", "sh", "-c", c->o->exec, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* --- rollback ------------------------------------------------------------ */

/* Unfreeze the source and put the state back to streaming. Returns the exit
 * code: 4 when the source is writable again, 1 when it could not be
 * unfrozen. */
static int roll_back(cutover_ctx *c)
{
    log_error("cutover failed at step \"%s\": %s", c->step ? c->step : "?", c->error);
    bool unfrozen = false;
    if (c->database) {
        if (PQstatus(c->src->pg) != CONNECTION_OK) {
            db_close(c->src);
            c->src = db_connect(c->sci, DB_SOURCE, NULL, NULL, NULL);
        }
        unfrozen = c->src && freeze_undo(c->src, c->database, c->prev);
    }
    char reason[1200];
    snprintf(reason, sizeof reason, "cutover rolled back at step \"%s\": %s",
             c->step ? c->step : "?", c->error);
    if (PQstatus(c->tgt->pg) != CONNECTION_OK) {
        db_close(c->tgt);
        c->tgt = db_connect(c->tci, DB_TARGET, NULL, NULL, NULL);
    }
    const char *params[2] = {c->o->name, reason};
    if (unfrozen && !(c->tgt && target_update(c, sql_cutover_rollback, 2, params, NULL)))
        log_warn("could not put the migration back to streaming on the target: run "
                 "`pgbaton abort` or `pgbaton cutover` again");
    if (!unfrozen) {
        log_error("THE SOURCE IS STILL READ-ONLY: run `pgbaton abort` to unfreeze it");
        return EXIT_FAILURE_RUNTIME;
    }
    log_error("cutover rolled back: the source is writable again (database %s unfrozen)",
              c->database);
    return EXIT_ROLLED_BACK;
}

/* --- the command --------------------------------------------------------- */

static void print_result(cutover_ctx *c, const char *status, int rc)
{
    if (!c->o->json)
        return;
    json_t *j = json_object(); /* new reference, freed below */
    json_object_set_new(j, "name", json_string(c->o->name));
    json_object_set_new(j, "status", json_string(status));
    json_object_set_new(j, "exit_code", json_integer(rc));
    json_object_set_new(j, "failed_step", c->step ? json_string(c->step) : json_null());
    json_object_set_new(j, "error", c->error[0] ? json_string(c->error) : json_null());
    json_object_set_new(j, "source_writable", json_boolean(rc == EXIT_ROLLED_BACK));
    json_object_set_new(j, "write_unavailable_ms",
                        isnan(c->write_unavailable_ms) ? json_null()
                                                       : json_real(c->write_unavailable_ms));
    json_object_set_new(j, "count_ms", isnan(c->count_ms) ? json_null() : json_real(c->count_ms));
    json_object_set_new(j, "sequences_copied", json_integer(c->sequences));
    json_object_set_new(j, "tables_compared", json_integer(c->tables_compared));
    json_object_set_new(j, "exec_status",
                        c->exec_status < 0 ? json_null() : json_integer(c->exec_status));
    char *text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10));
    printf("%s\n", text);
    free(text);
    json_decref(j);
}

/* Steps 3 to 7 (after the freeze). False on failure (c->error set). */
static bool after_freeze(cutover_ctx *c)
{
    return write_fence(c) && wait_fence(c) && !past_deadline(c, "sequences") && copy_sequences(c) &&
           refresh_matviews(c) && !past_deadline(c, "row counts") && compare_counts(c) &&
           !past_deadline(c, "mark done") && mark_done(c);
}

static int finish(cutover_ctx *c)
{
    wait_start_stopped(c);
    const char *params[1] = {c->o->name};
    bool notified = db_commandp(c->tgt, "SELECT pg_notify('pgbaton_cutover', $1)", 1, params);
    if (!notified)
        log_warn("target: NOTIFY pgbaton_cutover failed");
    int rc = notified ? EXIT_OK : EXIT_FAILURE_RUNTIME;
    if (c->o->exec) {
        c->exec_status = run_exec(c);
        if (c->exec_status != 0) {
            log_error("the --exec hook failed (exit status %d); the target is ready all the same",
                      c->exec_status);
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
    print_result(c, "done", rc);
    return rc;
}

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
    return db_commandp(c->src, "SELECT pg_catalog.set_config('application_name', $1, false)", 1,
                       params) &&
           freeze_session_writable(c->src);
}

/* Where the migration stands; returns -1 to go on, or an exit code. */
static int check_state(cutover_ctx *c, bool *resume)
{
    status_snapshot s;
    if (!status_read(c->src, c->tgt, c->o->name, NULL, &s))
        return EXIT_FAILURE_RUNTIME;
    int rc = -1;
    *resume = false;
    if (!s.found) {
        log_error("no migration named \"%s\" on the target: run `pgbaton start` first (or check "
                  "--name)",
                  c->o->name);
        rc = EXIT_FAILURE_RUNTIME;
    } else if (!s.source_ok) {
        log_error("source: %s", s.source_error ? s.source_error : "unreachable");
        rc = EXIT_FAILURE_RUNTIME;
    } else if (strcmp(s.stored_phase, "done") == 0) {
        printf("migration %s is already done: the target is ready (nothing to do)\n", c->o->name);
        rc = EXIT_OK;
    } else if (s.cutover_running) {
        log_error("another `pgbaton cutover` of %s is running (its session is connected to the "
                  "source): wait for it",
                  c->o->name);
        rc = EXIT_FAILURE_RUNTIME;
    } else if (strcmp(s.stored_phase, "cutover") == 0 && s.frozen) {
        log_info("resuming an interrupted cutover: the source was frozen by an earlier run");
        *resume = true;
        c->database = s.freeze_database ? xstrdup(s.freeze_database) : xstrdup(s.source_database);
        c->prev = s.freeze_prev_readonly ? xstrdup(s.freeze_prev_readonly) : NULL;
    } else if (strcmp(s.stored_phase, "streaming") != 0) {
        log_error("migration %s is in phase %s: cutover needs phase streaming (`pgbaton start` "
                  "running and caught up)",
                  c->o->name, s.phase);
        rc = EXIT_FAILURE_RUNTIME;
    }
    if (s.found)
        c->slot_name = xstrdup(s.slot_name);
    status_free(&s);
    return rc;
}

static int cutover_run(cutover_ctx *c)
{
    if (!connect_both(c))
        return EXIT_FAILURE_RUNTIME;
    /* bring existing state up to date (new columns); idempotent. Not when
     * there is none: cutover creates nothing on a target start never used. */
    bool none = false;
    const char *reg[1] = {"pgbaton.migration"};
    char *exists = db_scalar(c->tgt, "SELECT to_regclass($1)::text", 1, reg, &none);
    free(exists);
    if (!none && !db_command(c->tgt, sql_state_schema))
        return EXIT_FAILURE_RUNTIME;
    bool resume;
    int rc = check_state(c, &resume);
    if (rc >= 0)
        return rc;
    signals_install();
    if (resume) {
        c->deadline = mono_now() + c->o->timeout;
        log_info("step 2/7: re-asserting the freeze of source database %s", c->database);
        if (!freeze_apply(c->src, c->database, c->o->timeout)) {
            fail_db(c, "freeze", c->src);
            rc = roll_back(c);
            print_result(c, "rolled_back", rc);
            return rc;
        }
    } else {
        /* statistics start has not gathered yet: now, while the source is
         * still writable, not in the write-unavailable window */
        if (!analyze_pending(c->tgt, c->o->name))
            log_warn("could not read which tables still need ANALYZE on the target; run "
                     "ANALYZE there after the cutover");
        rc = wait_for_lag(c);
        if (rc != EXIT_OK) {
            print_result(c, "not_started", rc);
            return rc;
        }
        if (!record_and_freeze(c)) {
            rc = roll_back(c);
            print_result(c, "rolled_back", rc);
            return rc;
        }
    }
    if (!after_freeze(c)) {
        rc = roll_back(c);
        print_result(c, "rolled_back", rc);
        return rc;
    }
    return finish(c);
}

int cmd_cutover(const pgb_options *o)
{
    cutover_ctx c = {.o = o, .count_ms = NAN, .write_unavailable_ms = NAN, .exec_status = -1};
    c.sci = cli_conninfo(o, DB_SOURCE);
    if (!c.sci)
        return EXIT_USAGE;
    c.tci = cli_conninfo(o, DB_TARGET);
    if (!c.tci) {
        conninfo_free(c.sci);
        return EXIT_USAGE;
    }
    int rc = cutover_run(&c);
    db_close(c.src);
    db_close(c.tgt);
    conninfo_free(c.sci);
    conninfo_free(c.tci);
    free(c.slot_name);
    free(c.database);
    free(c.prev);
    return rc;
}
