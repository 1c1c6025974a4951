/*
 * include/strutil.h — small string helpers shared by the modules.
 *
 * Allocation failures abort (these are small strings; there is nothing
 * sensible to do without memory), so the results are never NULL.
 */
#ifndef PGBATON_STRUTIL_H
#define PGBATON_STRUTIL_H

#include <stdarg.h>

/* printf into a new malloc'd string (caller frees). */
char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *str_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Append printf output to *S (owned; may be NULL: then it is created). */
void str_append(char **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
