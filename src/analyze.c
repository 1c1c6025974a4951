/*
 * src/analyze.c — ANALYZE of the copied tables, after the copy (see
 * include/analyze.h for why it is not part of the copy).
 *
 * The pending tables are those of the migration whose
 * pgbaton.table_state.analyzed_at is NULL; each ANALYZE is followed by
 * setting it, so a stop between two tables loses nothing and a later start
 * or cutover goes on from there. ANALYZE takes a SHARE UPDATE EXCLUSIVE
 * lock: it runs beside the applier's INSERT/UPDATE/DELETE without blocking
 * them. The thread is a one-worker pool of the worker runtime
 * (src/worker.c): analyze_stop stops the pool, which cancels the ANALYZE in
 * flight, and waits for the worker.
 */
#include "analyze.h"

#include "log.h"
#include "mono.h"
#include "state.h"
#include "strutil.h"
#include "worker.h"
#include "xalloc.h"

#include <stdlib.h>

struct analyzer {
    const conninfo *target; /* borrowed */
    const char *migration;  /* borrowed */
    worker_pool *pool;      /* the one worker; owned */
};

/* Has the worker W (NULL: the caller's own session) been told to stop? */
static bool stopped(const worker_slot *w)
{
    return w && worker_stopping(w);
}

/* Analyze the pending tables of MIGRATION on DB until done or until the
 * pool of worker STOP (may be NULL) stops. */
static bool run_pending(db_conn *db, const char *migration, const worker_slot *stop)
{
    /* a large table's ANALYZE may outlast a statement_timeout the role has */
    if (!db_command(db, "SET statement_timeout = 0"))
        return false;
    state_relname *tables = NULL;
    int n = 0;
    if (!state_analyze_pending(db, migration, &tables, &n))
        return false;
    int done = 0;
    bool marked = true; /* false when the state could not be written */
    double t0 = mono_now();
    if (n > 0)
        log_info("gathering statistics on the target: ANALYZE of %d copied table%s", n,
                 n == 1 ? "" : "s");
    for (int i = 0; i < n && marked && !stopped(stop); i++) {
        char *qname = db_quote_qualified(tables[i].schema, tables[i].table);
        char *sql = str_printf("ANALYZE %s", qname);
        double t = mono_now();
        db_res *ar = db_exec(db, DB_QUIET, sql, 0, NULL);
        bool ok = ar != NULL;
        db_res_free(ar);
        free(sql);
        if (stopped(stop)) {
            /* cancelled: the table stays pending */
        } else if (!ok) {
            log_warn("could not ANALYZE %s on the target: %s; cutover will try again (or run "
                     "ANALYZE on it yourself)",
                     qname, db_errtext(db, "unknown error"));
        } else if ((marked =
                        state_analyze_mark(db, migration, tables[i].schema, tables[i].table))) {
            log_debug("analyzed %s in %.0f ms", qname, (mono_now() - t) * 1000);
            done++;
        }
        free(qname);
    }
    state_relnames_free(tables, n);
    if (!marked)
        return false;
    if (n > 0 && done == n)
        log_info("statistics gathered on the target (%d table%s, %.1f s)", n, n == 1 ? "" : "s",
                 mono_now() - t0);
    return true;
}

bool analyze_pending(db_conn *db, const char *migration)
{
    /* DB is the caller's session: give it back with the statement_timeout
     * it had (run_pending set 0 for the ANALYZEs) */
    bool ok = run_pending(db, migration, NULL);
    return db_command(db, "RESET statement_timeout") && ok;
}

/* The worker (worker_fn): warnings only, the stream goes on regardless. */
static bool analyze_body(worker_slot *w, void *arg)
{
    analyzer *a = arg;
    db_connect_opts co = {.mode = DB_MODE_NORMAL, .application_name = "pgbaton analyze"};
    db_conn *db = db_connect(a->target, DB_TARGET, &co, NULL, NULL);
    if (!db) {
        log_warn("could not connect to the target to ANALYZE the copied tables; cutover will "
                 "do it");
        return true;
    }
    (void)worker_watch(w, db); /* analyze_stop cancels the ANALYZE in flight */
    if (!run_pending(db, a->migration, w) && !worker_stopping(w))
        log_warn("the copied tables could not all be analyzed now; cutover will finish it");
    worker_unwatch(w, db);
    db_close(db);
    return true;
}

analyzer *analyze_start(const conninfo *target, const char *migration)
{
    analyzer *a = xcalloc(1, sizeof *a);
    a->target = target;
    a->migration = migration;
    a->pool = worker_pool_start(
        &(worker_pool_opts){.name = "analyze", .nworkers = 1, .run = analyze_body, .arg = a});
    return a;
}

void analyze_stop(analyzer *a)
{
    if (!a)
        return;
    worker_pool_stop(a->pool);
    char *err = NULL;
    if (!worker_pool_wait(a->pool, &err))
        log_warn("%s; cutover will analyze the copied tables", err ? err : "ANALYZE failed");
    free(err);
    free(a);
}
