/*
 * include/lag.h — replication lag arithmetic (pure, unit-tested): lag in
 * seconds on the source's clock, and the ETA to zero lag.
 */
#ifndef PGBATON_LAG_H
#define PGBATON_LAG_H

#include <stdbool.h>
#include <stdint.h>

/* A heartbeat at most this old (seconds) lets lag be 0 when no byte is
 * left to apply. */
#define LAG_HEARTBEAT_FRESH 2.0

/* Lag in seconds, every time on the source's clock (epoch seconds; NAN when
 * unknown): 0 when LAG_BYTES is 0 and the last applied heartbeat is fresh
 * (or there is none); otherwise SOURCE_NOW minus the newest of
 * HEARTBEAT_EPOCH (the source time carried by the last applied heartbeat)
 * and APPLIED_EPOCH (the last applied commit's source timestamp): all
 * changes up to that instant are applied, so this bounds the age of the
 * oldest change not yet applied. NAN when neither is known or LAG_BYTES < 0
 * (unknown). */
double lag_seconds(int64_t lag_bytes, double source_now, double heartbeat_epoch,
                   double applied_epoch);

/* Is the target in step with the source: nothing left to apply (LAG_BYTES
 * 0), or every change committed more than LAG_HEARTBEAT_FRESH seconds ago
 * applied (LAG_SECONDS, NAN: unknown)? A few bytes of lag are the normal
 * state of a live stream: the heartbeat and other sessions write WAL all
 * the time, and the applier confirms it a moment later. */
bool lag_in_step(int64_t lag_bytes, double lag_seconds);

/* ETA (seconds) to zero lag from two lag readings (T0, LAG0) and (T1, LAG1)
 * and the current lag LAG_NOW: 0 when there is no lag, NAN when the lag is
 * not shrinking. */
double lag_eta(double t0, int64_t lag0, double t1, int64_t lag1, int64_t lag_now);

#endif
