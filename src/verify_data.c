/*
 * src/verify_data.c — verify: row counts, content checksums, first rows,
 * sequences.
 *
 * How the data comparison works:
 *   - Every table of the source is described once (sql/verify_columns.sql on
 *     both sides): its columns, those the target also has, and its key
 *     (primary key, else replica identity index).
 *   - Every table is checksummed whole, one query per side: a sequential
 *     scan reads each row for the least (key ranges through the index cost a
 *     third to a half more per row, ctid ranges nearly as much). Except a
 *     very large table (more than split_rows rows, 10 million by default
 *     (verify.c), and more than one
 *     job's share of all rows, by the source's estimate) with a one-column
 *     integer key and --jobs > 1: one scan would leave the other workers
 *     idle for long, so it is cut into key ranges (a multiple of --jobs)
 *     that every worker takes, each checksummed and, when it differs,
 *     narrowed like any differing range.
 *   - The checksum is count(*) and the sum of the row hashes — sum(bigint),
 *     which adds in 128 bits and returns a numeric, so it neither overflows
 *     nor depends on row order.
 *   - The row hash (verify_row_hash_expr) is a chain of the types' own 64-bit hash
 *     functions, each call seeded with the previous one's result:
 *     h0 = 0, h(i) = hashfn_i(value_i, h(i-1)), in column order. Each call
 *     mixes its seed completely, so the row hash is not a linear combination
 *     of column hashes (with one, values swapped between two rows would
 *     leave the sum unchanged). Only types whose hash separates exactly the
 *     values whose text output differs are hashed as themselves: bool (as
 *     0/1), smallint, integer, bigint (plus its high 32 bits: hashint8
 *     folds 64 bits to 32), oid, uuid, "char", name, bpchar (its hash, under
 *     the "C" collation, ignores trailing spaces: a character(n) value always
 *     has n characters, so for it that is all; bpchar without a length and
 *     domains over bpchar add the octet length). Every other type — numeric
 *     (1.0 = 1.00), float (0 = -0), interval ('1 day' = '24 hours'),
 *     json(b), arrays, records, ranges, timestamps (their hash folds 64 bits
 *     to 32 too), text and varchar, user types — is hashed as its text
 *     (::text) under "C": bytes, whatever the column's collation; xml as
 *     its output text (format('%s', v): xml::text is the stored text, whose
 *     XML declaration the output — and so every copy — drops). Domains
 *     count as their base type. A column whose type differs between the
 *     sides is hashed as text on both. A nullable column's NULL is hashed as
 *     a fixed value of its type with the seed's low bit flipped (or, where
 *     the octet length is hashed, with octet length -1), so NULL differs
 *     from every value, the empty string included. Rows of more than
 *     CHAIN_MAX_COLS columns are hashed as
 *     hashtextextended(ROW(columns)::text, 0) (a chain would nest too deep).
 *     Text is the same on both sides because every session pins DateStyle,
 *     TimeZone, extra_float_digits, bytea_output and IntervalStyle
 *     (verify_pin_settings). When the two databases' encodings differ, the
 *     text-like classes (text, name, bpchar) are hashed instead as the hex
 *     of their UTF8 bytes (VERIFY_HASH_UTF8, _UTF8_BPCHAR: column_hash_class),
 *     the same on both sides.
 *   - --jobs workers (a pool of the worker runtime, src/worker.c: the first
 *     failure stops it and cancels the checksums the others have in
 *     flight) each hold one session per side, inside the same exported
 *     snapshots (the first worker uses the control connections, the others
 *     connect in their threads), and take tables from a shared queue,
 *     largest first; a table's two queries are sent together, so both
 *     servers work at once. A checksum runs without the server's parallel
 *     workers unless verify workers are idle (set_parallel), and is
 *     JIT-optimized when PostgreSQL JIT-compiles it (tune_sessions).
 *   - A table whose checksums differ is narrowed. With a one-column integer
 *     key, it is cut into ranges of that key over [min, max] of both sides
 *     together, about chunk_rows rows each, queued for every worker; a range
 *     whose checksums differ is cut into sub-ranges, checksummed again, and
 *     the differing ones followed down until a range is small enough to
 *     list (key, row hash) on both sides and merge (the same row hash as the
 *     checksums). A table with another key is listed whole (up to
 *     KEYLIST_MAX_ROWS rows); one without a key cannot be narrowed (ctid
 *     ranges follow the physical layout, which differs between servers).
 *     Only keys are kept: missing on target, extra on target, changed.
 *     Column values never leave the servers.
 */
#include "verify.h"

#include "log.h"
#include "sql_embed.h"
#include "strbuf.h"
#include "strutil.h"
#include "worker.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A range smaller than this is listed key by key rather than cut again. */
#define KEYLIST_ROWS 5000
/* A table without an integer key is listed key by key only up to this size. */
#define KEYLIST_MAX_ROWS 2000000
/* Key ranges per worker for such a table. */
#define SPLIT_PER_JOB 4
/* Sub-ranges a differing integer range is cut into. */
#define NARROW_FANOUT 16

/* ------------------------------------------------------------------ */
/* small helpers */

static bool is_integer_type(const char *type)
{
    return strcmp(type, "smallint") == 0 || strcmp(type, "integer") == 0 ||
           strcmp(type, "bigint") == 0;
}

static int table_keys_found(verify_table *t)
{
    return t->missing.n + t->extra.n + t->changed.n;
}

/* ------------------------------------------------------------------ */
/* table descriptions */

enum {
    VC_SCHEMA,
    VC_TABLE,
    VC_EST,
    VC_COLUMN,
    VC_TYPE,
    VC_KEYPOS,
    VC_GEN,
    VC_IDENT,
    VC_UNIQUE,
    VC_HASH,
    VC_NOTNULL,
    VC_QSCHEMA, /* the names quoted as quote_ident() does, for messages */
    VC_QTABLE,
    VC_QCOLUMN,
    VC_NCOLS
};

static int cmp_table_at(const db_res *a, int i, const db_res *b, int j)
{
    int c = strcmp(db_val(a, i, VC_SCHEMA), db_val(b, j, VC_SCHEMA));
    return c ? c : strcmp(db_val(a, i, VC_TABLE), db_val(b, j, VC_TABLE));
}

