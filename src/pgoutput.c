/*
 * src/pgoutput.c — decode pgoutput messages (logical replication protocol
 * version 1, text values) into changes (include/pgoutput.h).
 *
 * How it works: a bounds-checked reader walks the message (LEN bytes; every
 * read is checked against the end, and a message cut short is an error
 * naming the field it ends inside) and fills the change directly. As in
 * wal2json.c, every string the change points at is written NUL-terminated
 * into the change's text buffer, which is reserved before anything is
 * written so that pointers into it stay valid while it fills: for a row
 * change, first a copy of the relation's names (schema, table, every column
 * name: one memcpy of the cache entry's string block), then the values (a
 * 't' value of N bytes takes N + 5 bytes of the message and N + 1 of the
 * buffer, so LEN bounds them). The change therefore borrows nothing from
 * the decoder: a later Relation message or pgo_reset() does not invalidate
 * it. Nothing is allocated per message once the buffers have grown, except
 * for Relation messages (rare: once per relation and session, and after
 * its definition changes).
 *
 * The relation cache is an array sorted by OID (binary search per change;
 * a Relation message inserts or replaces its entry).
 *
 * Not carried into the change: the Relation's replica identity setting and
 * typmods, Type and Origin messages, and a Truncate's CASCADE / RESTART
 * IDENTITY options (pgoutput lists every relation the truncation reached,
 * cascaded ones included, and sequences are not replicated).
 */
#include "pgoutput.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLUMN_IS_KEY     1 /* Relation column flag: part of the replica identity */
#define MSG_TRANSACTIONAL 1 /* Message flag */
#define USECS_PER_DAY     INT64_C(86400000000)
#define DAYS_1970_TO_2000 10957
#define TEXT_SLACK        64 /* xid, timestamp, NULs: beyond LEN in the text buffer */

/* ---- the relation cache --------------------------------------------------- */

typedef struct rel_column {
    size_t name; /* offset into the relation's strings */
    uint32_t typeoid;
    bool key;
} rel_column;

typedef struct relation {
    uint32_t oid;
    int ncols;
    rel_column *cols; /* owned */
    char *strings;    /* owned: schema NUL table NUL column names, each NUL-terminated */
    size_t table;     /* offset of the table name in strings */
    size_t names;     /* offset of the first column name: schema and table take this */
    size_t size;      /* bytes of strings */
} relation;

struct pgo_decoder {
    relation *rels; /* sorted by oid */
    int nrels, caprels;
    uint32_t *trunc; /* the relids of the last Truncate message */
    int ntrunc, captrunc, nexttrunc;
    lsn_t trunc_lsn;
    char errbuf[256];
};

static void relation_free(relation *rel)
{
    free(rel->cols);
    free(rel->strings);
}

/* The index of OID in the cache, or where it would go (with *FOUND false). */
static int rel_search(const pgo_decoder *d, uint32_t oid, bool *found)
{
    int lo = 0, hi = d->nrels;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (d->rels[mid].oid < oid)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < d->nrels && d->rels[lo].oid == oid;
    return lo;
}

static const relation *rel_lookup(const pgo_decoder *d, uint32_t oid)
{
    bool found;
    int i = rel_search(d, oid, &found);
    return found ? &d->rels[i] : NULL;
}

/* Insert REL (taken over) into the cache, replacing an entry of its OID. */
static void rel_store(pgo_decoder *d, const relation *rel)
{
    bool found;
    int i = rel_search(d, rel->oid, &found);
    if (found) {
        relation_free(&d->rels[i]);
        d->rels[i] = *rel;
        return;
    }
    if (d->nrels == d->caprels) {
        d->caprels = d->caprels ? 2 * d->caprels : 16;
        d->rels = xrealloc(d->rels, (size_t)d->caprels * sizeof *d->rels);
    }
    memmove(&d->rels[i + 1], &d->rels[i], (size_t)(d->nrels - i) * sizeof *d->rels);
    d->rels[i] = *rel;
    d->nrels++;
}

pgo_decoder *pgo_new(void)
{
    return xcalloc(1, sizeof(pgo_decoder));
}

void pgo_reset(pgo_decoder *d)
{
    for (int i = 0; i < d->nrels; i++)
        relation_free(&d->rels[i]);
    d->nrels = 0;
    d->ntrunc = d->nexttrunc = 0;
}

