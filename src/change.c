/*
 * src/change.c — the buffers of a decoded change, shared by the decoders.
 */
#include "change.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

void change_buf_reserve(pgb_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

pgb_column *change_column_add(pgb_column **cols, int *n, int *cap)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        *cols = xrealloc(*cols, (size_t)*cap * sizeof(pgb_column));
    }
    pgb_column *col = &(*cols)[(*n)++];
    memset(col, 0, sizeof *col);
    return col;
}

void change_buf_free(pgb_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void change_free(pgb_change *c)
{
    free(c->columns);
    free(c->identity);
    change_buf_free(&c->text);
    memset(c, 0, sizeof *c);
}
