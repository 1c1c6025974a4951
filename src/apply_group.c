/*
 * src/apply_group.c — grouping (the "Grouping" story at the top of
 * src/apply.c): changes held back per table and sent as one statement
 * whose parameters are array literals, one per column.
 */
#include "apply_internal.h"

#include "db_async.h"
#include "strutil.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROUP_ROWS      1000      /* rows held per table before they are sent */
#define GROUP_BYTES     (8 << 20) /* bytes of values held, all tables together */
#define GROUP_VALUE_MAX (1 << 20) /* a row with more bytes than this is not held */
#define GROUP_NULL      ((size_t)-1)

static const char *apply_op_name(apply_op op)
{
    return op == APPLY_OP_INSERT ? "INSERT" : op == APPLY_OP_UPDATE ? "UPDATE" : "DELETE";
}

bool apply_group_allowed(const apply_ctx *a)
{
    return (!a->opts.ungrouped_until || a->committed_lsn >= *a->opts.ungrouped_until);
}

bool apply_cols_groupable(const apply_table *t, const int *cols, int n)
{
    for (int i = 0; i < n; i++)
        if (!t->cols[cols[i]].array_type)
            return false;
    return true;
}

/* One array element: NULL, or the value in double quotes with \ and "
 * escaped (array_in then hands the type's input function the exact text). */
static void array_element(strbuf *b, const char *v)
{
    if (!v) {
        strbuf_append(b, "NULL", 4);
        return;
    }
    size_t n = strlen(v);
    strbuf_reserve(b, 2 * n + 2);
    char *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '"' || v[i] == '\\')
            *o++ = '\\';
        *o++ = v[i];
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    *o = '\0';
}

void apply_array_literal(strbuf *b, const char *const *vals, int n, char delim)
{
    strbuf_putc(b, '{');
    for (int r = 0; r < n; r++) {
        if (r > 0)
            strbuf_putc(b, delim);
        array_element(b, vals[r]);
    }
    strbuf_putc(b, '}');
}

static const char *group_value(const apply_group *g, int row, int i)
{
    size_t o = g->off[(size_t)row * (size_t)g->width + (size_t)i];
    return o == GROUP_NULL ? NULL : g->text.data + o;
}

static size_t group_store(apply_group *g, const char *v)
{
    if (!v)
        return GROUP_NULL;
    size_t o = g->text.len;
    strbuf_append(&g->text, v, strlen(v) + 1); /* with its NUL */
    return o;
}

/* The held row whose key values are KEY, or -1; *SLOT: where it is or would go. */
static int group_find(const apply_group *g, const char *const *key, int *slot)
{
    unsigned mask = (unsigned)g->nslot - 1;
    unsigned i = str_hash(key, g->nwhere) & mask;
    for (; g->slot[i]; i = (i + 1) & mask) {
        int r = g->slot[i] - 1;
        bool eq = true;
        for (int k = 0; k < g->nwhere && eq; k++)
            eq = same_value(group_value(g, r, g->nset + k), key[k]);
        if (eq) {
            *slot = (int)i;
            return r;
        }
    }
    *slot = (int)i;
    return -1;
}

static void group_reset(apply_ctx *a, apply_group *g)
{
    a->held_bytes -= g->text.len;
    strbuf_reset(&g->text);
    g->nrows = 0;
    g->op = 0;
    if (g->slot)
        memset(g->slot, 0, (size_t)g->nslot * sizeof(int));
}

/* Send the changes T holds: one row as the ordinary statement, more as one
 * grouped statement whose parameters are arrays. */
static apply_status group_flush(apply_ctx *a, apply_table *t)
{
    apply_group *g = t->group;
    if (!g || g->nrows == 0)
        return a->failure;
    apply_shape s = {.op = g->op,
                     .set = g->set,
                     .nset = g->nset,
                     .where = g->where,
                     .nwhere = g->nwhere,
                     .grouped = g->nrows > 1};
    apply_stmt *st = apply_stmt_get(a, t, &s);
    if (!st)
        return a->failure ? a->failure : APPLY_RETRY;
    if (apply_make_room(a) != APPLY_OK)
        return a->failure;
    if (g->nrows == 1) {
        for (int i = 0; i < g->width; i++)
            a->gparams[i] = group_value(g, 0, i);
    } else {
        strbuf *b = &a->arrays;
        strbuf_reset(b);
        if (a->capgvals < g->nrows) {
            a->capgvals = g->caprows;
            a->gvals = xrealloc(a->gvals, (size_t)a->capgvals * sizeof(char *));
        }
        for (int i = 0; i < g->width; i++) {
            int col = i < g->nset ? g->set[i] : g->where[i - g->nset];
            for (int r = 0; r < g->nrows; r++)
                a->gvals[r] = group_value(g, r, i);
            a->goff[i] = b->len;
            apply_array_literal(b, a->gvals, g->nrows, t->cols[col].delim);
            strbuf_putc(b, '\0'); /* parameters follow each other in the buffer */
        }
        for (int i = 0; i < g->width; i++)
            a->gparams[i] = b->data + a->goff[i];
    }
    if (!db_send_prepared(a->db, st->name, g->width, a->gparams))
        return apply_conn_lost(a, "sending changes");
    pending *p = apply_queue_push(a, PEND_CHANGE);
    p->expect = g->op == APPLY_OP_INSERT ? -1 : g->nrows;
    p->grouped = g->nrows > 1;
    if (g->nrows == 1)
        snprintf(p->desc, sizeof p->desc, "%s", g->first_desc);
    else
        snprintf(p->desc, sizeof p->desc, "a grouped %s of %d rows on %.60s (the first: %.120s)",
                 apply_op_name(g->op), g->nrows, t->qname, g->first_desc);
    group_reset(a, g);
    if (a->arrays.cap > (size_t)4 * GROUP_BYTES) { /* do not keep a huge scratch */
        strbuf_free(&a->arrays);
    }
    return APPLY_OK;
}