void pgo_free(pgo_decoder *d)
{
    if (!d)
        return;
    pgo_reset(d);
    free(d->rels);
    free(d->trunc);
    free(d);
}

/* ---- the reader ------------------------------------------------------------ */

typedef struct reader {
    const unsigned char *p;   /* next byte */
    const unsigned char *end; /* one past the last byte */
    pgo_decoder *d;
    const char **err;
    const char *msgname; /* "Insert", ... */
    const relation *rel; /* the row change's relation, for messages */
    int col;             /* the column being read, or -1 */
} reader;

static bool failf(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "<Msgname> message: <text>" into the decoder's buffer. */
static bool failf(reader *r, const char *fmt, ...)
{
    char *buf = r->d->errbuf;
    size_t cap = sizeof r->d->errbuf;
    int n = snprintf(buf, cap, "%s message: ", r->msgname);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < cap)
        vsnprintf(buf + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
    *r->err = buf;
    return false;
}

static const char *col_name(const reader *r)
{
    return r->rel->strings + r->rel->cols[r->col].name;
}

/* The message ends before WHAT could be read. */
static bool cut(reader *r, const char *what)
{
    char *buf = r->d->errbuf;
    size_t cap = sizeof r->d->errbuf;
    if (r->rel && r->col >= 0)
        snprintf(buf, cap, "%s message ends inside %s of column \"%s\" of %s.%s", r->msgname, what,
                 col_name(r), r->rel->strings, r->rel->strings + r->rel->table);
    else
        snprintf(buf, cap, "%s message ends inside %s", r->msgname, what);
    *r->err = buf;
    return false;
}

static bool need(reader *r, size_t n, const char *what)
{
    return (size_t)(r->end - r->p) >= n || cut(r, what);
}

static bool get8(reader *r, uint8_t *v, const char *what)
{
    if (!need(r, 1, what))
        return false;
    *v = *r->p++;
    return true;
}

static bool get16(reader *r, uint16_t *v, const char *what)
{
    if (!need(r, 2, what))
        return false;
    *v = (uint16_t)((unsigned)r->p[0] << 8 | r->p[1]);
    r->p += 2;
    return true;
}

static bool get32(reader *r, uint32_t *v, const char *what)
{
    if (!need(r, 4, what))
        return false;
    *v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    return true;
}

static bool get64(reader *r, uint64_t *v, const char *what)
{
    uint32_t hi, lo;
    if (!get32(r, &hi, what) || !get32(r, &lo, what))
        return false;
    *v = (uint64_t)hi << 32 | lo;
    return true;
}

/* A NUL-terminated string: *S points into the message, *N its length. */
static bool getstr(reader *r, const char **s, size_t *n, const char *what)
{
    const unsigned char *nul = memchr(r->p, '\0', (size_t)(r->end - r->p));
    if (!nul)
        return cut(r, what);
    *s = (const char *)r->p;
    *n = (size_t)(nul - r->p);
    r->p = nul + 1;
    return true;
}

static bool at_end(reader *r)
{
    if (r->p == r->end)
        return true;
    return failf(r, "%zu bytes after its end", (size_t)(r->end - r->p));
}

static int64_t to_int64(uint64_t u)
{
    return u <= INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

/* ---- the change's text ----------------------------------------------------- */

/* S (N bytes) and a NUL appended to the text, which was reserved for the
 * whole message: this check never fires, it keeps a mistake from overrunning
 * (reallocating would move what the change already points at). */
static const char *emit(reader *r, strbuf *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        failf(r, "does not fit its buffer");
        return NULL;
    }
    char *at = b->data + b->len;
    memcpy(at, s, n);
    at[n] = '\0';
    b->len += n + 1;
    return at;
}

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
 * civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* A TimestampTz (microseconds since 2000-01-01 00:00 UTC) as UTC text,
 * "YYYY-MM-DD HH:MM:SS.ffffff+00" (" BC" after it for years before 1, as
 * PostgreSQL prints them), without the libc time zone. */
static void format_timestamp(int64_t us, char *out, size_t cap)
{
    if (us == INT64_MIN) {
        snprintf(out, cap, "-infinity");
        return;
    }
    if (us == INT64_MAX) {
        snprintf(out, cap, "infinity");
        return;
    }
    int64_t days = us / USECS_PER_DAY, rem = us % USECS_PER_DAY;
    if (rem < 0) {
        rem += USECS_PER_DAY;
        days--;
    }
    int64_t year;
    unsigned month, day;
    civil_from_days(days + DAYS_1970_TO_2000, &year, &month, &day);
    int64_t secs = rem / 1000000;
    bool bc = year <= 0;
    snprintf(out, cap, "%04lld-%02u-%02u %02d:%02d:%02d.%06d+00%s",
             (long long)(bc ? 1 - year : year), month, day, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60), (int)(rem % 1000000), bc ? " BC" : "");
}

