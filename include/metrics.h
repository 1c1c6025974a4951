/*
 * include/metrics.h — `start --metrics [HOST:]PORT`: Prometheus text
 * metrics on a plain HTTP endpoint (GET /metrics).
 *
 * Off unless asked for; HOST defaults to 127.0.0.1 (loopback), so that the
 * endpoint is reachable from elsewhere only when the user names an
 * address. Each scrape reads what `pgbaton status` reads (the state on the
 * target, the slot on the source: src/status.c) on sessions of the metrics
 * thread's own, so the numbers are the ones status prints. The metric names
 * are listed in docs/user-guide.md ("Metrics").
 */
#ifndef PGBATON_METRICS_H
#define PGBATON_METRICS_H

#include "conninfo.h"
#include "status.h"

#include <stdbool.h>

/* Split SPEC, "[HOST:]PORT" ("[ADDR6]:PORT" for an IPv6 address), into
 * *HOST and *PORT (malloc'd; HOST "127.0.0.1" when not given). False with
 * *ERR (malloc'd, one sentence naming the fix) when SPEC is not one. */
bool metrics_parse(const char *spec, char **host, char **port, char **err);

typedef struct metrics_server metrics_server;

/* Bind SPEC and serve migration NAME's metrics from a thread, reading
 * SOURCE and TARGET (borrowed: they must outlive the server). NULL with
 * *ERR (malloc'd) when SPEC is invalid or cannot be bound. */
metrics_server *metrics_start(const char *spec, const conninfo *source, const conninfo *target,
                              const char *name, char **err) __attribute__((warn_unused_result));

/* Stop serving, close the sessions, join the thread; NULL: nothing. */
void metrics_stop(metrics_server *m);

/* The metrics text of snapshot S of migration NAME (READ_OK: the state was
 * read; otherwise only pgbaton_up and pgbaton_state_read_ok 0). Malloc'd. */
char *metrics_render(const char *name, const status_snapshot *s, bool read_ok);

#endif