/* Send everything held, every table. */
apply_status apply_group_flush_all(apply_ctx *a)
{
    apply_status st = a->failure;
    for (int i = 0; i < a->nheld; i++) {
        if (st == APPLY_OK)
            st = group_flush(a, a->held[i]);
        a->held[i]->group->listed = false;
    }
    a->nheld = 0;
    return st;
}

/* Hold the change of shape S (its values in a->params, the SET columns then
 * the key) to send it with the next ones of the same shape on T. */
static apply_status group_add(apply_ctx *a, apply_table *t, const apply_shape *s,
                              const pgb_change *c, const pgb_column *keycols, int nkeycols,
                              const int *keymap)
{
    apply_group *g = t->group;
    if (!g) {
        g = t->group = xcalloc(1, sizeof *g);
        g->set = xmalloc((size_t)t->ncols * sizeof(int));
        g->where = xmalloc((size_t)t->ncols * sizeof(int));
    }
    int width = s->nset + s->nwhere;
    if (g->nrows > 0 && (g->op != s->op || !same_ints(g->set, g->nset, s->set, s->nset) ||
                         !same_ints(g->where, g->nwhere, s->where, s->nwhere))) {
        apply_status st = group_flush(a, t);
        if (st != APPLY_OK)
            return st;
    }
    if (g->nrows == 0) {
        g->op = s->op;
        memcpy(g->set, s->set, (size_t)s->nset * sizeof(int));
        g->nset = s->nset;
        if (s->nwhere > 0)
            memcpy(g->where, s->where, (size_t)s->nwhere * sizeof(int));
        g->nwhere = s->nwhere;
        g->width = width;
        apply_describe_change(t, c->kind, keycols, nkeycols, keymap, g->first_desc,
                              sizeof g->first_desc);
    }
    int row = -1, slot = 0;
    if (s->op != APPLY_OP_INSERT) {
        if (!g->slot) {
            g->nslot = 2 * GROUP_ROWS;
            g->nslot = 1 << (32 - __builtin_clz((unsigned)g->nslot - 1));
            g->slot = xcalloc((size_t)g->nslot, sizeof(int));
        }
        row = group_find(g, a->params + s->nset, &slot);
        if (row >= 0 && s->op == APPLY_OP_DELETE) {
            /* the same key deleted twice: send the first delete first */
            apply_status st = group_flush(a, t);
            if (st != APPLY_OK)
                return st;
            return group_add(a, t, s, c, keycols, nkeycols, keymap);
        }
    }
    size_t before = g->text.len;
    if (row >= 0) { /* an UPDATE of a held row: its latest values win */
        for (int i = 0; i < s->nset; i++)
            g->off[(size_t)row * (size_t)width + (size_t)i] = group_store(g, a->params[i]);
    } else {
        if (g->nrows == g->caprows) {
            g->caprows = g->caprows ? 2 * g->caprows : 64;
            g->off = xrealloc(g->off, (size_t)g->caprows * (size_t)t->ncols * 2 * sizeof(size_t));
        }
        row = g->nrows++;
        for (int i = 0; i < width; i++)
            g->off[(size_t)row * (size_t)width + (size_t)i] = group_store(g, a->params[i]);
        if (s->op != APPLY_OP_INSERT)
            g->slot[slot] = row + 1;
    }
    a->held_bytes += g->text.len - before;
    if (!g->listed) {
        if (a->nheld == a->capheld) {
            a->capheld = a->capheld ? 2 * a->capheld : 16;
            a->held = xrealloc(a->held, (size_t)a->capheld * sizeof(apply_table *));
        }
        a->held[a->nheld++] = t;
        g->listed = true;
    }
    count_change(a);
    if (g->nrows >= GROUP_ROWS)
        return group_flush(a, t);
    if (a->held_bytes >= GROUP_BYTES)
        return apply_group_flush_all(a);
    return APPLY_OK;
}

/* Whether the change in a->params (shape S) may be held, else send what T
 * holds first, so that T's changes stay in order. */
apply_status apply_group_or_send(apply_ctx *a, apply_table *t, const apply_shape *s, bool groupable,
                                 const pgb_change *c, const pgb_column *keycols, int nkeycols,
                                 const int *keymap)
{
    if (groupable) {
        size_t bytes = 0;
        for (int i = 0; i < s->nset + s->nwhere; i++)
            bytes += a->params[i] ? strlen(a->params[i]) : 0;
        groupable = bytes <= GROUP_VALUE_MAX;
    }
    if (groupable)
        return group_add(a, t, s, c, keycols, nkeycols, keymap);
    apply_status st = group_flush(a, t);
    if (st != APPLY_OK)
        return st;
    return apply_send_change(a, t, s, c, keycols, nkeycols, keymap);
}

void apply_group_free(apply_group *g)
{
    if (!g)
        return;
    free(g->set);
    free(g->where);
    free(g->off);
    strbuf_free(&g->text);
    free(g->slot);
    free(g);
}