static int rows_of_table(const db_res *res, int i)
{
    int n = 1;
    while (i + n < db_nrows(res) && cmp_table_at(res, i, res, i + n) == 0)
        n++;
    return n;
}

/* Above this many hashed columns a row is hashed as ROW(...)::text (the
 * chain of hash calls would nest too deep). */
#define CHAIN_MAX_COLS 100

/* How a value of each hash class is hashed: FN(VALUE, seed), where VALUE
 * is a format of the column reference and NULLV stands for NULL (the
 * NULL-ness itself goes into the seed). Indexed by verify_hash_class. */
static const struct hasher {
    const char *fn, *value, *nullv;
} hashers[] = {
    [VERIFY_HASH_TEXT] = {"hashtextextended", "%s::text", "''"},
    [VERIFY_HASH_XML] = {"hashtextextended", "pg_catalog.format('%%s', %s)", "''"},
    [VERIFY_HASH_BOOL] = {"hashint4extended", "%s::int", "0"},
    [VERIFY_HASH_INT2] = {"hashint2extended", "%s", "0::int2"},
    [VERIFY_HASH_INT4] = {"hashint4extended", "%s", "0"},
    [VERIFY_HASH_INT8] = {"hashint8extended", "%s", "0::int8"},
    [VERIFY_HASH_OID] = {"hashoidextended", "%s", "0::oid"},
    [VERIFY_HASH_UUID] = {"uuid_hash_extended", "%s", "'00000000-0000-0000-0000-000000000000'"},
    [VERIFY_HASH_CHAR] = {"hashcharextended", "%s", "''"},
    [VERIFY_HASH_NAME] = {"hashnameextended", "%s", "''"},
    [VERIFY_HASH_BPCHAR] = {"hashbpcharextended", "%s", "''"},
    [VERIFY_HASH_BPCHAR_N] = {"hashbpcharextended", "%s", "''"},
    [VERIFY_HASH_UTF8] = {"hashtextextended",
                          "pg_catalog.encode(pg_catalog.convert_to(%s::text, 'UTF8'), 'hex')",
                          "''"},
    [VERIFY_HASH_UTF8_BPCHAR] =
        {"hashtextextended", "pg_catalog.encode(pg_catalog.convert_to(%s::text, 'UTF8'), 'hex')",
         "''"},
    [VERIFY_HASH_UTF8_XML] = {"hashtextextended",
                              "pg_catalog.encode(pg_catalog.convert_to("
                              "pg_catalog.format('%%s', %s), 'UTF8'), 'hex')",
                              "''"},
};

/* The text of column C of "t" as its type's output function shows it (what
 * the client and every copy see): col::text, except for xml, whose cast to
 * text keeps the stored text (an XML declaration the output drops).
 * Malloc'd. */
static char *column_text(const verify_column *c)
{
    bool xml = c->hash == VERIFY_HASH_XML || c->hash == VERIFY_HASH_UTF8_XML;
    return str_printf(xml ? "pg_catalog.format('%%s', t.%s)" : "t.%s::text", c->qname);
}

/* One link of the chain: the hash of column C seeded with SEED (consumed). */
static char *hash_link(const verify_column *c, char *seed)
{
    const struct hasher *h = &hashers[c->hash];
    char *ref = str_printf("t.%s", c->qname);
    char *v = str_printf(h->value, ref);
    /* NULL: a default value, and the seed's low bit flipped (for bpchar, the
     * octet length or trailing spaces that follow the value's hash say it
     * instead: -1) */
    if (!c->not_null) {
        char *nv = str_printf("coalesce(%s, %s)", v, h->nullv);
        free(v);
        v = nv;
    }
    if (!c->not_null && c->hash != VERIFY_HASH_BPCHAR && c->hash != VERIFY_HASH_UTF8_BPCHAR) {
        char *ns = str_printf("(%s # CASE WHEN %s IS NULL THEN 1 ELSE 0 END)", seed, ref);
        free(seed);
        seed = ns;
    }
    char *link;
    switch (c->hash) {
    case VERIFY_HASH_TEXT: /* bytes: the same whatever the collation */
    case VERIFY_HASH_XML:
    case VERIFY_HASH_BPCHAR_N: /* always n characters: the trimmed value says all */
        link = str_printf("%s(%s COLLATE \"C\", %s)", h->fn, v, seed);
        break;
    case VERIFY_HASH_INT8:
        link = str_printf("hashint4extended((%s >> 32)::int, %s(%s, %s))", v, h->fn, v, seed);
        break;
    case VERIFY_HASH_BPCHAR: {
        char *len =
            str_printf(c->not_null ? "octet_length(%s)" : "coalesce(octet_length(%s), -1)", ref);
        link = str_printf("hashint4extended(%s, %s(%s COLLATE \"C\", %s))", len, h->fn, v, seed);
        free(len);
        break;
    }
    case VERIFY_HASH_UTF8_BPCHAR: {
        /* its text drops the trailing spaces: count them, in bytes of the
         * server's own encoding, where a space is one byte on both sides */
        char *spaces =
            str_printf("coalesce(octet_length(%s) - octet_length(%s::text), -1)", ref, ref);
        link = str_printf("hashint4extended(%s, %s(%s, %s))", spaces, h->fn, v, seed);
        free(spaces);
        break;
    }
    default:
        link = str_printf("%s(%s, %s)", h->fn, v, seed);
        break;
    }
    free(ref);
    free(v);
    free(seed);
    return link;
}

char *verify_row_hash_expr(const verify_table *t, bool conv)
{
    int n = 0;
    for (int c = 0; c < t->ncols; c++)
        n += t->cols[c].on_target;
    if (n == 0)
        return xstrdup("0::bigint");
    if (n > CHAIN_MAX_COLS) {
        strbuf cols = {0};
        for (int c = 0; c < t->ncols; c++)
            if (t->cols[c].on_target)
                strbuf_printf(&cols, "%st.%s", cols.len ? ", " : "", t->cols[c].qname);
        char *row = str_printf(conv ? "hashtextextended(pg_catalog.encode(pg_catalog.convert_to("
                                      "ROW(%s)::text, 'UTF8'), 'hex'), 0)"
                                    : "hashtextextended(ROW(%s)::text, 0)",
                               cols.data);
        free(cols.data);
        return row;
    }
    char *e = xstrdup("0::bigint");
    for (int c = 0; c < t->ncols; c++)
        if (t->cols[c].on_target)
            e = hash_link(&t->cols[c], e);
    return e;
}

