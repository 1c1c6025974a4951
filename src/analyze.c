/*
 * src/analyze.c — ANALYZE of the copied tables, after the copy (see
 * include/analyze.h for why it is not part of the copy).
 *
 * The pending tables are those of the migration whose
 * pgbaton.table_state.analyzed_at is NULL; each ANALYZE is followed by
 * setting it, so a stop between two tables loses nothing and a later start
 * or cutover goes on from there. ANALYZE takes a SHARE UPDATE EXCLUSIVE
 * lock: it runs beside the applier's INSERT/UPDATE/DELETE without blocking
 * them.
 */
#include "analyze.h"

#include "log.h"
#include "mono.h"
#include "strutil.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct analyzer {
    const conninfo *target; /* borrowed */
    const char *migration;  /* borrowed */
    pthread_t thread;
    pthread_mutex_t lock;
    PGcancel *cancel; /* of the thread's session while it runs; under lock */
    atomic_int stop;  /* set by analyze_stop, polled by the thread */
};

static const char sql_pending[] =
    "SELECT pg_catalog.quote_ident(schema_name) || '.' || pg_catalog.quote_ident(table_name), "
    "schema_name, table_name FROM pgbaton.table_state "
    "WHERE migration = $1 AND analyzed_at IS NULL ORDER BY size_bytes DESC NULLS LAST";

static const char sql_mark[] = "UPDATE pgbaton.table_state SET analyzed_at = now() "
                               "WHERE migration = $1 AND schema_name = $2 AND table_name = $3";

static bool stopped(const atomic_int *stop)
{
    return stop && atomic_load(stop);
}

/* Analyze the pending tables of MIGRATION on DB until done or *STOP. */
static bool run_pending(db_conn *db, const char *migration, const atomic_int *stop)
{
    /* a large table's ANALYZE may outlast a statement_timeout the role has */
    if (!db_command(db, "SET statement_timeout = 0"))
        return false;
    const char *params[] = {migration};
    PGresult *r = db_exec(db, DB_LOG, sql_pending, 1, params);
    if (!r)
        return false;
    int n = PQntuples(r);
    int done = 0;
    double t0 = mono_now();
    if (n > 0)
        log_info("gathering statistics on the target: ANALYZE of %d copied table%s", n,
                 n == 1 ? "" : "s");
    for (int i = 0; i < n && !stopped(stop); i++) {
        const char *qname = PQgetvalue(r, i, 0);
        char *sql = str_printf("ANALYZE %s", qname);
        double t = mono_now();
        PGresult *ar = db_exec(db, DB_QUIET, sql, 0, NULL);
        bool ok = ar != NULL;
        PQclear(ar);
        free(sql);
        if (stopped(stop))
            break; /* cancelled: the table stays pending */
        if (!ok) {
            log_warn("could not ANALYZE %s on the target: %s; cutover will try again (or run "
                     "ANALYZE on it yourself)",
                     qname, db->last_error ? db->last_error : "unknown error");
            continue;
        }
        const char *mark[] = {migration, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2)};
        if (!db_commandp(db, sql_mark, 3, mark)) {
            PQclear(r);
            return false;
        }
        log_debug("analyzed %s in %.0f ms", qname, (mono_now() - t) * 1000);
        done++;
    }
    if (n > 0 && done == n)
        log_info("statistics gathered on the target (%d table%s, %.1f s)", n, n == 1 ? "" : "s",
                 mono_now() - t0);
    PQclear(r);
    return true;
}

bool analyze_pending(db_conn *db, const char *migration)
{
    /* DB is the caller's session: give it back with the statement_timeout
     * it had (run_pending set 0 for the ANALYZEs) */
    bool ok = run_pending(db, migration, NULL);
    return db_command(db, "RESET statement_timeout") && ok;
}

static void *run(void *arg)
{
    analyzer *a = arg;
    db_connect_opts co = {.mode = DB_MODE_NORMAL, .application_name = "pgbaton analyze"};
    db_conn *db = db_connect(a->target, DB_TARGET, &co, NULL, NULL);
    if (!db) {
        log_warn("could not connect to the target to ANALYZE the copied tables; cutover will "
                 "do it");
        return NULL;
    }
    pthread_mutex_lock(&a->lock);
    a->cancel = PQgetCancel(db->pg);
    pthread_mutex_unlock(&a->lock);
    if (!run_pending(db, a->migration, &a->stop))
        log_warn("the copied tables could not all be analyzed now; cutover will finish it");
    pthread_mutex_lock(&a->lock);
    PQfreeCancel(a->cancel);
    a->cancel = NULL;
    pthread_mutex_unlock(&a->lock);
    db_close(db);
    return NULL;
}

analyzer *analyze_start(const conninfo *target, const char *migration)
{
    analyzer *a = xcalloc(1, sizeof *a);
    a->target = target;
    a->migration = migration;
    atomic_init(&a->stop, 0);
    pthread_mutex_init(&a->lock, NULL);
    if (pthread_create(&a->thread, NULL, run, a) != 0) {
        log_warn("cannot start the ANALYZE thread; cutover will analyze the copied tables");
        pthread_mutex_destroy(&a->lock);
        free(a);
        return NULL;
    }
    return a;
}

void analyze_stop(analyzer *a)
{
    if (!a)
        return;
    atomic_store(&a->stop, 1);
    pthread_mutex_lock(&a->lock);
    if (a->cancel) {
        char err[256];
        (void)PQcancel(a->cancel, err, sizeof err);
    }
    pthread_mutex_unlock(&a->lock);
    pthread_join(a->thread, NULL);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