static bool emit_timestamp(reader *r, pgb_change *c, uint64_t raw)
{
    char ts[64];
    format_timestamp(to_int64(raw), ts, sizeof ts);
    return (c->timestamp = emit(r, &c->text, ts, strlen(ts))) != NULL;
}

static void reset_change(pgb_change *c)
{
    c->kind = CHG_NONE;
    c->ncolumns = c->nidentity = 0;
    c->schema = c->table = c->xid = c->timestamp = c->prefix = c->content = NULL;
    c->transactional = false;
    c->lsn = c->nextlsn = LSN_INVALID;
    c->text.len = 0;
}

/* Reserve C's text for a change of REL in a message of LEN bytes and copy
 * the relation's names into it first (with COLUMNS false only the schema
 * and the table); *NAMES is the copy, which REL's offsets index. */
static bool emit_relation(reader *r, pgb_change *c, const relation *rel, size_t len, bool columns,
                          const char **names)
{
    size_t n = columns ? rel->size : rel->names;
    strbuf_reserve(&c->text, n + len + TEXT_SLACK);
    /* the block holds its own NULs: emit() adds one more, harmless */
    if (!(*names = emit(r, &c->text, rel->strings, n)))
        return false;
    c->schema = *names;
    c->table = *names + rel->table;
    return true;
}

/* ---- messages -------------------------------------------------------------- */

static bool decode_begin(reader *r, pgb_change *c)
{
    uint64_t final_lsn, time;
    uint32_t xid;
    if (!get64(r, &final_lsn, "the final LSN") || !get64(r, &time, "the commit time") ||
        !get32(r, &xid, "the xid") || !at_end(r))
        return false;
    if (final_lsn == LSN_INVALID)
        return failf(r, "without its final LSN");
    char text[16];
    int n = snprintf(text, sizeof text, "%u", xid);
    c->kind = CHG_BEGIN;
    c->lsn = final_lsn;
    return (c->xid = emit(r, &c->text, text, (size_t)n)) != NULL && emit_timestamp(r, c, time);
}

static bool decode_commit(reader *r, pgb_change *c)
{
    uint8_t flags;
    uint64_t commit_lsn, end_lsn, time;
    if (!get8(r, &flags, "the flags") || !get64(r, &commit_lsn, "the commit LSN") ||
        !get64(r, &end_lsn, "the end LSN") || !get64(r, &time, "the commit time") || !at_end(r))
        return false;
    if (flags != 0)
        return failf(r, "unknown flags 0x%02x", flags);
    if (end_lsn == LSN_INVALID)
        return failf(r, "without its end LSN");
    c->kind = CHG_COMMIT;
    c->lsn = commit_lsn;
    c->nextlsn = end_lsn;
    return emit_timestamp(r, c, time);
}

static bool decode_origin(reader *r)
{
    uint64_t lsn;
    const char *name;
    size_t n;
    return get64(r, &lsn, "the origin LSN") && getstr(r, &name, &n, "the origin name") && at_end(r);
}

static bool decode_type(reader *r)
{
    uint32_t oid;
    const char *s;
    size_t n;
    return get32(r, &oid, "the type OID") && getstr(r, &s, &n, "the type's namespace") &&
           getstr(r, &s, &n, "the type name") && at_end(r);
}

/* Append S (N bytes) and its NUL to REL's strings (allocated big enough). */
static size_t rel_add_string(relation *rel, const char *s, size_t n)
{
    size_t at = rel->size;
    memcpy(rel->strings + at, s, n);
    rel->strings[at + n] = '\0';
    rel->size += n + 1;
    return at;
}

