/*
 * fuzz/change_check.c — the checks every decoded change passes
 * (change_check.h).
 */
#include "change_check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Noreturn void broken(const char *what)
{
    fprintf(stderr, "fuzz: decoded change: %s\n", what);
    abort();
}

/* S, when not NULL, must be a string inside C's text buffer. */
static void check_string(const pgb_change *c, const char *s, const char *what)
{
    if (!s)
        return;
    uintptr_t b = (uintptr_t)c->text.data, e = b + c->text.len, p = (uintptr_t)s;
    if (!c->text.data || p < b || p >= e || !memchr(s, '\0', e - p))
        broken(what);
}

static void check_columns(const pgb_change *c, const pgb_column *cols, int n, int cap)
{
    if (n < 0 || n > cap || (n > 0 && !cols))
        broken("a column array and its count disagree");
    for (int i = 0; i < n; i++) {
        if (!cols[i].name)
            broken("a column without a name");
        check_string(c, cols[i].name, "a column name is not in the change's text");
        check_string(c, cols[i].type, "a column type is not in the change's text");
        check_string(c, cols[i].value, "a column value is not in the change's text");
    }
}

void change_check(const pgb_change *c)
{
    switch (c->kind) {
    case CHG_INSERT:
    case CHG_UPDATE:
    case CHG_DELETE:
    case CHG_TRUNCATE:
        if (!c->schema || !c->table)
            broken("a row change or truncation without its schema or table");
        break;
    case CHG_NONE:
    case CHG_BEGIN:
    case CHG_COMMIT:
    case CHG_MESSAGE:
        break;
    default:
        broken("an unknown kind");
    }
    check_string(c, c->schema, "the schema is not in the change's text");
    check_string(c, c->table, "the table is not in the change's text");
    check_string(c, c->xid, "the xid is not in the change's text");
    check_string(c, c->timestamp, "the timestamp is not in the change's text");
    check_string(c, c->prefix, "the message prefix is not in the change's text");
    check_string(c, c->content, "the message content is not in the change's text");
    check_columns(c, c->columns, c->ncolumns, c->capcolumns);
    check_columns(c, c->identity, c->nidentity, c->capidentity);
}
