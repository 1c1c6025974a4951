/*
 * src/change.c — the arrays and text of a decoded change, shared by the
 * decoders.
 */
#include "change.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

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

void change_free(pgb_change *c)
{
    free(c->columns);
    free(c->identity);
    strbuf_free(&c->text);
    memset(c, 0, sizeof *c);
}