static bool read_relation(reader *r, relation *rel, size_t len)
{
    static const char catalog[] = "pg_catalog";
    const char *nsp = NULL, *name = NULL;
    size_t nlen = 0, len_name = 0;
    uint8_t replident;
    uint16_t ncols;
    if (!get32(r, &rel->oid, "the relation OID") ||
        !getstr(r, &nsp, &nlen, "the relation's namespace") ||
        !getstr(r, &name, &len_name, "the relation name") ||
        !get8(r, &replident, "the replica identity setting") ||
        !get16(r, &ncols, "the column count"))
        return false;
    /* every column takes at least 10 bytes: checked before allocating */
    if ((size_t)(r->end - r->p) / 10 < ncols)
        return cut(r, "the columns");
    /* every string is in the message with its NUL; "" may become pg_catalog */
    rel->strings = xmalloc(len + sizeof catalog);
    rel->cols = xmalloc((size_t)ncols * sizeof *rel->cols);
    if (nlen == 0)
        rel_add_string(rel, catalog, sizeof catalog - 1);
    else
        rel_add_string(rel, nsp, nlen);
    rel->table = rel_add_string(rel, name, len_name);
    rel->names = rel->size;
    for (int i = 0; i < ncols; i++) {
        uint8_t flags;
        uint32_t typmod;
        rel_column *col = &rel->cols[i];
        if (!get8(r, &flags, "a column's flags") || !getstr(r, &name, &len_name, "a column name") ||
            !get32(r, &col->typeoid, "a column's type OID") ||
            !get32(r, &typmod, "a column's type modifier"))
            return false;
        col->key = (flags & COLUMN_IS_KEY) != 0;
        col->name = rel_add_string(rel, name, len_name);
        rel->ncols++;
    }
    return at_end(r);
}

static bool decode_relation(reader *r, size_t len)
{
    relation rel = {0};
    if (!read_relation(r, &rel, len)) {
        relation_free(&rel);
        return false;
    }
    rel.strings = xrealloc(rel.strings, rel.size);
    rel_store(r->d, &rel);
    return true;
}

/* Where a tuple's values go. */
enum {
    TO_COLUMNS = 1,       /* every column present into c->columns */
    UNCHANGED_OK = 2,     /* 'u' leaves a column out of c->columns */
    TO_IDENTITY_KEYS = 4, /* the key columns into c->identity */
    TO_IDENTITY_ALL = 8,  /* every column into c->identity */
};

static void add_value(pgb_column **cols, int *n, int *cap, const char *name, uint32_t typeoid,
                      const char *value)
{
    pgb_column *col = change_column_add(cols, n, cap);
    col->name = name;
    col->typeoid = typeoid;
    col->value = value;
}

/* One tuple of R's relation into C as WHERE says; NAMES is the copy of the
 * relation's strings in C's text. */
static bool read_tuple(reader *r, pgb_change *c, const char *names, int where)
{
    const relation *rel = r->rel;
    uint16_t ncols;
    r->col = -1;
    if (!get16(r, &ncols, "a tuple's column count"))
        return false;
    if (ncols != rel->ncols)
        return failf(r,
                     "a tuple of %u columns of %s.%s (OID %u), whose Relation message named %d: "
                     "a Relation message that no longer matches",
                     ncols, rel->strings, rel->strings + rel->table, rel->oid, rel->ncols);
    for (int i = 0; i < ncols; i++) {
        const rel_column *rc = &rel->cols[i];
        const char *value = NULL;
        uint8_t kind;
        uint32_t vlen;
        r->col = i;
        if (!get8(r, &kind, "the kind byte"))
            return false;
        bool to_identity = (where & TO_IDENTITY_ALL) || ((where & TO_IDENTITY_KEYS) && rc->key);
        switch (kind) {
        case 'n':
            break;
        case 'u':
            if (to_identity)
                return failf(r,
                             "column \"%s\" of %s.%s is an unchanged TOASTed value ('u') in the "
                             "%s",
                             col_name(r), rel->strings, rel->strings + rel->table,
                             (where & TO_COLUMNS) ? "new row of an update without the old key"
                                                  : "old row");
            if ((where & TO_COLUMNS) && !(where & UNCHANGED_OK))
                return failf(r, "column \"%s\" of %s.%s is an unchanged TOASTed value ('u')",
                             col_name(r), rel->strings, rel->strings + rel->table);
            continue;
        case 't':
            if (!get32(r, &vlen, "the value's length"))
                return false;
            if (vlen > INT32_MAX)
                return failf(r, "negative length of column \"%s\"'s value", col_name(r));
            if (!need(r, vlen, "the value"))
                return false;
            if (memchr(r->p, '\0', vlen))
                return failf(r, "the value of column \"%s\" contains a NUL byte", col_name(r));
            value = emit(r, &c->text, r->p, vlen);
            if (!value)
                return false;
            r->p += vlen;
            break;
        case 'b':
            return failf(r, "binary value of column \"%s\" of %s.%s (pgbaton asks for text)",
                         col_name(r), rel->strings, rel->strings + rel->table);
        default:
            return failf(r, "unknown kind 0x%02x of column \"%s\"", kind, col_name(r));
        }
        const char *name = names + rc->name;
        if (where & TO_COLUMNS)
            add_value(&c->columns, &c->ncolumns, &c->capcolumns, name, rc->typeoid, value);
        if (to_identity)
            add_value(&c->identity, &c->nidentity, &c->capidentity, name, rc->typeoid, value);
    }
    r->col = -1;
    return true;
}

