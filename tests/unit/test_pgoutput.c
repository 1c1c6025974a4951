/* tests/unit/test_pgoutput.c — decoding pgoutput (protocol version 1)
 * messages built byte by byte: transaction bounds, the relation cache, row
 * changes and their identity, truncate, messages; malformed and truncated
 * input rejected cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pgoutput.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USECS_PER_DAY INT64_C(86400000000)

/* ---- building messages ------------------------------------------------- */

typedef struct msg {
    char b[4096];
    size_t n;
} msg;

static void put8(msg *m, unsigned v)
{
    assert_true(m->n + 1 <= sizeof m->b);
    m->b[m->n++] = (char)(unsigned char)v;
}

static void put16(msg *m, unsigned v)
{
    put8(m, (v >> 8) & 0xff);
    put8(m, v & 0xff);
}

static void put32(msg *m, uint32_t v)
{
    put16(m, v >> 16);
    put16(m, v & 0xffff);
}

static void put64(msg *m, uint64_t v)
{
    put32(m, (uint32_t)(v >> 32));
    put32(m, (uint32_t)v);
}

static void putstr(msg *m, const char *s)
{
    size_t n = strlen(s) + 1;
    assert_true(m->n + n <= sizeof m->b);
    memcpy(m->b + m->n, s, n);
    m->n += n;
}

static void putbytes(msg *m, const void *s, size_t n)
{
    assert_true(m->n + n <= sizeof m->b);
    memcpy(m->b + m->n, s, n);
    m->n += n;
}

/* A 't' column value. */
static void puttext(msg *m, const char *s)
{
    put8(m, 't');
    put32(m, (uint32_t)strlen(s));
    putbytes(m, s, strlen(s));
}

typedef struct col_def {
    const char *name;
    uint32_t typeoid;
    bool key;
} col_def;

static msg relation_msg(uint32_t oid, const char *nsp, const char *name, char replident,
                        const col_def *cols, int ncols)
{
    msg m = {.n = 0};
    put8(&m, 'R');
    put32(&m, oid);
    putstr(&m, nsp);
    putstr(&m, name);
    put8(&m, (unsigned char)replident);
    put16(&m, (unsigned)ncols);
    for (int i = 0; i < ncols; i++) {
        put8(&m, cols[i].key ? 1 : 0);
        putstr(&m, cols[i].name);
        put32(&m, cols[i].typeoid);
        put32(&m, 0xffffffff); /* typmod -1 */
    }
    return m;
}

static void decode_ok(pgo_decoder *d, pgb_change *c, const msg *m)
{
    const char *err = NULL;
    if (!pgo_decode(d, c, m->b, m->n, 0x1000, &err))
        fail_msg("decode failed: %s", err);
}

static const char *decode_err(pgo_decoder *d, pgb_change *c, const msg *m)
{
    const char *err = NULL;
    assert_false(pgo_decode(d, c, m->b, m->n, 0x1000, &err));
    assert_non_null(err);
    assert_int_equal(c->kind, CHG_NONE);
    return err;
}

static void assert_contains(const char *s, const char *part)
{
    if (!strstr(s, part))
        fail_msg("\"%s\" does not contain \"%s\"", s, part);
}

/* public.t (OID 16384): id int4 (key), v text, n numeric */
static const col_def t_cols[] = {{"id", 23, true}, {"v", 25, false}, {"n", 1700, false}};

static void define_t(pgo_decoder *d, pgb_change *c)
{
    msg r = relation_msg(16384, "public", "t", 'd', t_cols, 3);
    decode_ok(d, c, &r);
    assert_int_equal(c->kind, CHG_NONE);
}

/* ---- transaction bounds ------------------------------------------------ */

static msg begin_msg(uint64_t final_lsn, int64_t time, uint32_t xid)
{
    msg m = {.n = 0};
    put8(&m, 'B');
    put64(&m, final_lsn);
    put64(&m, (uint64_t)time);
    put32(&m, xid);
    return m;
}

static const char *begin_timestamp(pgo_decoder *d, pgb_change *c, int64_t time)
{
    msg m = begin_msg(0x15444D8, time, 1);
    decode_ok(d, c, &m);
    return c->timestamp;
}

