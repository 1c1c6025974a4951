/*
 * src/stream.c — placeholder until the streaming issue lands.
 */
#include "stream.h"

#include "log.h"

int stream_follow(const stream_ctx *ctx)
{
    (void)ctx;
    log_error("streaming is not implemented yet");
    return EXIT_FAILURE_RUNTIME;
}