/* The relation OID that starts a row change, looked up. */
static bool read_relid(reader *r, const relation **rel)
{
    uint32_t relid;
    if (!get32(r, &relid, "the relation OID"))
        return false;
    *rel = rel_lookup(r->d, relid);
    if (!*rel)
        return failf(r, "a change of relation OID %u that no Relation message named", relid);
    return true;
}

static bool expect_byte(reader *r, uint8_t *b, const char *want)
{
    if (!get8(r, b, "the tuple type byte"))
        return false;
    if (!strchr(want, *b) || *b == '\0')
        return failf(r, "tuple type byte 0x%02x where '%s' belongs", *b, want);
    return true;
}

static bool decode_row(reader *r, pgb_change *c, change_kind kind, size_t len)
{
    const char *names;
    uint8_t b;
    if (!read_relid(r, &r->rel) || !emit_relation(r, c, r->rel, len, true, &names))
        return false;
    c->kind = kind;
    switch (kind) {
    case CHG_INSERT:
        if (!expect_byte(r, &b, "N") || !read_tuple(r, c, names, TO_COLUMNS))
            return false;
        break;
    case CHG_UPDATE:
        if (!expect_byte(r, &b, "KON"))
            return false;
        if (b != 'N') {
            if (!read_tuple(r, c, names, b == 'K' ? TO_IDENTITY_KEYS : TO_IDENTITY_ALL) ||
                !expect_byte(r, &b, "N") || !read_tuple(r, c, names, TO_COLUMNS | UNCHANGED_OK))
                return false;
        } else if (!read_tuple(r, c, names, TO_COLUMNS | UNCHANGED_OK | TO_IDENTITY_KEYS)) {
            return false;
        }
        break;
    default: /* CHG_DELETE */
        if (!expect_byte(r, &b, "KO") ||
            !read_tuple(r, c, names, b == 'K' ? TO_IDENTITY_KEYS : TO_IDENTITY_ALL))
            return false;
        break;
    }
    return at_end(r);
}

static bool fill_truncate(pgo_decoder *d, pgb_change *c, reader *r)
{
    const relation *rel = rel_lookup(d, d->trunc[d->nexttrunc]);
    const char *names;
    reset_change(c);
    if (!rel || !emit_relation(r, c, rel, 0, false, &names))
        return false;
    c->kind = CHG_TRUNCATE;
    c->lsn = d->trunc_lsn;
    d->nexttrunc++;
    return true;
}

static bool decode_truncate(reader *r, pgb_change *c, lsn_t wal_start)
{
    pgo_decoder *d = r->d;
    uint32_t nrelids;
    uint8_t options;
    if (!get32(r, &nrelids, "the relation count") || !get8(r, &options, "the options"))
        return false;
    if (nrelids > INT32_MAX)
        return failf(r, "negative relation count");
    if ((size_t)(r->end - r->p) / 4 < nrelids)
        return cut(r, "the relation OIDs");
    if ((int)nrelids > d->captrunc) {
        d->captrunc = (int)nrelids;
        d->trunc = xrealloc(d->trunc, (size_t)d->captrunc * sizeof *d->trunc);
    }
    for (uint32_t i = 0; i < nrelids; i++) {
        if (!get32(r, &d->trunc[i], "the relation OIDs"))
            return false;
        if (!rel_lookup(d, d->trunc[i]))
            return failf(r, "a change of relation OID %u that no Relation message named",
                         d->trunc[i]);
    }
    if (!at_end(r))
        return false;
    d->ntrunc = (int)nrelids;
    d->nexttrunc = 0;
    d->trunc_lsn = wal_start;
    return nrelids == 0 || fill_truncate(d, c, r);
}