/* Build the expressions a table's queries use, from its columns. */
static void build_expressions(verify_table *t, bool conv)
{
    t->row_expr = verify_row_hash_expr(t, conv);

    bool key_ok = t->nkey > 0;
    for (int k = 0; k < t->nkey; k++)
        key_ok = key_ok && t->cols[t->key[k]].on_target;
    if (!key_ok) {
        t->key_kind = VERIFY_KEY_NONE;
        return;
    }
    strbuf ob = {0}, lb = {0};
    for (int k = 0; k < t->nkey; k++) {
        strbuf_printf(&ob, "%st.%s", ob.len ? ", " : "", t->cols[t->key[k]].qname);
        strbuf_printf(&lb, "%s%s", lb.len ? ", " : "", t->cols[t->key[k]].display);
    }
    char *order = ob.data, *label = lb.data;
    t->key_order = order;
    if (t->nkey == 1) {
        t->key_label = label;
        t->key_expr = str_printf("%s::text", order);
        t->key_kind =
            is_integer_type(t->cols[t->key[0]].type) ? VERIFY_KEY_INTEGER : VERIFY_KEY_OTHER;
    } else {
        t->key_label = str_printf("(%s)", label);
        free(label);
        t->key_expr = str_printf("ROW(%s)::text", order);
        t->key_kind = VERIFY_KEY_OTHER;
    }
}

static verify_hash_class hash_class_of(const char *v)
{
    static const char *names[] = {
        [VERIFY_HASH_TEXT] = "text",        [VERIFY_HASH_BOOL] = "bool",
        [VERIFY_HASH_INT2] = "int2",        [VERIFY_HASH_INT4] = "int4",
        [VERIFY_HASH_INT8] = "int8",        [VERIFY_HASH_OID] = "oid",
        [VERIFY_HASH_UUID] = "uuid",        [VERIFY_HASH_CHAR] = "char",
        [VERIFY_HASH_NAME] = "name",        [VERIFY_HASH_BPCHAR] = "bpchar",
        [VERIFY_HASH_BPCHAR_N] = "bpcharn", [VERIFY_HASH_XML] = "xml",
    };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strcmp(v, names[k]) == 0)
            return (verify_hash_class)k;
    return VERIFY_HASH_TEXT;
}

/* How column C (row SI of S, row DI of D on the target) enters the row
 * hash: as its class when both sides have the same type and class, else as
 * text (a type difference is a schema difference; whether the values
 * differ is then decided on their text); CONV (the databases' encodings
 * differ): a text-like class as its UTF8 bytes. */
static void column_hash_class(verify_column *c, bool conv, const db_res *s, int si, const db_res *d,
                              int di)
{
    bool same = strcmp(db_val(s, si, VC_TYPE), db_val(d, di, VC_TYPE)) == 0 &&
                strcmp(db_val(s, si, VC_HASH), db_val(d, di, VC_HASH)) == 0;
    c->hash = same ? hash_class_of(db_val(s, si, VC_HASH)) : VERIFY_HASH_TEXT;
    /* xml on one side only: both sides' output text (xml::text would be
     * the stored text) */
    if (!same &&
        (strcmp(db_val(s, si, VC_HASH), "xml") == 0 || strcmp(db_val(d, di, VC_HASH), "xml") == 0))
        c->hash = VERIFY_HASH_XML;
    if (conv && c->hash == VERIFY_HASH_XML)
        c->hash = VERIFY_HASH_UTF8_XML;
    else if (conv && (c->hash == VERIFY_HASH_TEXT || c->hash == VERIFY_HASH_NAME))
        c->hash = VERIFY_HASH_UTF8;
    else if (conv && (c->hash == VERIFY_HASH_BPCHAR || c->hash == VERIFY_HASH_BPCHAR_N))
        c->hash = VERIFY_HASH_UTF8_BPCHAR;
    c->not_null = db_val(s, si, VC_NOTNULL)[0] == 't' && db_val(d, di, VC_NOTNULL)[0] == 't';
}

/* Describe the table at S[i..i+n), with the target's columns at D[j..j+m)
 * (m == 0 when the target lacks the table). */
static void describe_table(verify_table *t, bool conv, const db_res *s, int i, int n,
                           const db_res *d, int j, int m)
{
    t->schema = xstrdup(db_val(s, i, VC_SCHEMA));
    t->name = xstrdup(db_val(s, i, VC_TABLE));
    t->display = str_printf("%s.%s", db_val(s, i, VC_QSCHEMA), db_val(s, i, VC_QTABLE));
    t->qname = db_quote_qualified(t->schema, t->name);
    t->est_rows = strtoll(db_val(s, i, VC_EST), NULL, 10);
    t->on_target = m > 0;
    t->cols = xcalloc((size_t)n, sizeof *t->cols);
    t->ncols = n;
    t->key = xcalloc((size_t)n, sizeof *t->key);
    for (int c = 0; c < n; c++) {
        verify_column *col = &t->cols[c];
        col->name = xstrdup(db_val(s, i + c, VC_COLUMN));
        col->qname = db_quote_ident(col->name);
        col->display = xstrdup(db_val(s, i + c, VC_QCOLUMN));
        col->type = xstrdup(db_val(s, i + c, VC_TYPE));
        col->key_position = db_isnull(s, i + c, VC_KEYPOS) ? 0 : atoi(db_val(s, i + c, VC_KEYPOS));
        col->generated = db_val(s, i + c, VC_GEN)[0] == 's';
        col->identity = db_val(s, i + c, VC_IDENT)[0];
        col->in_unique = db_val(s, i + c, VC_UNIQUE)[0] == 't';
        for (int k = 0; k < m && !col->on_target; k++) {
            col->on_target = strcmp(col->name, db_val(d, j + k, VC_COLUMN)) == 0;
            if (col->on_target)
                column_hash_class(col, conv, s, i + c, d, j + k);
        }
        if (col->key_position > 0 && col->key_position <= n) {
            t->key[col->key_position - 1] = c;
            if (col->key_position > t->nkey)
                t->nkey = col->key_position;
        }
    }
    t->lock = xmalloc(sizeof(pthread_mutex_t));
    pthread_mutex_init(t->lock, NULL);
    build_expressions(t, conv);
}