static void decodes_begin_commit(void **state)
{
    (void)state;
    pgo_decoder *d = pgo_new();
    pgb_change c = {0};

    msg b = begin_msg(0x15444D8, 0, 727);
    decode_ok(d, &c, &b);
    assert_int_equal(c.kind, CHG_BEGIN);
    assert_int_equal(c.lsn, 0x15444D8);
    assert_int_equal(c.nextlsn, LSN_INVALID);
    assert_string_equal(c.xid, "727");
    assert_string_equal(c.timestamp, "2000-01-01 00:00:00.000000+00");

    b = begin_msg(UINT64_C(0x1234567890), 0, 4294967295u);
    decode_ok(d, &c, &b);
    assert_int_equal(c.lsn, UINT64_C(0x1234567890));
    assert_string_equal(c.xid, "4294967295");

    /* 2026-11-21 10:37:25.718298 UTC */
    int64_t t = (INT64_C(1795257445) - INT64_C(946684800)) * 1000000 + 718298;
    msg cm = {.n = 0};
    put8(&cm, 'C');
    put8(&cm, 0);
    put64(&cm, 0x15444D8);
    put64(&cm, 0x1544508);
    put64(&cm, (uint64_t)t);
    decode_ok(d, &c, &cm);
    assert_int_equal(c.kind, CHG_COMMIT);
    assert_int_equal(c.lsn, 0x15444D8);
    assert_int_equal(c.nextlsn, 0x1544508);
    assert_null(c.xid);
    assert_string_equal(c.timestamp, "2026-11-21 10:37:25.718298+00");

    /* a nonzero flags byte, an end LSN of 0 */
    cm.b[1] = 1;
    assert_contains(decode_err(d, &c, &cm), "flags");
    cm.b[1] = 0;
    memset(cm.b + 10, 0, 8);
    assert_contains(decode_err(d, &c, &cm), "end LSN");
    b = begin_msg(0, 0, 1);
    assert_contains(decode_err(d, &c, &b), "final LSN");

    change_free(&c);
    pgo_free(d);
}

static void formats_timestamps(void **state)
{
    (void)state;
    pgo_decoder *d = pgo_new();
    pgb_change c = {0};
    assert_string_equal(begin_timestamp(d, &c, 1), "2000-01-01 00:00:00.000001+00");
    assert_string_equal(begin_timestamp(d, &c, USECS_PER_DAY + 3723000004),
                        "2000-01-02 01:02:03.000004+00");
    /* before 2000: the fraction counts forward from the second before */
    assert_string_equal(begin_timestamp(d, &c, -1), "1999-12-31 23:59:59.999999+00");
    assert_string_equal(begin_timestamp(d, &c, -USECS_PER_DAY - 500000),
                        "1999-12-30 23:59:59.500000+00");
    assert_string_equal(begin_timestamp(d, &c, -USECS_PER_DAY), "1999-12-31 00:00:00.000000+00");
    assert_string_equal(
        begin_timestamp(d, &c, (INT64_C(-14182940) - INT64_C(946684800)) * 1000000 + 250000),
        "1969-07-20 20:17:40.250000+00");
    assert_string_equal(begin_timestamp(d, &c, -10957 * USECS_PER_DAY),
                        "1970-01-01 00:00:00.000000+00");
    /* leap days: 2000 is a leap year, 1900 was not */
    assert_string_equal(begin_timestamp(d, &c, 59 * USECS_PER_DAY),
                        "2000-02-29 00:00:00.000000+00");
    assert_string_equal(begin_timestamp(d, &c, -36465 * USECS_PER_DAY),
                        "1900-03-01 00:00:00.000000+00");
    assert_string_equal(begin_timestamp(d, &c, -36466 * USECS_PER_DAY),
                        "1900-02-28 00:00:00.000000+00");
    /* the first microsecond of year 1, and the last of 1 BC */
    assert_string_equal(begin_timestamp(d, &c, -730119 * USECS_PER_DAY + 1),
                        "0001-01-01 00:00:00.000001+00");
    assert_string_equal(begin_timestamp(d, &c, -730119 * USECS_PER_DAY - 1),
                        "0001-12-31 23:59:59.999999+00 BC");
    assert_string_equal(begin_timestamp(d, &c, INT64_MAX), "infinity");
    assert_string_equal(begin_timestamp(d, &c, INT64_MIN), "-infinity");
    change_free(&c);
    pgo_free(d);
}

/* ---- row changes --------------------------------------------------------- */

