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

void str_append(char **s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *add = str_vprintf(fmt, ap);
    va_end(ap);
    size_t a = *s ? strlen(*s) : 0, b = strlen(add);
    char *grown = xrealloc(*s, a + b + 1);
    memcpy(grown + a, add, b + 1);
    *s = grown;
    free(add);
}
