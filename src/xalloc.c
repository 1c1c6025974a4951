/*
 * src/xalloc.c — the checked allocator (see include/xalloc.h).
 */
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Noreturn void xalloc_die(size_t n)
{
    /* No stdio (its buffers may need memory, its lock may be held by this
     * very thread inside the log module): format into a stack buffer. */
    char msg[200];
    int len = snprintf(msg, sizeof msg,
                       "pgbaton: ERROR out of memory (could not allocate %zu bytes); "
                       "free memory on this host or lower --jobs, then run the command again\n",
                       n);
    if (len > 0) {
        ssize_t w =
            write(STDERR_FILENO, msg, (size_t)len < sizeof msg ? (size_t)len : sizeof msg - 1);
        (void)w;
    }
    _exit(1);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        xalloc_die(n);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        xalloc_die(count * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        xalloc_die(n);
    return q;
}

char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        xalloc_die(strlen(s) + 1);
    return p;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = strndup(s, n);
    if (!p)
        xalloc_die(n + 1);
    return p;
}