static void decodes_relation_and_insert(void **state)
{
    (void)state;
    pgo_decoder *d = pgo_new();
    pgb_change c = {0};
    define_t(d, &c);

    msg m = {.n = 0};
    put8(&m, 'I');
    put32(&m, 16384);
    put8(&m, 'N');
    put16(&m, 3);
    puttext(&m, "42");
    puttext(&m, "hello, world");
    put8(&m, 'n');
    decode_ok(d, &c, &m);
    assert_int_equal(c.kind, CHG_INSERT);
    assert_string_equal(c.schema, "public");
    assert_string_equal(c.table, "t");
    assert_int_equal(c.lsn, LSN_INVALID);
    assert_int_equal(c.ncolumns, 3);
    assert_int_equal(c.nidentity, 0);
    assert_string_equal(c.columns[0].name, "id");
    assert_int_equal(c.columns[0].typeoid, 23);
    assert_null(c.columns[0].type);
    assert_string_equal(c.columns[0].value, "42");
    assert_string_equal(c.columns[1].name, "v");
    assert_int_equal(c.columns[1].typeoid, 25);
    assert_string_equal(c.columns[1].value, "hello, world");
    assert_string_equal(c.columns[2].name, "n");
    assert_int_equal(c.columns[2].typeoid, 1700);
    assert_null(c.columns[2].value);

    /* an empty text value is not NULL */
    m.n = 0;
    put8(&m, 'I');
    put32(&m, 16384);
    put8(&m, 'N');
    put16(&m, 3);
    puttext(&m, "1");
    puttext(&m, "");
    put8(&m, 'n');
    decode_ok(d, &c, &m);
    assert_string_equal(c.columns[1].value, "");

    /* a relation of pg_catalog comes with namespace "" */
    const col_def one[] = {{"x", 23, false}};
    msg r = relation_msg(1262, "", "pg_database", 'n', one, 1);
    decode_ok(d, &c, &r);
    m.n = 0;
    put8(&m, 'I');
    put32(&m, 1262);
    put8(&m, 'N');
    put16(&m, 1);
    puttext(&m, "7");
    decode_ok(d, &c, &m);
    assert_string_equal(c.schema, "pg_catalog");
    assert_string_equal(c.table, "pg_database");
    assert_string_equal(c.columns[0].value, "7");

    /* Type and Origin messages carry no change */
    msg y = {.n = 0};
    put8(&y, 'Y');
    put32(&y, 90000);
    putstr(&y, "public");
    putstr(&y, "mood");
    decode_ok(d, &c, &y);
    assert_int_equal(c.kind, CHG_NONE);
    assert_null(c.schema);
    assert_int_equal(c.ncolumns, 0);
    msg o = {.n = 0};
    put8(&o, 'O');
    put64(&o, 0x99);
    putstr(&o, "pg_16399");
    decode_ok(d, &c, &o);
    assert_int_equal(c.kind, CHG_NONE);
    assert_false(pgo_next(d, &c));

    change_free(&c);
    pgo_free(d);
}

static void update_unchanged_toast_is_absent(void **state)
{
    (void)state;
    pgo_decoder *d = pgo_new();
    pgb_change c = {0};
    define_t(d, &c);

    /* no old tuple: the key did not change, identity = the new key */
    msg m = {.n = 0};
    put8(&m, 'U');
    put32(&m, 16384);
    put8(&m, 'N');
    put16(&m, 3);
    puttext(&m, "5");
    put8(&m, 'u');
    puttext(&m, "3.14");
    decode_ok(d, &c, &m);
    assert_int_equal(c.kind, CHG_UPDATE);
    assert_string_equal(c.schema, "public");
    assert_string_equal(c.table, "t");
    assert_int_equal(c.ncolumns, 2);
    assert_string_equal(c.columns[0].name, "id");
    assert_string_equal(c.columns[0].value, "5");
    assert_string_equal(c.columns[1].name, "n");
    assert_string_equal(c.columns[1].value, "3.14");
    assert_int_equal(c.nidentity, 1);
    assert_string_equal(c.identity[0].name, "id");
    assert_int_equal(c.identity[0].typeoid, 23);
    assert_string_equal(c.identity[0].value, "5");

    /* a key column unchanged-TOASTed without the old key: no identity */
    m.n = 0;
    put8(&m, 'U');
    put32(&m, 16384);
    put8(&m, 'N');
    put16(&m, 3);
    put8(&m, 'u');
    puttext(&m, "x");
    put8(&m, 'n');
    assert_contains(decode_err(d, &c, &m), "\"id\"");

    /* an insert cannot leave a value out */
    m.n = 0;
    put8(&m, 'I');
    put32(&m, 16384);
    put8(&m, 'N');
    put16(&m, 3);
    puttext(&m, "1");
    put8(&m, 'u');
    put8(&m, 'n');
    assert_contains(decode_err(d, &c, &m), "unchanged TOASTed");

    change_free(&c);
    pgo_free(d);
}

