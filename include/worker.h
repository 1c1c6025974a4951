/*
 * include/worker.h — the one worker runtime: N threads over a caller's work
 * function, stopped as one.
 *
 * The copy (data and index builds), verify's data workers and the ANALYZE
 * of start run on it. A pool starts N threads that each run the caller's
 * function (which takes work from the caller's own queue until there is
 * none). The runtime owns what every pool must do the same way:
 *   - the FIRST failure (worker_pool_fail) is recorded with its message;
 *     later ones (often the cancellations it caused) are not;
 *   - on that failure, on worker_pool_stop, or when signals_stop_requested()
 *     becomes true (when the pool watches signals), the pool stops: every
 *     in-flight query of every worker is cancelled (each worker registers
 *     its connections with worker_watch), the caller's on_stop callback
 *     wakes workers waiting in the caller's queue, and workers see
 *     worker_stopping() and start nothing new;
 *   - worker_pool_wait joins every worker before it returns.
 * Cancels are sent again every second while workers remain, so that a
 * query a worker started just as the pool stopped is cancelled too.
 */
#ifndef PGBATON_WORKER_H
#define PGBATON_WORKER_H

#include "db.h"

#include <stdbool.h>

typedef struct worker_pool worker_pool;

/* One worker thread's handle, passed to the work function. */
typedef struct worker_slot worker_slot;

/* The body of a worker: take and run work until there is none or the pool
 * stops. Returns false on failure; worker_pool_fail should have said why
 * (otherwise "NAME worker N failed" is recorded). */
typedef bool (*worker_fn)(worker_slot *w, void *arg);

typedef struct worker_pool_opts {
    const char *name; /* for messages: "copy", "verify", "analyze" */
    int nworkers;     /* threads to start (at least 1) */
    worker_fn run;    /* each thread's body */
    void *arg;        /* passed to RUN, ON_STOP and TICK */
    /* Called once when the pool stops (from the thread that stopped it,
     * without the pool's lock): wake workers that wait for work in the
     * caller's queue. NULL: none. */
    void (*on_stop)(void *arg);
    /* Called on the thread in worker_pool_wait about every TICK_MS (100
     * by default) and once more when a worker leaves: progress. NULL: none. */
    void (*tick)(void *arg);
    int tick_ms;
    /* When set, a stop signal stops the pool and records this message as
     * its failure; NULL: signals are not watched. */
    const char *signal_message;
} worker_pool_opts;

/* Start the pool's threads (OPTS copied; its strings and ARG must outlive
 * the pool). Never NULL: a thread that cannot be started fails the pool
 * ("could not start NAME worker N"), and worker_pool_wait reports it. */
worker_pool *worker_pool_start(const worker_pool_opts *opts) __attribute__((warn_unused_result));

/* Supervise the pool until every worker has left (ticks, signals, repeated
 * cancels), join them and free POOL. True when no failure was recorded;
 * otherwise false and, when FIRST_ERROR is not NULL, *FIRST_ERROR gets the
 * first failure's message (malloc'd, the caller frees it). */
bool worker_pool_wait(worker_pool *pool, char **first_error) __attribute__((warn_unused_result));

/* Record a failure (the first one only is kept) and stop the pool. Any
 * thread. */
void worker_pool_fail(worker_pool *pool, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Stop the pool without a failure (the caller wants it to end: ANALYZE at
 * the end of start, a failed preparation). Any thread. */
void worker_pool_stop(worker_pool *pool);

/* Has the pool stopped (a failure, a signal or worker_pool_stop)? */
bool worker_pool_stopping(worker_pool *pool);

/* The pool a worker belongs to, and its number (0 .. nworkers-1). */
worker_pool *worker_pool_of(const worker_slot *w);
int worker_index(const worker_slot *w);
static inline bool worker_stopping(const worker_slot *w)
{
    return worker_pool_stopping(worker_pool_of(w));
}

/* Register DB (a connection of worker W) so that a stop cancels its query
 * in flight; false when no cancel handle could be made (logged at DEBUG; the
 * worker still runs, its query just cannot be cancelled). Unregister with
 * worker_unwatch before closing DB. */
bool worker_watch(worker_slot *w, db_conn *db);
void worker_unwatch(worker_slot *w, db_conn *db);

#endif
