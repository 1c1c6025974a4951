/*
 * include/heartbeat.h — the source heartbeat of the streaming phase.
 *
 * A thread with its own ordinary source session writes, every second, a
 * non-transactional logical message with prefix "pgbaton" whose content is
 * {"ts": <source clock_timestamp()>, "name": <migration>}. When the apply
 * reaches it, its timestamp becomes pgbaton.migration.heartbeat_source_ts
 * (true lag in seconds even on an idle source) and its LSN the applied
 * position (the slot advances: no WAL pile-up on an idle source). The same
 * query reads the source's current WAL position for lag samples.
 */
#ifndef PGBATON_HEARTBEAT_H
#define PGBATON_HEARTBEAT_H

#include "conninfo.h"
#include "lsn.h"

typedef struct heartbeat heartbeat;

/* Start the thread (it connects, and reconnects with backoff, by itself).
 * SOURCE and NAME must outlive heartbeat_stop(). NULL if no thread. */
heartbeat *heartbeat_start(const conninfo *source, const char *name);

/* The source's WAL position at the last heartbeat, 0 when unknown. */
lsn_t heartbeat_source_lsn(heartbeat *h);

/* Stop the thread and free H (NULL is fine). */
void heartbeat_stop(heartbeat *h);

#endif