static void update_with_old_key_or_row(void **state)
{
    (void)state;
    pgo_decoder *d = pgo_new();
    pgb_change c = {0};
    /* a two-column key: (a, b), c not in it */
    const col_def cols[] = {{"a", 23, true}, {"c", 25, false}, {"b", 20, true}};
    msg r = relation_msg(20000, "s", "k2", 'i', cols, 3);
    decode_ok(d, &c, &r);

    /* 'K': the old key, non-key columns sent as 'n' */
    msg m = {.n = 0};
    put8(&m, 'U');
    put32(&m, 20000);
    put8(&m, 'K');
    put16(&m, 3);
    puttext(&m, "1");
    put8(&m, 'n');
    puttext(&m, "10");
    put8(&m, 'N');
    put16(&m, 3);
    puttext(&m, "2");
    put8(&m, 'u');
    puttext(&m, "20");
    decode_ok(d, &c, &m);
    assert_int_equal(c.kind, CHG_UPDATE);
    assert_string_equal(c.table, "k2");
    assert_int_equal(c.nidentity, 2);
    assert_string_equal(c.identity[0].name, "a");
    assert_string_equal(c.identity[0].value, "1");
    assert_string_equal(c.identity[1].name, "b");
    assert_int_equal(c.identity[1].typeoid, 20);
    assert_string_equal(c.identity[1].value, "10");
    assert_int_equal(c.ncolumns, 2);
    assert_string_equal(c.columns[0].name, "a");
    assert_string_equal(c.columns[0].value, "2");
    assert_string_equal(c.columns[1].name, "b");
    assert_string_equal(c.columns[1].value, "20");

    /* 'O' (REPLICA IDENTITY FULL; pgoutput then flags every column) */
    const col_def full[] = {{"x", 25, true}, {"y", 25, true}};
    r = relation_msg(20001, "s", "nokey", 'f', full, 2);
    decode_ok(d, &c, &r);
    m.n = 0;
    put8(&m, 'U');
    put32(&m, 20001);
    put8(&m, 'O');
    put16(&m, 2);
    puttext(&m, "old x");
    put8(&m, 'n');
    put8(&m, 'N');
    put16(&m, 2);
    puttext(&m, "new x");
    puttext(&m, "new y");
    decode_ok(d, &c, &m);
    assert_int_equal(c.nidentity, 2);
    assert_string_equal(c.identity[0].name, "x");
    assert_string_equal(c.identity[0].value, "old x");
    assert_string_equal(c.identity[1].name, "y");
    assert_null(c.identity[1].value);
    assert_int_equal(c.ncolumns, 2);
    assert_string_equal(c.columns[0].value, "new x");
    assert_string_equal(c.columns[1].value, "new y");

    /* 'O' with every column even if the Relation flags none */
    const col_def unflagged[] = {{"x", 25, false}, {"y", 25, false}};
    r = relation_msg(20002, "s", "unflagged", 'f', unflagged, 2);
    decode_ok(d, &c, &r);
    m.b[4] = 0x22; /* relid 20001 -> 20002 */
    decode_ok(d, &c, &m);
    assert_string_equal(c.table, "unflagged");
    assert_int_equal(c.nidentity, 2);

    /* an old row with an unchanged TOASTed value cannot identify the row */
    m.n = 0;
    put8(&m, 'U');
    put32(&m, 20001);
    put8(&m, 'O');
    put16(&m, 2);
    puttext(&m, "old x");
    put8(&m, 'u');
    put8(&m, 'N');
    put16(&m, 2);
    puttext(&m, "a");
    puttext(&m, "b");
    assert_contains(decode_err(d, &c, &m), "old row");

    /* no key columns and no old tuple: an empty identity */
    const col_def nothing[] = {{"z", 25, false}};
    r = relation_msg(20003, "s", "nothing", 'n', nothing, 1);
    decode_ok(d, &c, &r);
    m.n = 0;
    put8(&m, 'U');
    put32(&m, 20003);
    put8(&m, 'N');
    put16(&m, 1);
    puttext(&m, "zz");
    decode_ok(d, &c, &m);
    assert_int_equal(c.ncolumns, 1);
    assert_int_equal(c.nidentity, 0);

    /* an update whose old tuple is not followed by 'N' */
    m.n = 0;
    put8(&m, 'U');
    put32(&m, 20003);
    put8(&m, 'K');
    put16(&m, 1);
    put8(&m, 'n');
    put8(&m, 'X');
    assert_contains(decode_err(d, &c, &m), "'N'");

    change_free(&c);
    pgo_free(d);
}

static void decodes_delete(void **state)
{
    (void)state;
    pgo_decoder *d = pgo_new();
    pgb_change c = {0};
    define_t(d, &c);

    msg m = {.n = 0};
    put8(&m, 'D');
    put32(&m, 16384);
    put8(&m, 'K');
    put16(&m, 3);
    puttext(&m, "-7");
    put8(&m, 'n');
    put8(&m, 'n');
    decode_ok(d, &c, &m);
    assert_int_equal(c.kind, CHG_DELETE);
    assert_string_equal(c.schema, "public");
    assert_string_equal(c.table, "t");
    assert_int_equal(c.ncolumns, 0);
    assert_int_equal(c.nidentity, 1);
    assert_string_equal(c.identity[0].name, "id");
    assert_string_equal(c.identity[0].value, "-7");

    m.b[5] = 'O';
    decode_ok(d, &c, &m);
    assert_int_equal(c.nidentity, 3);
    assert_string_equal(c.identity[2].name, "n");
    assert_null(c.identity[2].value);

    /* a delete needs 'K' or 'O' */
    m.b[5] = 'N';
    assert_contains(decode_err(d, &c, &m), "'KO'");

    change_free(&c);
    pgo_free(d);
}

