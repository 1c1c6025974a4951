/*
 * src/stream.c — placeholder until the streaming issue lands: it only waits
 * for a stop signal, so that `start` can be tested end to end (copy, then
 * "streaming" until SIGTERM). The streaming branch replaces this file.
 */
#include "stream.h"

#include "log.h"
#include "signals.h"

#include <time.h>

int stream_follow(const stream_ctx *ctx)
{
    char buf[LSN_STRLEN];
    log_info("streaming from slot %s at %s (placeholder: waiting for a stop signal)",
             ctx->slot_name, lsn_format(ctx->start_lsn, buf, sizeof buf));
    const struct timespec step = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};
    while (!signals_stop_requested())
        nanosleep(&step, NULL);
    log_info("stop requested: streaming stopped; run pgbaton start again to resume");
    return EXIT_OK;
}
