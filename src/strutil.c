/*
 * src/strutil.c — small string helpers (see include/strutil.h).
 */
#include "strutil.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *str_vprintf(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        xalloc_die(0);
    return s;
}

char *str_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = str_vprintf(fmt, ap);
    va_end(ap);
    return s;
}

#define FNV_BASIS 2166136261u
#define FNV_PRIME 16777619u

static uint32_t fnv_bytes(uint32_t h, const char *s)
{
    for (const char *p = s; *p; p++)
        h = (h ^ (unsigned char)*p) * FNV_PRIME;
    return h;
}

uint32_t str_hash(const char *const *vals, int n)
{
    uint32_t h = FNV_BASIS;
    for (int i = 0; i < n; i++)
        h = fnv_bytes(fnv_bytes(h, vals[i] ? vals[i] : ""), vals[i] ? "\x01" : "\x02");
    return h;
}