static void decodes_truncate_of_three(void **state)
{
    (void)state;
    pgo_decoder *d = pgo_new();
    pgb_change c = {0};
    const col_def one[] = {{"id", 23, true}};
    const char *names[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        msg r =
            relation_msg(30000 + (uint32_t)i, i == 1 ? "other" : "public", names[i], 'd', one, 1);
        decode_ok(d, &c, &r);
    }
    msg m = {.n = 0};
    put8(&m, 'T');
    put32(&m, 3);
    put8(&m, 1 | 2);
    put32(&m, 30002);
    put32(&m, 30000);
    put32(&m, 30001);
    const char *err = NULL;
    assert_true(pgo_decode(d, &c, m.b, m.n, 0xABCDEF, &err));
    assert_int_equal(c.kind, CHG_TRUNCATE);
    assert_int_equal(c.lsn, 0xABCDEF);
    assert_string_equal(c.schema, "public");
    assert_string_equal(c.table, "c");
    assert_int_equal(c.ncolumns, 0);
    assert_int_equal(c.nidentity, 0);
    assert_true(pgo_next(d, &c));
    assert_int_equal(c.kind, CHG_TRUNCATE);
    assert_int_equal(c.lsn, 0xABCDEF);
    assert_string_equal(c.schema, "public");
    assert_string_equal(c.table, "a");
    assert_true(pgo_next(d, &c));
    assert_string_equal(c.schema, "other");
    assert_string_equal(c.table, "b");
    assert_int_equal(c.lsn, 0xABCDEF);
    assert_false(pgo_next(d, &c));
    assert_false(pgo_next(d, &c));

    /* an unknown relation anywhere in the list fails the whole message */
    m.b[m.n - 1] = 0x99;
    assert_contains(decode_err(d, &c, &m), "that no Relation message named");
    assert_false(pgo_next(d, &c));

    /* a new message forgets the rest of a truncate */
    m.b[m.n - 1] = 0x31; /* 30001 again */
    decode_ok(d, &c, &m);
    msg b = begin_msg(1, 0, 1);
    decode_ok(d, &c, &b);
    assert_false(pgo_next(d, &c));

    change_free(&c);
    pgo_free(d);
}

static void decodes_messages(void **state)
{
    (void)state;
    pgo_decoder *d = pgo_new();
    pgb_change c = {0};

    msg m = {.n = 0};
    put8(&m, 'M');
    put8(&m, 1);
    put64(&m, 0x2000);
    putstr(&m, "pgbaton");
    put32(&m, 5);
    putbytes(&m, "hello", 5);
    decode_ok(d, &c, &m);
    assert_int_equal(c.kind, CHG_MESSAGE);
    assert_true(c.transactional);
    assert_int_equal(c.lsn, 0x2000);
    assert_string_equal(c.prefix, "pgbaton");
    assert_string_equal(c.content, "hello");

    m.n = 0;
    put8(&m, 'M');
    put8(&m, 0);
    put64(&m, 0x3000);
    putstr(&m, "pgbaton_fence");
    put32(&m, 0);
    decode_ok(d, &c, &m);
    assert_false(c.transactional);
    assert_int_equal(c.lsn, 0x3000);
    assert_string_equal(c.prefix, "pgbaton_fence");
    assert_string_equal(c.content, "");

    /* content with a NUL cannot be text */
    m.n = 0;
    put8(&m, 'M');
    put8(&m, 1);
    put64(&m, 0x2000);
    putstr(&m, "p");
    put32(&m, 3);
    putbytes(&m, "a\0b", 3);
    assert_contains(decode_err(d, &c, &m), "NUL");

    /* nothing of a message survives into the next change */
    m.n = 0;
    put8(&m, 'M');
    put8(&m, 1);
    put64(&m, 0x2000);
    putstr(&m, "p");
    put32(&m, 1);
    putbytes(&m, "x", 1);
    decode_ok(d, &c, &m);
    define_t(d, &c);
    assert_false(c.transactional);
    assert_null(c.prefix);
    assert_null(c.content);
    assert_int_equal(c.lsn, LSN_INVALID);
    msg i = {.n = 0};
    put8(&i, 'I');
    put32(&i, 16384);
    put8(&i, 'N');
    put16(&i, 3);
    puttext(&i, "1");
    put8(&i, 'n');
    put8(&i, 'n');
    decode_ok(d, &c, &i);
    assert_null(c.prefix);
    assert_null(c.content);
    assert_null(c.xid);
    assert_null(c.timestamp);
    assert_false(c.transactional);
    assert_int_equal(c.lsn, LSN_INVALID);
    assert_int_equal(c.nextlsn, LSN_INVALID);

    change_free(&c);
    pgo_free(d);
}

