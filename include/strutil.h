/*
 * include/strutil.h — small string helpers shared by the modules.
 *
 * Allocation failures abort (these are small strings; there is nothing
 * sensible to do without memory), so the results are never NULL.
 */
#ifndef PGBATON_STRUTIL_H
#define PGBATON_STRUTIL_H

#include <stdarg.h>
#include <stdint.h>

/* printf into a new malloc'd string (caller frees). */
char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *str_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* A hash (FNV-1a) of the N strings VALS, in order. An element may be NULL,
 * which is hashed unlike "", and each element is followed by a marker, so
 * that ("ab", "c") and ("a", "bc") are different inputs. For in-memory hash
 * tables (the applier's table cache and grouping); the values are not
 * stable across versions. */
uint32_t str_hash(const char *const *vals, int n);

#endif
