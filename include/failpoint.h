/*
 * include/failpoint.h — named failure points, a testing facility (the fault
 * matrix, tests/tap/110_fault_matrix.t; docs/testing.md). Not for
 * production use.
 *
 * The environment variable PGBATON_FAILPOINT, read once at main's start,
 * names points at which the program fails on purpose:
 *     PGBATON_FAILPOINT=SPEC[,SPEC...]        SPEC = NAME[:N][=ACTION]
 * The N-th time (default 1) the program passes point NAME (failpoint(NAME),
 * counted over all threads), ACTION happens, once:
 *   kill          raise(SIGKILL): nothing flushed, no atexit handler, no
 *                 cleanup, as a crash or `kill -9` would leave things
 *                 (the default);
 *   error-source  the next query that the thread which passed the point
 *   error-target  sends to that side fails with a real server error
 *                 ("pgbaton failpoint NAME", SQLSTATE P0001): src/db*.c send
 *                 a DO block that raises it instead of the statement, so the
 *                 failure goes through the program's usual error path.
 * Unset or empty, every failpoint() is one test of a flag. An unknown name
 * or bad syntax is refused at start: exit 2, with the list of the known
 * names (failpoint_names). The names are a contract with the tests: keep
 * them stable.
 */
#ifndef PGBATON_FAILPOINT_H
#define PGBATON_FAILPOINT_H

#include <stdbool.h>
#include <stddef.h>

#define FAILPOINT_ENV       "PGBATON_FAILPOINT"
#define FAILPOINT_MAX_SPECS 16
#define FAILPOINT_SQL_MAX   160 /* room for failpoint_error_sql's statement */

typedef enum failpoint_action {
    FAILPOINT_KILL,
    FAILPOINT_ERROR_SOURCE,
    FAILPOINT_ERROR_TARGET,
} failpoint_action;

/* One SPEC of the variable. */
typedef struct failpoint_spec {
    int point; /* index into failpoint_names */
    long nth;  /* fire at this hit, >= 1 */
    failpoint_action action;
} failpoint_spec;

/* Every point the program has, NULL-terminated. */
extern const char *const failpoint_names[];

/* Parse TEXT (the variable's value) into SPECS[0..MAX-1], *N of them (0 for
 * an empty TEXT). False on bad syntax or an unknown name, with ERR (ERRLEN
 * bytes) saying which and why. Pure: no global state. */
bool failpoint_parse(const char *text, failpoint_spec *specs, int max, int *n, char *err,
                     size_t errlen);

/* Read PGBATON_FAILPOINT and arm what it names. False (logged, with the
 * known names) when it cannot be parsed: the program exits 2. Call once,
 * before any thread starts. */
bool failpoint_init(void) __attribute__((warn_unused_result));

/* Point NAME (one of failpoint_names) is passed: count the hit and, at the
 * N-th, do what its SPEC says. Thread-safe; returns at once when nothing
 * is armed. */
void failpoint(const char *name);

/* For src/db*.c, before each query on a session of the source (SOURCE
 * true) or the target: when this thread armed an error-SIDE for its next
 * query there, disarm it and return the statement to send instead (a DO
 * block that raises "pgbaton failpoint NAME", written into BUF of BUFLEN
 * bytes); otherwise NULL. */
const char *failpoint_error_sql(bool source, char *buf, size_t buflen);

#endif