static bool decode_message(reader *r, pgb_change *c)
{
    uint8_t flags;
    uint64_t lsn;
    const char *prefix = NULL;
    size_t plen = 0;
    uint32_t n = 0;
    if (!get8(r, &flags, "the flags") || !get64(r, &lsn, "the message LSN") ||
        !getstr(r, &prefix, &plen, "the prefix") || !get32(r, &n, "the content length"))
        return false;
    if (n > INT32_MAX)
        return failf(r, "negative content length");
    if (!need(r, n, "the content"))
        return false;
    const unsigned char *content = r->p;
    r->p += n;
    if (!at_end(r))
        return false;
    if (memchr(content, '\0', n))
        return failf(r, "the content (prefix \"%s\") contains a NUL byte", prefix);
    c->kind = CHG_MESSAGE;
    c->lsn = lsn;
    c->transactional = (flags & MSG_TRANSACTIONAL) != 0;
    return (c->prefix = emit(r, &c->text, prefix, plen)) != NULL &&
           (c->content = emit(r, &c->text, content, n)) != NULL;
}

static bool decode(reader *r, pgb_change *c, const char *msg, size_t len, lsn_t wal_start)
{
    unsigned char type = (unsigned char)msg[0];
    r->p++;
    switch (type) {
    case 'B':
        r->msgname = "Begin";
        strbuf_reserve(&c->text, TEXT_SLACK);
        return decode_begin(r, c);
    case 'C':
        r->msgname = "Commit";
        strbuf_reserve(&c->text, TEXT_SLACK);
        return decode_commit(r, c);
    case 'O':
        r->msgname = "Origin";
        return decode_origin(r);
    case 'R':
        r->msgname = "Relation";
        return decode_relation(r, len);
    case 'Y':
        r->msgname = "Type";
        return decode_type(r);
    case 'I':
        r->msgname = "Insert";
        return decode_row(r, c, CHG_INSERT, len);
    case 'U':
        r->msgname = "Update";
        return decode_row(r, c, CHG_UPDATE, len);
    case 'D':
        r->msgname = "Delete";
        return decode_row(r, c, CHG_DELETE, len);
    case 'T':
        r->msgname = "Truncate";
        return decode_truncate(r, c, wal_start);
    case 'M':
        r->msgname = "Message";
        strbuf_reserve(&c->text, len + TEXT_SLACK);
        return decode_message(r, c);
    default:
        break;
    }
    if (type >= 0x20 && type < 0x7f)
        snprintf(r->d->errbuf, sizeof r->d->errbuf,
                 "unknown pgoutput message type '%c' (protocol version 1, no streaming or "
                 "two-phase)",
                 type);
    else
        snprintf(r->d->errbuf, sizeof r->d->errbuf, "unknown pgoutput message type 0x%02x", type);
    *r->err = r->d->errbuf;
    return false;
}

bool pgo_decode(pgo_decoder *d, pgb_change *c, const char *msg, size_t len, lsn_t wal_start,
                const char **err)
{
    reset_change(c);
    d->ntrunc = d->nexttrunc = 0;
    if (len == 0) {
        *err = "empty pgoutput message";
        return false;
    }
    reader r = {.p = (const unsigned char *)msg,
                .end = (const unsigned char *)msg + len,
                .d = d,
                .err = err,
                .msgname = "pgoutput",
                .col = -1};
    if (decode(&r, c, msg, len, wal_start))
        return true;
    /* no partial change survives an error */
    reset_change(c);
    d->ntrunc = d->nexttrunc = 0;
    return false;
}

bool pgo_next(pgo_decoder *d, pgb_change *c)
{
    if (d->nexttrunc >= d->ntrunc)
        return false;
    const char *err;
    reader r = {.d = d, .err = &err, .msgname = "Truncate", .col = -1};
    return fill_truncate(d, c, &r);
}
