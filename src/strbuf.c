/*
 * src/strbuf.c — the growing string buffer (see include/strbuf.h).
 */
#include "strbuf.h"

#include "xalloc.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRBUF_MIN 64 /* first allocation */

void strbuf_reserve(strbuf *b, size_t extra)
{
    if (b->len + extra < b->cap)
        return;
    size_t cap = b->cap ? b->cap : STRBUF_MIN;
    while (cap <= b->len + extra)
        cap *= 2;
    bool first = b->data == NULL;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
    if (first)
        b->data[0] = '\0'; /* an empty string from the first allocation on */
}

void strbuf_append(strbuf *b, const void *s, size_t n)
{
    strbuf_reserve(b, n);
    if (n > 0)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void strbuf_puts(strbuf *b, const char *s)
{
    strbuf_append(b, s, strlen(s));
}

void strbuf_putc(strbuf *b, char c)
{
    strbuf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void strbuf_vprintf(strbuf *b, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    strbuf_reserve(b, 0);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    if (n < 0) /* an invalid format: append nothing */
        n = 0;
    if (b->len + (size_t)n >= b->cap) {
        strbuf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, again);
    }
    va_end(again);
    b->len += (size_t)n;
    b->data[b->len] = '\0';
}

void strbuf_printf(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(b, fmt, ap);
    va_end(ap);
}

void strbuf_reset(strbuf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void strbuf_free(strbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
