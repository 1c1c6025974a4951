/*
 * src/worker.c — the one worker runtime (see include/worker.h).
 *
 * How a pool lives
 * ----------------
 * worker_pool_start() starts N threads; each runs the caller's function
 * once and leaves. A worker registers each of its connections
 * (worker_watch), which keeps a cancel handle for it in the worker's slot.
 * The pool is running until the first of:
 *   - worker_pool_fail() (any thread): the message is kept if it is the
 *     first, and the pool stops;
 *   - worker_pool_stop() (any thread): the pool stops without a failure;
 *   - a stop signal, seen by the supervisor (the thread in
 *     worker_pool_wait), when the pool watches signals: a failure with the
 *     pool's signal message.
 * Stopping, once: the stopping flag is set (workers poll it between rows
 * and items), every registered session gets a cancel request (the query in
 * flight, a COPY or CREATE INDEX that would run for an hour, ends with
 * "canceling statement due to user request"), and the caller's on_stop
 * wakes workers waiting in its queue. The supervisor sends the cancels
 * again every CANCEL_REPEAT_MS until the last worker has left: a worker
 * that had just checked the flag when the pool stopped may start one more
 * query after the first round of cancels. worker_pool_wait joins every
 * thread before it returns, so no worker outlives it.
 *
 * The cancel handles are touched only under the pool's lock (registration,
 * sends, removal), which also serializes the sends on each handle as libpq
 * asks.
 */
#include "worker.h"

#include "log.h"
#include "mono.h"
#include "signals.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define WATCH_MAX        4   /* connections a worker may register */
#define TICK_MS_DEFAULT  100 /* supervisor's wake-up period */
#define CANCEL_REPEAT_MS 1000

struct worker_slot {
    worker_pool *pool;
    int index;
    pthread_t thread;
    db_conn *watched[WATCH_MAX];      /* registered sessions (borrowed) */
    db_canceller *cancels[WATCH_MAX]; /* their cancel handles; owned, under lock */
};

struct worker_pool {
    worker_pool_opts o; /* copied from the caller */
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a worker left, or the pool stopped */
    atomic_int stopping; /* set once; polled without the lock */
    char *first_error;   /* owned; under lock */
    int running;         /* workers not yet left; under lock */
    int started;         /* threads to join */
    worker_slot *slots;  /* owned; o.nworkers of them */
};

/* Send a cancel to every registered session (caller holds the lock). */
static void cancel_all_locked(worker_pool *pool)
{
    for (int i = 0; i < pool->started; i++)
        for (int k = 0; k < WATCH_MAX; k++)
            if (pool->slots[i].cancels[k])
                (void)db_canceller_send(pool->slots[i].cancels[k]);
}

/* Stop the pool, recording MSG (may be NULL) as its failure if it is the
 * first. */
static void stop_pool(worker_pool *pool, const char *msg)
{
    pthread_mutex_lock(&pool->lock);
    if (msg && !pool->first_error)
        pool->first_error = xstrdup(msg);
    bool first = atomic_exchange(&pool->stopping, 1) == 0;
    if (first)
        cancel_all_locked(pool);
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->lock);
    if (first && pool->o.on_stop)
        pool->o.on_stop(pool->o.arg);
}

void worker_pool_fail(worker_pool *pool, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    stop_pool(pool, msg);
}

void worker_pool_stop(worker_pool *pool)
{
    stop_pool(pool, NULL);
}

bool worker_pool_stopping(worker_pool *pool)
{
    return atomic_load(&pool->stopping) != 0;
}

worker_pool *worker_pool_of(const worker_slot *w)
{
    return w->pool;
}

int worker_index(const worker_slot *w)
{
    return w->index;
}

bool worker_watch(worker_slot *w, db_conn *db)
{
    db_canceller *c = db_canceller_new(db);
    if (!c)
        return false;
    worker_pool *pool = w->pool;
    pthread_mutex_lock(&pool->lock);
    for (int k = 0; k < WATCH_MAX; k++)
        if (!w->cancels[k]) {
            w->watched[k] = db;
            w->cancels[k] = c;
            c = NULL;
            break;
        }
    pthread_mutex_unlock(&pool->lock);
    if (c) {
        log_debug("%s worker %d: too many sessions to watch", pool->o.name, w->index + 1);
        db_canceller_free(c);
        return false;
    }
    return true;
}

