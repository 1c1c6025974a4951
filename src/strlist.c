/*
 * src/strlist.c — the one list of strings (include/strlist.h).
 */
#include "strlist.h"

#include "strbuf.h"
#include "strutil.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdlib.h>

static void push(strlist *l, char *s)
{
    if (l->n + 1 >= l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->items = xrealloc(l->items, (size_t)l->cap * sizeof *l->items);
    }
    l->items[l->n++] = s;
    l->items[l->n] = NULL;
}

void strlist_add(strlist *l, const char *s)
{
    push(l, xstrdup(s));
}

void strlist_addf(strlist *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    push(l, str_vprintf(fmt, ap));
    va_end(ap);
}

void strlist_free(strlist *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

json_t *strlist_json(const strlist *l)
{
    json_t *a = json_array();
    for (int i = 0; i < l->n; i++)
        json_array_append_new(a, json_string(l->items[i]));
    return a;
}

char *strlist_join(const strlist *l, const char *sep, int max_shown)
{
    int shown = max_shown > 0 && l->n > max_shown ? max_shown : l->n;
    strbuf b = {0};
    strbuf_puts(&b, "");
    for (int i = 0; i < shown; i++) {
        if (i > 0)
            strbuf_puts(&b, sep);
        strbuf_puts(&b, l->items[i]);
    }
    if (l->n > shown)
        strbuf_printf(&b, " and %d more", l->n - shown);
    return b.data;
}
