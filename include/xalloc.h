/*
 * include/xalloc.h — the one checked allocator.
 *
 * Every allocation in pgbaton goes through these. On out-of-memory they print
 * one line naming the size asked for and exit with status 1 (runtime
 * failure), so no caller ever sees NULL and no `p = realloc(p, n)` loses its
 * block. The exit is immediate (_exit): no cleanup that could itself need
 * memory runs; the state on the target is transactional and `pgbaton abort`
 * unfreezes a source that a cutover left frozen.
 */
#ifndef PGBATON_XALLOC_H
#define PGBATON_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n) __attribute__((malloc, returns_nonnull));
void *xcalloc(size_t count, size_t size) __attribute__((malloc, returns_nonnull));
/* Like realloc; P may be NULL. N == 0 still returns a live block. */
void *xrealloc(void *p, size_t n) __attribute__((returns_nonnull));
/* S must not be NULL. */
char *xstrdup(const char *s) __attribute__((malloc, returns_nonnull));
char *xstrndup(const char *s, size_t n) __attribute__((malloc, returns_nonnull));

/* Print the out-of-memory message for a request of N bytes and exit(1).
 * Exposed for the unit test. */
_Noreturn void xalloc_die(size_t n);

#endif
