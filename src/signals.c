/*
 * src/signals.c — stop requests from SIGINT/SIGTERM.
 */
#include "signals.h"

#include <assert.h>
#include <string.h>

/* a signal handler may only touch lock-free atomics */
static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic_int must be lock-free");

atomic_int pgb_stop_requested = 0;

static void on_stop(int sig)
{
    atomic_store(&pgb_stop_requested, sig);
}

void signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}
