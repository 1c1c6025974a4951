/*
 * include/lsn.h — WAL positions (LSN): parse, format, compare.
 */
#ifndef PGBATON_LSN_H
#define PGBATON_LSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t lsn_t;

#define LSN_INVALID ((lsn_t)0)
/* "FFFFFFFF/FFFFFFFF" + NUL */
#define LSN_STRLEN 18

/* Parse "X/Y" (hex, as PostgreSQL prints it). False on malformed input. */
bool lsn_parse(const char *text, lsn_t *out) __attribute__((warn_unused_result));

/* Format into BUF (at least LSN_STRLEN bytes); returns BUF. */
char *lsn_format(lsn_t lsn, char *buf, size_t bufsz);

static inline int lsn_cmp(lsn_t a, lsn_t b)
{
    return a < b ? -1 : a > b ? 1 : 0;
}

/* Bytes from A to B, 0 when B is not after A. */
static inline uint64_t lsn_diff(lsn_t b, lsn_t a)
{
    return b > a ? b - a : 0;
}

#endif