bool verify_load_tables(verify_ctx *ctx, verify_result *r)
{
    db_res *s = NULL, *d = NULL;
    if (!verify_pair_query(ctx->src, sql_verify_columns, ctx->dst, sql_verify_columns, &s, &d))
        return false;
    if (!db_check_shape(ctx->src, s, VC_NCOLS, 0, "table list") ||
        !db_check_shape(ctx->dst, d, VC_NCOLS, 0, "table list")) {
        db_res_free(s);
        db_res_free(d);
        return false;
    }
    int ns = db_nrows(s), nd = db_nrows(d), i = 0, j = 0;
    r->tables = xcalloc((size_t)ns + 1, sizeof *r->tables);
    const char *es = db_parameter(ctx->src, "server_encoding");
    const char *ed = db_parameter(ctx->dst, "server_encoding");
    bool conv = es && ed && strcmp(es, ed) != 0;
    if (conv)
        log_info("verify: source encoding %s, target %s: text is compared as UTF8", es, ed);
    while (i < ns || j < nd) {
        int c = i >= ns ? 1 : j >= nd ? -1 : cmp_table_at(s, i, d, j);
        int n = i < ns ? rows_of_table(s, i) : 0, m = j < nd ? rows_of_table(d, j) : 0;
        if (c > 0) {
            strlist_addf(&r->target_only_tables, "%s.%s", db_val(d, j, VC_QSCHEMA),
                         db_val(d, j, VC_QTABLE));
            j += m;
            continue;
        }
        describe_table(&r->tables[r->ntables++], conv, s, i, n, d, j, c == 0 ? m : 0);
        i += n;
        if (c == 0)
            j += m;
    }
    db_res_free(s);
    db_res_free(d);
    return true;
}

/* ------------------------------------------------------------------ */
/* chunks and workers */

typedef enum chunk_kind {
    CHUNK_TABLE, /* a whole table: its row counts and content checksum */
    CHUNK_RANGE, /* a key range [lo, hi) of a table whose checksums differ */
    CHUNK_SPLIT, /* a very large table to cut into CHUNK_PARTs */
    CHUNK_PART,  /* a key range [lo, hi) of a very large table: counts and checksum */
} chunk_kind;

typedef struct chunk {
    verify_table *t;
    chunk_kind kind;
    int64_t lo, hi; /* CHUNK_RANGE and CHUNK_PART */
} chunk;

/* The work queue: the tables first, then the ranges that narrowing adds
 * while workers run. A worker waits for more while another one is busy
 * (it may add ranges) and leaves when the queue is empty and nobody is. */
typedef struct chunk_queue {
    chunk *items; /* owned */
    int n, cap;
    int next;    /* next to take */
    int busy;    /* workers running a chunk */
    int workers; /* workers started */
    bool stop;   /* the pool stopped (a failure): the others leave at once */
    pthread_mutex_t lock;
    pthread_cond_t changed; /* an item added, or a worker done */
} chunk_queue;

typedef struct worker {
    verify_ctx *ctx;
    chunk_queue *q;
    worker_slot *slot;  /* the runtime's handle */
    db_conn *src, *dst; /* owned unless they are the control connections */
    bool owned;         /* src and dst are this worker's own */
    int parallel;       /* max_parallel_workers_per_gather asked of both sessions */
} worker;

/* Append C; the caller holds the lock or no worker runs yet. */
static void queue_push(chunk_queue *q, chunk c)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? 2 * q->cap : 64;
        q->items = xrealloc(q->items, (size_t)q->cap * sizeof *q->items);
    }
    q->items[q->n++] = c;
}

static void queue_add(chunk_queue *q, chunk c)
{
    pthread_mutex_lock(&q->lock);
    queue_push(q, c);
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->lock);
}

/* The next chunk into *OUT (the worker is then busy until queue_done);
 * false when there is no more work. *SPARE: how many workers have nothing
 * to do meanwhile (none are busy or waiting for a queued chunk). */
static bool queue_take(chunk_queue *q, chunk *out, int *spare)
{
    pthread_mutex_lock(&q->lock);
    while (!q->stop && q->next == q->n && q->busy > 0)
        pthread_cond_wait(&q->changed, &q->lock);
    bool got = !q->stop && q->next < q->n;
    if (got) {
        *out = q->items[q->next++];
        q->busy++;
        int idle = q->workers - q->busy - (q->n - q->next);
        *spare = idle > 0 ? idle : 0;
    }
    pthread_mutex_unlock(&q->lock);
    return got;
}

static void queue_done(chunk_queue *q, bool failed)
{
    pthread_mutex_lock(&q->lock);
    q->busy--;
    q->stop = q->stop || failed;
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->lock);
}

/* Make every worker leave (the pool stopped: the runtime's on_stop). */
static void queue_fail(void *arg)
{
    chunk_queue *q = arg;
    pthread_mutex_lock(&q->lock);
    q->stop = true;
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->lock);
}

/* Larger tables first, so that the last one to finish is a small one. */
static int cmp_chunk_size(const void *a, const void *b)
{
    const chunk *x = a, *y = b;
    if (x->t->est_rows != y->t->est_rows)
        return x->t->est_rows > y->t->est_rows ? -1 : 1;
    return x->t < y->t ? -1 : x->t > y->t; /* list order among equals */
}

/* WHERE clause of a range (integers we computed: no quoting needed). */
static char *range_where(const verify_table *t, bool bounded, int64_t lo, int64_t hi)
{
    if (!bounded)
        return xstrdup("");
    const char *k = t->key_order;
    return str_printf(" WHERE %s >= %" PRId64 " AND %s < %" PRId64, k, lo, k, hi);
}

/* min and max of the integer key over both sides; false on error. *EMPTY
 * when both sides are empty. */
