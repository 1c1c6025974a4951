/*
 * include/stream.h — the streaming phase of `pgbaton start`: follow the
 * logical slot (wal2json or pgoutput) and apply every change to the target, exactly
 * once and in source commit order, until stopped.
 */
#ifndef PGBATON_STREAM_H
#define PGBATON_STREAM_H

#include "conninfo.h"
#include "lsn.h"

#include <stdbool.h>

typedef struct stream_ctx {
    const char *name; /* the migration (--name) */
    /* Is SCHEMA.TABLE one of the migration's tables? (the table filters) */
    bool (*selected)(const void *arg, const char *schema, const char *table);
    const void *selected_arg;
    const conninfo *source;      /* borrowed */
    const conninfo *target;      /* borrowed */
    const char *slot_name;       /* borrowed */
    const char *plugin;          /* "wal2json" or "pgoutput" */
    const char *publication;     /* pgoutput's publication; borrowed */
    lsn_t start_lsn;             /* pgbaton.migration.applied_lsn */
    const char *source_encoding; /* the source database's server_encoding */
} stream_ctx;

/* Follow the slot from ctx->start_lsn (or the applied_lsn committed on the
 * target, which wins once set) and apply changes until a stop signal
 * (pgb_stop_requested) or the migration's phase becomes 'done'. Reconnects
 * with backoff after connection losses. Returns EXIT_OK on a clean stop
 * (SIGINT/SIGTERM, phase 'done'); EXIT_FAILURE_RUNTIME on a fatal error (a
 * rejected change, a schema difference, a missing slot): the error is
 * written to pgbaton.migration.last_error and the phase stays 'streaming',
 * so that `pgbaton start` resumes once the cause is fixed (the next
 * successful commit clears last_error). Only the tables ctx->selected
 * accepts are applied. */
int stream_follow(const stream_ctx *ctx);

#endif