void worker_unwatch(worker_slot *w, db_conn *db)
{
    if (!db)
        return;
    db_canceller *c = NULL;
    pthread_mutex_lock(&w->pool->lock);
    for (int k = 0; k < WATCH_MAX; k++)
        if (w->cancels[k] && w->watched[k] == db) {
            c = w->cancels[k];
            w->cancels[k] = NULL;
            w->watched[k] = NULL;
            break;
        }
    pthread_mutex_unlock(&w->pool->lock);
    db_canceller_free(c);
}

static void *thread_main(void *arg)
{
    worker_slot *w = arg;
    worker_pool *pool = w->pool;
    bool ok = pool->o.run(w, pool->o.arg);
    /* a worker that gives up because the pool stopped (its query was
     * cancelled) adds nothing to the failure that stopped it */
    if (!ok && !worker_pool_stopping(pool))
        worker_pool_fail(pool, "%s worker %d failed (see above)", pool->o.name, w->index + 1);
    pthread_mutex_lock(&pool->lock);
    for (int k = 0; k < WATCH_MAX; k++) {
        db_canceller_free(w->cancels[k]);
        w->cancels[k] = NULL;
        w->watched[k] = NULL;
    }
    pool->running--;
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

worker_pool *worker_pool_start(const worker_pool_opts *opts)
{
    worker_pool *pool = xcalloc(1, sizeof *pool);
    pool->o = *opts;
    if (pool->o.nworkers < 1)
        pool->o.nworkers = 1;
    if (pool->o.tick_ms <= 0)
        pool->o.tick_ms = TICK_MS_DEFAULT;
    atomic_init(&pool->stopping, 0);
    pthread_mutex_init(&pool->lock, NULL);
    pthread_condattr_t ca; /* timed waits on the monotonic clock */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&pool->cond, &ca);
    pthread_condattr_destroy(&ca);
    pool->slots = xcalloc((size_t)pool->o.nworkers, sizeof *pool->slots);
    for (int i = 0; i < pool->o.nworkers; i++) {
        worker_slot *w = &pool->slots[i];
        w->pool = pool;
        w->index = i;
        pthread_mutex_lock(&pool->lock);
        pool->running++;
        pool->started++;
        pthread_mutex_unlock(&pool->lock);
        if (pthread_create(&w->thread, NULL, thread_main, w) != 0) {
            pthread_mutex_lock(&pool->lock);
            pool->running--;
            pool->started--;
            pthread_mutex_unlock(&pool->lock);
            worker_pool_fail(pool, "could not start %s worker %d", pool->o.name, i + 1);
            break;
        }
    }
    return pool;
}

/* Wait on the pool's condition for up to MS milliseconds (lock held). */
static void timed_wait(worker_pool *pool, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000 * 1000;
    if (until.tv_nsec >= 1000 * 1000 * 1000) {
        until.tv_sec++;
        until.tv_nsec -= 1000 * 1000 * 1000;
    }
    pthread_cond_timedwait(&pool->cond, &pool->lock, &until);
}

bool worker_pool_wait(worker_pool *pool, char **first_error)
{
    double last_cancel = mono_now();
    for (;;) {
        pthread_mutex_lock(&pool->lock);
        if (pool->running > 0)
            timed_wait(pool, pool->o.tick_ms);
        int left = pool->running;
        pthread_mutex_unlock(&pool->lock);
        if (left == 0)
            break;
        if (pool->o.signal_message && signals_stop_requested() && !worker_pool_stopping(pool))
            worker_pool_fail(pool, "%s", pool->o.signal_message);
        if (worker_pool_stopping(pool) && (mono_now() - last_cancel) * 1000 >= CANCEL_REPEAT_MS) {
            pthread_mutex_lock(&pool->lock);
            cancel_all_locked(pool);
            pthread_mutex_unlock(&pool->lock);
            last_cancel = mono_now();
        }
        if (pool->o.tick)
            pool->o.tick(pool->o.arg);
    }
    for (int i = 0; i < pool->started; i++)
        pthread_join(pool->slots[i].thread, NULL);
    bool ok = pool->first_error == NULL;
    if (first_error)
        *first_error = pool->first_error;
    else
        free(pool->first_error);
    free(pool->slots);
    pthread_cond_destroy(&pool->cond);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
    return ok;
}