static bool key_bounds(db_conn *s, db_conn *d, const verify_table *t, int64_t *lo, int64_t *hi,
                       bool *empty)
{
    char *sql = str_printf("SELECT min(%s), max(%s) FROM ONLY %s AS t", t->key_order, t->key_order,
                           t->qname);
    db_res *rs = NULL, *rd = NULL;
    bool ok = verify_pair_query(s, sql, d, sql, &rs, &rd);
    free(sql);
    if (!ok)
        return false;
    ok = db_check_shape(s, rs, 2, 1, "key bounds") && db_check_shape(d, rd, 2, 1, "key bounds");
    *empty = true;
    for (int side = 0; ok && side < 2; side++) {
        db_res *res = side ? rd : rs;
        if (db_isnull(res, 0, 0))
            continue;
        int64_t a = strtoll(db_val(res, 0, 0), NULL, 10);
        int64_t b = strtoll(db_val(res, 0, 1), NULL, 10);
        if (*empty || a < *lo)
            *lo = a;
        if (*empty || b >= *hi)
            *hi = b + 1; /* a bigint key of INT64_MAX would overflow: see plan_table */
        *empty = false;
    }
    db_res_free(rs);
    db_res_free(rd);
    return ok;
}

/* Checksum of one range on both sides: counts and sums (sums as text). */
typedef struct checksum {
    int64_t count[2];
    char *sum[2]; /* owned */
} checksum;

static bool checksum_range(worker *w, verify_table *t, bool bounded, int64_t lo, int64_t hi,
                           checksum *out)
{
    char *where = range_where(t, bounded, lo, hi);
    char *sql = str_printf("SELECT count(*), coalesce(sum(%s), 0) FROM ONLY %s AS t%s", t->row_expr,
                           t->qname, where);
    free(where);
    db_res *rs = NULL, *rd = NULL;
    bool ok = verify_pair_query(w->src, sql, w->dst, sql, &rs, &rd);
    free(sql);
    if (!ok)
        return false;
    ok = db_check_shape(w->src, rs, 2, 1, "checksum") &&
         db_check_shape(w->dst, rd, 2, 1, "checksum");
    for (int side = 0; ok && side < 2; side++) {
        db_res *res = side ? rd : rs;
        out->count[side] = strtoll(db_val(res, 0, 0), NULL, 10);
        out->sum[side] = xstrdup(db_val(res, 0, 1));
    }
    db_res_free(rs);
    db_res_free(rd);
    return ok;
}

static bool checksum_equal(const checksum *c)
{
    return c->count[0] == c->count[1] && strcmp(c->sum[0], c->sum[1]) == 0;
}

/* Rows the range holds on the side with more. */
static int64_t checksum_rows(const checksum *c)
{
    return c->count[0] > c->count[1] ? c->count[0] : c->count[1];
}

static void checksum_free(checksum *c)
{
    free(c->sum[0]);
    free(c->sum[1]);
}

/* One (key, hash) pair of a key listing. */
typedef struct keyed {
    const char *key;  /* borrowed from the db_res */
    const char *hash; /* idem */
    int64_t ikey;     /* the key as an integer, for integer keys */
} keyed;

static int cmp_keyed_int(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    return x->ikey < y->ikey ? -1 : x->ikey > y->ikey;
}

static int cmp_keyed_text(const void *a, const void *b)
{
    return strcmp(((const keyed *)a)->key, ((const keyed *)b)->key);
}

static keyed *keyed_list(const db_res *res, bool integer)
{
    int n = db_nrows(res);
    keyed *l = xcalloc((size_t)n + 1, sizeof *l);
    for (int i = 0; i < n; i++) {
        l[i].key = db_val(res, i, 0);
        l[i].hash = db_val(res, i, 1);
        if (integer)
            l[i].ikey = strtoll(l[i].key, NULL, 10);
    }
    qsort(l, (size_t)n, sizeof *l, integer ? cmp_keyed_int : cmp_keyed_text);
    return l;
}

/* Record a differing key on T, under its lock, while below the limit. */
static void record_key(verify_table *t, strlist *which, const char *key)
{
    pthread_mutex_lock(t->lock);
    if (table_keys_found(t) < VERIFY_MAX_KEYS)
        strlist_addf(which, "%s=%s", t->key_label, key);
    t->status = VERIFY_DIFFERENT;
    pthread_mutex_unlock(t->lock);
}

static bool keys_enough(verify_table *t)
{
    pthread_mutex_lock(t->lock);
    bool enough = table_keys_found(t) >= VERIFY_MAX_KEYS;
    pthread_mutex_unlock(t->lock);
    return enough;
}

/* List (key, row hash) of a range on both sides and record the differing
 * keys. */
static bool list_keys(worker *w, verify_table *t, bool bounded, int64_t lo, int64_t hi)
{
    char *where = range_where(t, bounded, lo, hi);
    char *sql =
        str_printf("SELECT %s, %s FROM ONLY %s AS t%s", t->key_expr, t->row_expr, t->qname, where);
    free(where);
    db_res *rs = NULL, *rd = NULL;
    bool ok = verify_pair_query(w->src, sql, w->dst, sql, &rs, &rd);
    free(sql);
    if (!ok)
        return false;
    bool integer = t->key_kind == VERIFY_KEY_INTEGER;
    keyed *a = keyed_list(rs, integer), *b = keyed_list(rd, integer);
    int na = db_nrows(rs), nb = db_nrows(rd), i = 0, j = 0;
    while ((i < na || j < nb) && !keys_enough(t)) {
        int c = i >= na   ? 1
                : j >= nb ? -1
                : integer ? cmp_keyed_int(&a[i], &b[j])
                          : cmp_keyed_text(&a[i], &b[j]);
        if (c < 0) {
            record_key(t, &t->missing, a[i++].key);
        } else if (c > 0) {
            record_key(t, &t->extra, b[j++].key);
        } else {
            if (strcmp(a[i].hash, b[j].hash) != 0)
                record_key(t, &t->changed, a[i].key);
            i++;
            j++;
        }
    }
    free(a);
    free(b);
    db_res_free(rs);
    db_res_free(rd);
    return true;
}

/* Follow a differing integer range [lo, hi) down to its keys. */
static bool narrow_int(worker *w, verify_table *t, int64_t lo, int64_t hi, int64_t rows)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    if (rows <= KEYLIST_ROWS || span <= NARROW_FANOUT)
        return list_keys(w, t, true, lo, hi);
    uint64_t step = span / NARROW_FANOUT + 1;
    for (uint64_t off = 0; off < span && !keys_enough(t); off += step) {
        int64_t a = (int64_t)((uint64_t)lo + off);
        int64_t b = off + step >= span ? hi : (int64_t)((uint64_t)lo + off + step);
        checksum c = {0};
        if (!checksum_range(w, t, true, a, b, &c))
            return false;
        bool eq = checksum_equal(&c);
        int64_t n = checksum_rows(&c);
        checksum_free(&c);
        if (!eq && !narrow_int(w, t, a, b, n))
            return false;
    }
    return true;
}

