/*
 * include/signals.h — SIGINT/SIGTERM: ask long-running work to stop cleanly.
 */
#ifndef PGBATON_SIGNALS_H
#define PGBATON_SIGNALS_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

/* Set (to the signal number) by SIGINT/SIGTERM once handlers are installed;
 * loops poll it and wind down: finish or roll back, send final feedback,
 * exit 0 with a line on how to resume. A lock-free atomic_int, so that the
 * handler may store to it (C11 7.14.1.1) and every thread (copy workers'
 * supervisor, stream, heartbeat, cutover) read it without a data race;
 * volatile sig_atomic_t is only good for the thread the handler interrupts.
 * Read it through signals_stop_requested(). */
extern atomic_int pgb_stop_requested;

/* Install the handlers (no SA_RESTART, so blocking calls return EINTR). */
void signals_install(void);

static inline bool signals_stop_requested(void)
{
    return atomic_load(&pgb_stop_requested) != 0;
}

#endif