static void relation_replaced(void **state)
{
    (void)state;
    pgo_decoder *d = pgo_new();
    pgb_change c = {0}, kept = {0};
    define_t(d, &c);

    msg i = {.n = 0};
    put8(&i, 'I');
    put32(&i, 16384);
    put8(&i, 'N');
    put16(&i, 3);
    puttext(&i, "1");
    puttext(&i, "v1");
    put8(&i, 'n');
    decode_ok(d, &kept, &i);

    /* ALTER TABLE t RENAME v TO w, DROP n, ADD m (and the table renamed) */
    const col_def cols2[] = {{"id", 20, true}, {"w", 25, false}, {"m", 16, false}};
    msg r = relation_msg(16384, "public", "t2", 'd', cols2, 3);
    decode_ok(d, &c, &r);
    decode_ok(d, &c, &i);
    assert_string_equal(c.table, "t2");
    assert_string_equal(c.columns[0].name, "id");
    assert_int_equal(c.columns[0].typeoid, 20);
    assert_string_equal(c.columns[1].name, "w");
    assert_string_equal(c.columns[2].name, "m");
    assert_int_equal(c.columns[2].typeoid, 16);

    /* a change decoded before stays intact: it borrows nothing of the cache */
    assert_string_equal(kept.table, "t");
    assert_string_equal(kept.columns[1].name, "v");
    assert_string_equal(kept.columns[1].value, "v1");
    pgo_reset(d);
    assert_string_equal(kept.schema, "public");
    assert_string_equal(kept.columns[2].name, "n");

    /* after a reset the relation is unknown again */
    assert_contains(decode_err(d, &c, &i), "a change of relation OID 16384");

    change_free(&kept);
    change_free(&c);
    pgo_free(d);
}

/* ---- errors ----------------------------------------------------------- */

static void rejects_unknown_relation(void **state)
{
    (void)state;
    pgo_decoder *d = pgo_new();
    pgb_change c = {0};
    define_t(d, &c);
    msg m = {.n = 0};
    put8(&m, 'I');
    put32(&m, 16385);
    put8(&m, 'N');
    put16(&m, 1);
    puttext(&m, "1");
    assert_string_equal(decode_err(d, &c, &m),
                        "Insert message: a change of relation OID 16385 that no Relation message "
                        "named");
    m.b[0] = 'D';
    m.b[5] = 'K';
    assert_contains(decode_err(d, &c, &m), "relation OID 16385");
    change_free(&c);
    pgo_free(d);
}

static void rejects_binary_and_bad_tuples(void **state)
{
    (void)state;
    pgo_decoder *d = pgo_new();
    pgb_change c = {0};
    define_t(d, &c);

    msg m = {.n = 0};
    put8(&m, 'I');
    put32(&m, 16384);
    put8(&m, 'N');
    put16(&m, 3);
    puttext(&m, "1");
    put8(&m, 'b');
    put32(&m, 2);
    putbytes(&m, "\x00\x01", 2);
    put8(&m, 'n');
    assert_contains(decode_err(d, &c, &m), "binary");

    /* column count mismatch */
    m.n = 0;
    put8(&m, 'I');
    put32(&m, 16384);
    put8(&m, 'N');
    put16(&m, 2);
    puttext(&m, "1");
    puttext(&m, "2");
    assert_contains(decode_err(d, &c, &m), "no longer matches");

    /* an unknown column kind */
    m.n = 0;
    put8(&m, 'I');
    put32(&m, 16384);
    put8(&m, 'N');
    put16(&m, 3);
    puttext(&m, "1");
    put8(&m, 'x');
    put8(&m, 'n');
    assert_contains(decode_err(d, &c, &m), "unknown kind");

    /* a NUL inside a text value */
    m.n = 0;
    put8(&m, 'I');
    put32(&m, 16384);
    put8(&m, 'N');
    put16(&m, 3);
    put8(&m, 't');
    put32(&m, 3);
    putbytes(&m, "1\0002", 3);
    put8(&m, 'n');
    put8(&m, 'n');
    assert_contains(decode_err(d, &c, &m), "NUL");

    /* a negative length */
    m.n = 0;
    put8(&m, 'I');
    put32(&m, 16384);
    put8(&m, 'N');
    put16(&m, 3);
    put8(&m, 't');
    put32(&m, 0xffffffff);
    assert_contains(decode_err(d, &c, &m), "negative");

    /* insert without 'N' */
    m.n = 0;
    put8(&m, 'I');
    put32(&m, 16384);
    put8(&m, 'K');
    put16(&m, 3);
    assert_contains(decode_err(d, &c, &m), "'N'");

    /* bytes after the end */
    m.n = 0;
    put8(&m, 'I');
    put32(&m, 16384);
    put8(&m, 'N');
    put16(&m, 3);
    put8(&m, 'n');
    put8(&m, 'n');
    put8(&m, 'n');
    put8(&m, 0);
    assert_contains(decode_err(d, &c, &m), "1 bytes after its end");

    /* unknown or streaming message types, an empty message */
    msg s = {.n = 0};
    put8(&s, 'S');
    put32(&s, 1);
    put8(&s, 1);
    assert_contains(decode_err(d, &c, &s), "unknown pgoutput message type 'S'");
    s.b[0] = 0x01;
    assert_contains(decode_err(d, &c, &s), "0x01");
    const char *err = NULL;
    assert_false(pgo_decode(d, &c, s.b, 0, 0, &err));
    assert_non_null(err);

    change_free(&c);
    pgo_free(d);
}