/* Queue the key span [LO, HI) as PARTS ranges of equal width, of KIND,
 * for every worker. */
static void queue_span(worker *w, verify_table *t, chunk_kind kind, int64_t lo, int64_t hi,
                       int64_t parts)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    uint64_t step = span / (uint64_t)parts + 1;
    for (uint64_t off = 0; off < span; off += step) {
        int64_t a = (int64_t)((uint64_t)lo + off);
        int64_t b = off + step >= span ? hi : (int64_t)((uint64_t)lo + off + step);
        queue_add(w->q, (chunk){.t = t, .kind = kind, .lo = a, .hi = b});
    }
}

/* Narrow the differing key span [LO, HI) of ROWS rows: at most chunk_rows
 * rows here and now, else as ranges of about chunk_rows rows queued for
 * every worker to checksum and narrow. */
static bool narrow_span(worker *w, verify_table *t, int64_t lo, int64_t hi, int64_t rows)
{
    if (rows <= w->ctx->chunk_rows)
        return narrow_int(w, t, lo, hi, rows);
    queue_span(w, t, CHUNK_RANGE, lo, hi, (rows + w->ctx->chunk_rows - 1) / w->ctx->chunk_rows);
    return true;
}

/* A table's checksums differ (C): find the keys, or say why they cannot be
 * named. An integer-keyed table is cut into key ranges that every worker
 * can take; the other keyed tables are listed here. */
static bool narrow_table(worker *w, verify_table *t, const checksum *c)
{
    int64_t rows = checksum_rows(c);
    pthread_mutex_lock(t->lock);
    t->status = VERIFY_DIFFERENT;
    pthread_mutex_unlock(t->lock);
    if (t->key_kind == VERIFY_KEY_NONE) {
        verify_table_note(t, "content checksum differs (no key: the whole table is compared, "
                             "differing rows cannot be named)");
        return true;
    }
    int64_t lo = 0, hi = 0;
    bool empty = true;
    if (t->key_kind == VERIFY_KEY_INTEGER && !key_bounds(w->src, w->dst, t, &lo, &hi, &empty))
        return false;
    /* t->narrowing is read once all workers are done */
    t->narrowing = true;
    if (t->key_kind == VERIFY_KEY_INTEGER && !empty && hi > lo)
        return narrow_span(w, t, lo, hi, rows);
    /* another key, or an integer key up to INT64_MAX (hi overflowed) */
    if (rows > KEYLIST_MAX_ROWS) {
        t->narrowing = false;
        verify_table_note(t, "content checksum differs (too many rows to list keys without "
                             "an integer key)");
        return true;
    }
    return list_keys(w, t, false, 0, 0);
}

/* Settings of a worker's two sessions for the checksums:
 *   - no parallel workers of the server's own (see set_parallel);
 *   - JIT-compiled queries also optimized: the planner costs the row hash
 *     as a few cheap function calls, so a checksum reaches the default
 *     jit_optimize_above_cost only on tables some five times larger than
 *     those where compilation starts, yet compiling it without
 *     optimization gains nothing, while optimizing it makes the hash
 *     about a quarter cheaper per row (3 million pgbench_accounts rows:
 *     0.6 s -> 0.46 s, for some 25 ms of compilation). Queries below
 *     jit_above_cost (small tables) are still not compiled at all. */
static bool tune_sessions(worker *w)
{
    static const char sql[] =
        "SELECT pg_catalog.set_config('max_parallel_workers_per_gather', '0', false), "
        "pg_catalog.set_config('jit_optimize_above_cost', "
        "pg_catalog.current_setting('jit_above_cost'), false)";
    db_res *rs = NULL, *rd = NULL;
    bool ok = verify_pair_query(w->src, sql, w->dst, sql, &rs, &rd);
    db_res_free(rs);
    db_res_free(rd);
    w->parallel = 0;
    return ok;
}

/* Let the server run a checksum with up to SPARE parallel workers of its
 * own (never more than the session's default allows): they stand in for
 * verify workers that have nothing left to do. Otherwise a query runs in
 * its backend alone: every verify worker already keeps one busy on each
 * side, and more processes than --jobs would only compete for the same
 * CPUs. */
static bool set_parallel(worker *w, int spare)
{
    if (spare == w->parallel)
        return true;
    char *sql = str_printf("SELECT pg_catalog.set_config('max_parallel_workers_per_gather', "
                           "least(%d, (SELECT reset_val::int FROM pg_catalog.pg_settings "
                           "WHERE name = 'max_parallel_workers_per_gather'))::text, false)",
                           spare);
    db_res *rs = NULL, *rd = NULL;
    bool ok = verify_pair_query(w->src, sql, w->dst, sql, &rs, &rd);
    free(sql);
    db_res_free(rs);
    db_res_free(rd);
    if (ok)
        w->parallel = spare;
    return ok;
}

/* A very large table (CHUNK_SPLIT): queue its key span as equal ranges, a
 * multiple of the workers, for all of them; false on error. *WHOLE: the
 * table has no span to cut (empty, or its key reaches INT64_MAX): check
 * it whole instead. */
static bool split_table(worker *w, verify_table *t, bool *whole)
{
    int64_t lo = 0, hi = 0;
    bool empty = true;
    if (!key_bounds(w->src, w->dst, t, &lo, &hi, &empty))
        return false;
    *whole = empty || hi <= lo;
    if (*whole)
        return true;
    pthread_mutex_lock(t->lock);
    t->split = true;
    pthread_mutex_unlock(t->lock);
    queue_span(w, t, CHUNK_PART, lo, hi, (int64_t)w->q->workers * SPLIT_PER_JOB);
    return true;
}

