/*
 * include/signals.h — SIGINT/SIGTERM: ask long-running work to stop cleanly.
 */
#ifndef PGBATON_SIGNALS_H
#define PGBATON_SIGNALS_H

#include <signal.h>
#include <stdbool.h>

/* Set (to the signal number) by SIGINT/SIGTERM once handlers are installed;
 * loops poll it and wind down: finish or roll back, send final feedback,
 * exit 0 with a line on how to resume. */
extern volatile sig_atomic_t pgb_stop_requested;

/* Install the handlers (no SA_RESTART, so blocking calls return EINTR). */
void signals_install(void);

static inline bool signals_stop_requested(void)
{
    return pgb_stop_requested != 0;
}

#endif