static void passes_values_through(void **state)
{
    (void)state;
    pgo_decoder *d = pgo_new();
    pgb_change c = {0};
    const col_def cols[] = {
        {"n", 1700, false}, {"f", 701, false}, {"g", 701, false},
        {"h", 701, false},  {"b", 17, false},  {"u", 25, false},
    };
    msg r = relation_msg(40000, "public", "vals", 'd', cols, 6);
    decode_ok(d, &c, &r);
    const char *values[] = {
        ("123456789012345678901234567890123456789012345678901234567890."
         "000000000000000000000000000000000000000000000000000000000001"),
        "NaN",
        "-Infinity",
        "1.7976931348623157e+308",
        "\\x00ff",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \"quoted\" back\\slash\n\ttab",
    };
    msg m = {.n = 0};
    put8(&m, 'I');
    put32(&m, 40000);
    put8(&m, 'N');
    put16(&m, 6);
    for (int i = 0; i < 6; i++)
        puttext(&m, values[i]);
    decode_ok(d, &c, &m);
    assert_int_equal(c.ncolumns, 6);
    for (int i = 0; i < 6; i++)
        assert_string_equal(c.columns[i].value, values[i]);
    assert_int_equal(c.columns[4].typeoid, 17);

    /* a large value, and the buffers reused for a small one */
    static char big[3000];
    memset(big, '9', sizeof big - 1);
    msg *mb = malloc(sizeof *mb);
    assert_non_null(mb);
    mb->n = 0;
    put8(mb, 'I');
    put32(mb, 40000);
    put8(mb, 'N');
    put16(mb, 6);
    for (int i = 0; i < 6; i++)
        puttext(mb, i == 0 ? big : "1");
    decode_ok(d, &c, mb);
    assert_int_equal(strlen(c.columns[0].value), sizeof big - 1);
    assert_string_equal(c.columns[5].value, "1");
    decode_ok(d, &c, &m);
    assert_string_equal(c.columns[5].value, values[5]);
    free(mb);

    change_free(&c);
    pgo_free(d);
}

/* Every proper prefix of M fails (with "ends inside" for every one but the
 * empty message) without reading past it: each prefix is copied into a
 * block of exactly its size, so AddressSanitizer sees any overread. */
static void every_prefix_fails(pgo_decoder *d, pgb_change *c, const msg *m)
{
    for (size_t len = 0; len < m->n; len++) {
        char *cut = malloc(len ? len : 1);
        assert_non_null(cut);
        memcpy(cut, m->b, len);
        const char *err = NULL;
        if (pgo_decode(d, c, cut, len, 0x1000, &err))
            fail_msg("a prefix of %zu of %zu bytes decoded", len, m->n);
        assert_non_null(err);
        if (len > 0 && !strstr(err, "message ends inside"))
            fail_msg("prefix of %zu of %zu bytes: \"%s\"", len, m->n, err);
        assert_int_equal(c->kind, CHG_NONE);
        free(cut);
    }
    decode_ok(d, c, m);
}

