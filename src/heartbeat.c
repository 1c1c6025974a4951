/*
 * src/heartbeat.c — one logical message per second on the source.
 *
 * How it works: a thread loops until asked to stop: connect when needed
 * (quietly; one warning per outage, one line when it is back), run the
 * heartbeat query, publish the source's WAL position, sleep one second in
 * short steps so that a stop is quick. Failures never stop the migration:
 * the stream goes on without heartbeats.
 */
#include "heartbeat.h"

#include "db.h"
#include "log.h"
#include "signals.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BEAT_MS 1000
#define STEP_MS 50

static const char sql_beat[] =
    "SELECT pg_catalog.pg_logical_emit_message(false, 'pgbaton', "
    "pg_catalog.json_build_object('ts', pg_catalog.clock_timestamp(), 'name', $1::text)::text), "
    "pg_catalog.pg_current_wal_lsn()::text";

struct heartbeat {
    const conninfo *source; /* borrowed */
    const char *name;       /* borrowed */
    pthread_t thread;
    atomic_int stop;         /* set by heartbeat_stop, polled by the thread */
    _Atomic(lsn_t) last_lsn; /* source position at the last beat; read by the stream */
};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool stopping(heartbeat *h)
{
    return atomic_load(&h->stop) || signals_stop_requested();
}

static bool beat(heartbeat *h, db_conn *db)
{
    const char *params[1] = {h->name};
    db_res *r = db_exec(db, DB_QUIET, sql_beat, 1, params);
    if (!r)
        return false;
    lsn_t lsn;
    if (db_nrows(r) == 1 && db_ncols(r) == 2 && lsn_parse(db_val(r, 0, 1), &lsn))
        atomic_store(&h->last_lsn, lsn);
    db_res_free(r);
    return true;
}

static db_conn *connect_source(heartbeat *h)
{
    db_connect_opts co = {
        .mode = DB_MODE_NORMAL, .application_name = "pgbaton heartbeat", .errmode = DB_QUIET};
    return db_connect(h->source, DB_SOURCE, &co, NULL, NULL);
}

/* The beat on DB failed because its session was gone (the cutover's freeze
 * ends every session on the source, this one included; so may an
 * administrator): a new session and one more beat, at once. True when that
 * beat went through; *DB is then the new session. The expected end is said
 * in plain words, not as a crash. */
static bool beat_again(heartbeat *h, db_conn **db)
{
    if (!*db || db_alive(*db))
        return false;
    db_close(*db);
    *db = connect_source(h);
    if (!*db || !beat(h, *db))
        return false;
    log_info("heartbeat: the source ended pgbaton's heartbeat session (a cutover's freeze ends "
             "every session); a new one writes the heartbeats");
    return true;
}

static void *run(void *arg)
{
    heartbeat *h = arg;
    db_conn *db = NULL;
    bool failing = false;
    int backoff = 500;
    while (!stopping(h)) {
        if (!db)
            db = connect_source(h);
        if (db && (beat(h, db) || (!failing && beat_again(h, &db)))) {
            if (failing)
                log_info("heartbeat: writing to the source again");
            failing = false;
            backoff = 500;
        } else {
            if (!failing)
                log_warn("heartbeat: cannot write the heartbeat message on the source%s%s; "
                         "retrying (lag in seconds is stale meanwhile)",
                         db && db->err.text ? ": " : "", db ? db_errtext(db, "") : "");
            failing = true;
            db_close(db);
            db = NULL;
        }
        int wait = failing ? backoff : BEAT_MS;
        if (failing && backoff < 10000)
            backoff *= 2;
        for (int t = 0; t < wait && !stopping(h); t += STEP_MS)
            sleep_ms(STEP_MS);
    }
    db_close(db);
    return NULL;
}

heartbeat *heartbeat_start(const conninfo *source, const char *name)
{
    heartbeat *h = xcalloc(1, sizeof *h);
    h->source = source;
    h->name = name;
    atomic_init(&h->stop, 0);
    atomic_init(&h->last_lsn, LSN_INVALID);
    if (pthread_create(&h->thread, NULL, run, h) != 0) {
        log_warn("heartbeat: cannot start its thread; lag in seconds will not be measured");
        free(h);
        return NULL;
    }
    return h;
}

lsn_t heartbeat_source_lsn(heartbeat *h)
{
    return h ? atomic_load(&h->last_lsn) : LSN_INVALID;
}

void heartbeat_stop(heartbeat *h)
{
    if (!h)
        return;
    atomic_store(&h->stop, 1);
    pthread_join(h->thread, NULL);
    free(h);
}
