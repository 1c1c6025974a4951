/*
 * include/exitcode.h — the program's exit codes (design.md), for the
 * commands and for the modules whose result is one (the stream).
 */
#ifndef PGBATON_EXITCODE_H
#define PGBATON_EXITCODE_H

enum {
    EXIT_OK = 0,
    EXIT_FAILURE_RUNTIME = 1, /* runtime failure (or differences found, for verify) */
    EXIT_USAGE = 2,           /* bad usage or bad input */
    EXIT_PREFLIGHT = 3,       /* preflight found blocking problems */
    EXIT_ROLLED_BACK = 4,     /* cutover rolled back, source writable */
};

#endif
