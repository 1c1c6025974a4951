/*
 * include/mono.h — the monotonic clock, for timeouts, intervals and
 * durations (never for timestamps a user sees).
 */
#ifndef PGBATON_MONO_H
#define PGBATON_MONO_H

/* Seconds on CLOCK_MONOTONIC (an arbitrary origin). */
double mono_now(void);

#endif