static bool run_chunk(worker *w, const chunk *ch, int spare)
{
    verify_table *t = ch->t;
    if (ch->kind == CHUNK_RANGE && keys_enough(t))
        return true;
    if (ch->kind == CHUNK_SPLIT) {
        bool whole = false;
        if (!split_table(w, t, &whole))
            return false;
        if (!whole)
            return true;
        chunk c = {.t = t, .kind = CHUNK_TABLE};
        return run_chunk(w, &c, spare);
    }
    if (!set_parallel(w, spare))
        return false;
    checksum c = {0};
    if (!checksum_range(w, t, ch->kind != CHUNK_TABLE, ch->lo, ch->hi, &c))
        return false;
    bool ok = true;
    if (ch->kind == CHUNK_TABLE) {
        pthread_mutex_lock(t->lock);
        t->rows_source = c.count[0];
        t->rows_target = c.count[1];
        pthread_mutex_unlock(t->lock);
        if (!checksum_equal(&c))
            ok = narrow_table(w, t, &c);
    } else {
        bool eq = checksum_equal(&c);
        if (ch->kind == CHUNK_PART) {
            pthread_mutex_lock(t->lock);
            t->rows_source += c.count[0];
            t->rows_target += c.count[1];
            if (!eq) {
                t->status = VERIFY_DIFFERENT;
                t->narrowing = true; /* read once all workers are done */
            }
            pthread_mutex_unlock(t->lock);
        }
        if (!eq)
            ok = narrow_int(w, t, ch->lo, ch->hi, checksum_rows(&c));
    }
    checksum_free(&c);
    return ok;
}

/* Open one side's worker connection inside SNAPSHOT. */
static db_conn *worker_connect(const conninfo *ci, db_side side, const char *snapshot)
{
    db_connect_opts opts = {
        .mode = DB_MODE_NORMAL, .application_name = "pgbaton verify", .errmode = DB_LOG};
    db_conn *db = db_connect(ci, side, &opts, NULL, NULL);
    if (!db)
        return NULL;
    bool ok = verify_pin_settings(db) && db_begin_snapshot(db, snapshot);
    if (!ok) {
        db_close(db);
        return NULL;
    }
    return db;
}

/* What verify_data's workers share. */
typedef struct verify_run {
    verify_ctx *ctx;
    chunk_queue *q;
    worker *ws; /* one per pool worker */
} data_run;

/* One worker's sessions: its own (connected here), or the control ones. */
static bool worker_open(worker *w)
{
    if (w->owned) {
        w->src = worker_connect(w->ctx->src_ci, DB_SOURCE, w->ctx->src_snapshot);
        w->dst = w->src ? worker_connect(w->ctx->dst_ci, DB_TARGET, w->ctx->dst_snapshot) : NULL;
        if (!w->dst)
            return false;
    }
    /* a stop cancels the checksums in flight */
    (void)worker_watch(w->slot, w->src);
    (void)worker_watch(w->slot, w->dst);
    return tune_sessions(w);
}

/* The body of a worker (the runtime's worker_fn). */
static bool worker_body(worker_slot *slot, void *arg)
{
    data_run *run = arg;
    worker *w = &run->ws[worker_index(slot)];
    w->slot = slot;
    bool ok = worker_open(w);
    chunk ch;
    int spare = 0;
    while (ok && queue_take(w->q, &ch, &spare)) {
        ok = run_chunk(w, &ch, spare);
        if (!ok) {
            pthread_mutex_lock(ch.t->lock);
            ch.t->status = VERIFY_ERROR;
            pthread_mutex_unlock(ch.t->lock);
            /* the first failure stops the others (not their cancellations) */
            if (!worker_stopping(slot))
                worker_pool_fail(worker_pool_of(slot), "verify of %s failed (see above)",
                                 ch.t->display);
        }
        queue_done(w->q, !ok);
    }
    worker_unwatch(slot, w->src);
    worker_unwatch(slot, w->dst);
    if (w->owned) {
        db_close(w->src);
        db_close(w->dst);
        w->src = w->dst = NULL;
    }
    return ok;
}

bool verify_data(verify_ctx *ctx, verify_result *r)
{
    chunk_queue q = {0};
    pthread_mutex_init(&q.lock, NULL);
    pthread_cond_init(&q.changed, NULL);
    int64_t total = 0;
    for (int i = 0; i < r->ntables; i++)
        if (r->tables[i].on_target && r->tables[i].est_rows > 0)
            total += r->tables[i].est_rows;
    bool split = false;
    for (int i = 0; i < r->ntables; i++) {
        verify_table *t = &r->tables[i];
        if (!t->on_target)
            continue;
        bool big = ctx->jobs > 1 && t->key_kind == VERIFY_KEY_INTEGER &&
                   t->est_rows > ctx->split_rows && t->est_rows > total / ctx->jobs;
        split = split || big;
        queue_push(&q, (chunk){.t = t, .kind = big ? CHUNK_SPLIT : CHUNK_TABLE});
    }
    if (q.n > 1)
        qsort(q.items, (size_t)q.n, sizeof *q.items, cmp_chunk_size);
    int jobs = ctx->jobs < q.n || split ? ctx->jobs : q.n;
    q.workers = jobs;
    worker *ws = xcalloc((size_t)(jobs > 0 ? jobs : 1), sizeof *ws);
    for (int i = 0; i < jobs; i++) {
        /* the first worker reads on the control connections (idle meanwhile,
         * in the same snapshots); the others connect in their threads */
        ws[i] = (worker){.ctx = ctx, .q = &q, .owned = i > 0};
        if (i == 0) {
            ws[i].src = ctx->src;
            ws[i].dst = ctx->dst;
        }
    }
    data_run run = {.ctx = ctx, .q = &q, .ws = ws};
    bool ok = true;
    if (jobs > 0) {
        worker_pool *pool = worker_pool_start(&(worker_pool_opts){
            .name = "verify",
            .nworkers = jobs,
            .run = worker_body,
            .arg = &run,
            .on_stop = queue_fail,
            .signal_message = "verify was interrupted by a stop signal",
        });
        char *err = NULL;
        ok = worker_pool_wait(pool, &err);
        if (!ok)
            log_error("%s", err ? err : "verify failed");
        free(err);
    }
    free(ws);
    free(q.items);
    pthread_cond_destroy(&q.changed);
    pthread_mutex_destroy(&q.lock);

    for (int i = 0; i < r->ntables; i++) {
        verify_table *t = &r->tables[i];
        if (!t->on_target) {
            verify_table_note(t, "missing on target");
            continue;
        }
        if (t->rows_source != t->rows_target)
            verify_table_note(t, "rows: %" PRId64 " on source, %" PRId64 " on target",
                              t->rows_source, t->rows_target);
        if (ok && t->narrowing && table_keys_found(t) == 0)
            verify_table_note(t, "content checksum differs but no differing key was found");
    }
    return ok;
}