static void rejects_every_truncation(void **state)
{
    (void)state;
    pgo_decoder *d = pgo_new();
    pgb_change c = {0};
    define_t(d, &c);

    msg m = {.n = 0};
    put8(&m, 'I');
    put32(&m, 16384);
    put8(&m, 'N');
    put16(&m, 3);
    puttext(&m, "42");
    puttext(&m, "some text");
    put8(&m, 'n');
    every_prefix_fails(d, &c, &m);
    assert_string_equal(c.columns[1].value, "some text");

    const char *err = NULL;
    assert_false(pgo_decode(d, &c, m.b, 18, 0, &err));
    assert_string_equal(err, "Insert message ends inside the value's length of column \"v\" of "
                             "public.t");

    m.n = 0;
    put8(&m, 'U');
    put32(&m, 16384);
    put8(&m, 'O');
    put16(&m, 3);
    puttext(&m, "1");
    puttext(&m, "old");
    put8(&m, 'n');
    put8(&m, 'N');
    put16(&m, 3);
    puttext(&m, "1");
    put8(&m, 'u');
    puttext(&m, "2.5");
    every_prefix_fails(d, &c, &m);

    m.n = 0;
    put8(&m, 'D');
    put32(&m, 16384);
    put8(&m, 'K');
    put16(&m, 3);
    puttext(&m, "1");
    put8(&m, 'n');
    put8(&m, 'n');
    every_prefix_fails(d, &c, &m);

    m = relation_msg(16384, "public", "t", 'd', t_cols, 3);
    every_prefix_fails(d, &c, &m);

    m = begin_msg(5, 6, 7);
    every_prefix_fails(d, &c, &m);

    m.n = 0;
    put8(&m, 'C');
    put8(&m, 0);
    put64(&m, 1);
    put64(&m, 2);
    put64(&m, 3);
    every_prefix_fails(d, &c, &m);

    m.n = 0;
    put8(&m, 'M');
    put8(&m, 1);
    put64(&m, 0x2000);
    putstr(&m, "pgbaton");
    put32(&m, 5);
    putbytes(&m, "hello", 5);
    every_prefix_fails(d, &c, &m);

    m.n = 0;
    put8(&m, 'T');
    put32(&m, 1);
    put8(&m, 0);
    put32(&m, 16384);
    every_prefix_fails(d, &c, &m);

    m.n = 0;
    put8(&m, 'Y');
    put32(&m, 1);
    putstr(&m, "public");
    putstr(&m, "ty");
    every_prefix_fails(d, &c, &m);

    m.n = 0;
    put8(&m, 'O');
    put64(&m, 1);
    putstr(&m, "origin");
    every_prefix_fails(d, &c, &m);

    /* a Relation message cut short replaces nothing */
    m = relation_msg(16384, "public", "renamed", 'd', t_cols, 3);
    assert_false(pgo_decode(d, &c, m.b, m.n - 3, 0, &err));
    m.n = 0;
    put8(&m, 'I');
    put32(&m, 16384);
    put8(&m, 'N');
    put16(&m, 3);
    put8(&m, 'n');
    put8(&m, 'n');
    put8(&m, 'n');
    decode_ok(d, &c, &m);
    assert_string_equal(c.table, "t");

    /* a column count far beyond the message */
    m.n = 0;
    put8(&m, 'R');
    put32(&m, 1);
    putstr(&m, "s");
    putstr(&m, "t");
    put8(&m, 'd');
    put16(&m, 65535);
    assert_contains(decode_err(d, &c, &m), "message ends inside the columns");
    m.n = 0;
    put8(&m, 'T');
    put32(&m, 0x7fffffff);
    put8(&m, 0);
    assert_contains(decode_err(d, &c, &m), "message ends inside the relation OIDs");

    change_free(&c);
    pgo_free(d);
}

static void many_relations(void **state)
{
    (void)state;
    pgo_decoder *d = pgo_new();
    pgb_change c = {0};
    const col_def one[] = {{"id", 23, true}};
    /* in an order that exercises insertion everywhere in the sorted cache */
    for (uint32_t i = 0; i < 200; i++) {
        uint32_t oid = 1000 + (i * 7919) % 200;
        char name[16];
        snprintf(name, sizeof name, "r%u", oid);
        msg r = relation_msg(oid, "public", name, 'd', one, 1);
        decode_ok(d, &c, &r);
    }
    for (uint32_t oid = 1000; oid < 1200; oid++) {
        char name[16];
        snprintf(name, sizeof name, "r%u", oid);
        msg m = {.n = 0};
        put8(&m, 'I');
        put32(&m, oid);
        put8(&m, 'N');
        put16(&m, 1);
        puttext(&m, "1");
        decode_ok(d, &c, &m);
        assert_string_equal(c.table, name);
    }
    change_free(&c);
    pgo_free(d);
    pgo_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decodes_begin_commit),
        cmocka_unit_test(formats_timestamps),
        cmocka_unit_test(decodes_relation_and_insert),
        cmocka_unit_test(update_unchanged_toast_is_absent),
        cmocka_unit_test(update_with_old_key_or_row),
        cmocka_unit_test(decodes_delete),
        cmocka_unit_test(decodes_truncate_of_three),
        cmocka_unit_test(decodes_messages),
        cmocka_unit_test(relation_replaced),
        cmocka_unit_test(rejects_unknown_relation),
        cmocka_unit_test(rejects_binary_and_bad_tuples),
        cmocka_unit_test(passes_values_through),
        cmocka_unit_test(rejects_every_truncation),
        cmocka_unit_test(many_relations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