/* ------------------------------------------------------------------ */
/* the first rows, value by value */

static char *sample_sql(const verify_table *t, int limit)
{
    strbuf sql = {0};
    strbuf_printf(&sql, "SELECT %s", t->key_expr);
    for (int c = 0; c < t->ncols; c++)
        if (t->cols[c].on_target) {
            char *v = column_text(&t->cols[c]);
            strbuf_printf(&sql, ", %s", v);
            free(v);
        }
    strbuf_printf(&sql, " FROM ONLY %s AS t ORDER BY %s LIMIT %d", t->qname, t->key_order, limit);
    return sql.data;
}

static bool same_value(const db_res *a, int i, const db_res *b, int j, int col)
{
    bool na = db_isnull(a, i, col), nb = db_isnull(b, j, col);
    if (na || nb)
        return na == nb;
    return strcmp(db_val(a, i, col), db_val(b, j, col)) == 0;
}

static void compare_sample(verify_table *t, const db_res *s, const db_res *d)
{
    int n = db_nrows(s) < db_nrows(d) ? db_nrows(s) : db_nrows(d);
    for (int i = 0; i < n; i++) {
        const char *ks = db_val(s, i, 0), *kd = db_val(d, i, 0);
        if (strcmp(ks, kd) != 0) {
            strlist_addf(&t->sample, "row %d is %s=%s on source, %s=%s on target", i + 1,
                         t->key_label, ks, t->key_label, kd);
            return;
        }
        int f = 1;
        for (int c = 0; c < t->ncols; c++) {
            if (!t->cols[c].on_target)
                continue;
            if (!same_value(s, i, d, i, f))
                strlist_addf(&t->sample, "%s=%s: column %s differs", t->key_label, ks,
                             t->cols[c].display);
            f++;
        }
    }
    if (db_nrows(s) != db_nrows(d))
        strlist_addf(&t->sample, "%d first rows on source, %d on target", db_nrows(s), db_nrows(d));
}

bool verify_samples(verify_ctx *ctx, verify_result *r)
{
    if (ctx->sample <= 0)
        return true;
    for (int i = 0; i < r->ntables; i++) {
        verify_table *t = &r->tables[i];
        if (!t->on_target || t->key_kind == VERIFY_KEY_NONE)
            continue;
        char *sql = sample_sql(t, ctx->sample);
        db_res *rs = NULL, *rd = NULL;
        bool ok = verify_pair_query(ctx->src, sql, ctx->dst, sql, &rs, &rd);
        free(sql);
        if (!ok)
            return false;
        compare_sample(t, rs, rd);
        if (t->sample.n > 0)
            t->status = t->status == VERIFY_ERROR ? VERIFY_ERROR : VERIFY_DIFFERENT;
        db_res_free(rs);
        db_res_free(rd);
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* sequences */

/* Columns of sql/verify_sequences.sql. */
enum { VS_SCHEMA, VS_NAME, VS_DISPLAY, VS_QNAME, VS_INCREMENT, VS_NCOLS };

/* One query reading every listed sequence's next value, in list order. */
static char *sequence_values_sql(const db_res *list)
{
    strbuf sql = {0};
    for (int i = 0; i < db_nrows(list); i++)
        strbuf_printf(&sql,
                      "%sSELECT %d AS i, CASE WHEN is_called THEN last_value::numeric + %s "
                      "ELSE last_value::numeric END FROM %s",
                      i ? " UNION ALL " : "", i, db_val(list, i, VS_INCREMENT),
                      db_val(list, i, VS_QNAME));
    if (sql.data)
        strbuf_puts(&sql, " ORDER BY 1");
    return sql.data;
}

static db_res *sequence_values(db_conn *db, const db_res *list)
{
    char *sql = sequence_values_sql(list);
    if (!sql)
        return NULL;
    db_res *res = db_exec(db, DB_LOG, sql, 0, NULL);
    free(sql);
    if (res && !db_check_shape(db, res, 2, db_nrows(list), "sequence values")) {
        db_res_free(res);
        res = NULL;
    }
    return res;
}

static bool seq_behind(const char *src, const char *dst, long long increment)
{
    long double s = strtold(src, NULL), d = strtold(dst, NULL);
    return increment > 0 ? d < s : d > s;
}

bool verify_sequences(verify_ctx *ctx, verify_result *r)
{
    db_res *ls = NULL, *ld = NULL;
    if (!verify_pair_query(ctx->src, sql_verify_sequences, ctx->dst, sql_verify_sequences, &ls,
                           &ld))
        return false;
    bool ok = db_check_shape(ctx->src, ls, VS_NCOLS, 0, "sequence list") &&
              db_check_shape(ctx->dst, ld, VS_NCOLS, 0, "sequence list");
    db_res *vs = ok && db_nrows(ls) ? sequence_values(ctx->src, ls) : NULL;
    db_res *vd = ok && db_nrows(ld) ? sequence_values(ctx->dst, ld) : NULL;
    if ((db_nrows(ls) && !vs) || (db_nrows(ld) && !vd))
        ok = false;
    r->seqs = xcalloc((size_t)db_nrows(ls) + 1, sizeof *r->seqs);
    for (int i = 0; ok && i < db_nrows(ls); i++) {
        verify_sequence *q = &r->seqs[r->nseqs++];
        q->name = xstrdup(db_val(ls, i, VS_DISPLAY));
        q->source = xstrdup(db_val(vs, i, 1));
        /* the same sequence: the same (schema, name) */
        for (int j = 0; j < db_nrows(ld) && !q->target; j++)
            if (strcmp(db_val(ls, i, VS_SCHEMA), db_val(ld, j, VS_SCHEMA)) == 0 &&
                strcmp(db_val(ls, i, VS_NAME), db_val(ld, j, VS_NAME)) == 0)
                q->target = xstrdup(db_val(vd, j, 1));
        q->behind = q->target && seq_behind(q->source, q->target,
                                            strtoll(db_val(ls, i, VS_INCREMENT), NULL, 10));
    }
    r->seqs_checked = ok;
    db_res_free(ls);
    db_res_free(ld);
    db_res_free(vs);
    db_res_free(vd);
    return ok;
}
