/*
 * include/verify.h — `pgbaton verify`: compare source and target.
 *
 * The command (src/verify.c) decides how to get a consistent pair of
 * snapshots (see the protocol story at the top of src/verify.c and in
 * docs/verify.md), then runs the parts below, each in its own module:
 *   - src/verify_schema.c: catalog descriptions of both sides, compared;
 *   - src/verify_data.c:   per-table row counts and content checksums by key
 *                          ranges in parallel workers, narrowing to keys; the
 *                          first rows compared value by value; sequences;
 *   - src/verify_crud.c:   the CRUD smoke test on the target (rolled back)
 *                          and the backup check (pg_dump of the target).
 * Results are collected in the structs below and printed by verify.c as
 * human lines or one JSON object. No column value of a user table is ever
 * printed: only keys, column names, counts and checksums.
 */
#ifndef PGBATON_VERIFY_H
#define PGBATON_VERIFY_H

#include "db.h"
#include "cli.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* How many differing keys are named per table, at most. */
#define VERIFY_MAX_KEYS 10

/* How a column enters the row hash (see the top of src/verify_data.c): as
 * its text, or as the value itself for these base types. */
typedef enum verify_hash_class {
    VERIFY_HASH_TEXT, /* its text (the safe default: any other type) */
    VERIFY_HASH_XML,  /* xml (or a domain over it): its output text,
                       * format('%s', v); v::text is the stored text, which
                       * keeps an XML declaration the output (and so every
                       * copy) drops */
    VERIFY_HASH_BOOL,
    VERIFY_HASH_INT2,
    VERIFY_HASH_INT4,
    VERIFY_HASH_INT8, /* the value and its high 32 bits (its hash folds them) */
    VERIFY_HASH_OID,
    VERIFY_HASH_UUID,
    VERIFY_HASH_CHAR, /* "char" */
    VERIFY_HASH_NAME,
    VERIFY_HASH_BPCHAR,   /* bpchar of no fixed length, or a domain over
                           * bpchar: the value and its octet length (its hash
                           * ignores trailing spaces) */
    VERIFY_HASH_BPCHAR_N, /* character(n): always n characters, so the value
                           * without its trailing spaces says all */
    /* the two databases' encodings differ: */
    VERIFY_HASH_UTF8,        /* a text-like value (text, name): its UTF8 bytes */
    VERIFY_HASH_UTF8_BPCHAR, /* bpchar: its UTF8 bytes and its trailing spaces */
    VERIFY_HASH_UTF8_XML,    /* xml: the UTF8 bytes of its output text */
} verify_hash_class;

/* One column of a table, as seen on the source. */
typedef struct verify_column {
    char *name;             /* attname; owned */
    char *qname;            /* quoted identifier, for SQL; owned */
    char *display;          /* for messages, quoted as quote_ident() does; owned */
    char *type;             /* format_type(); owned */
    int key_position;       /* 1-based position in the row key, 0 when not a key column */
    bool generated;         /* stored generated column */
    char identity;          /* 'a' (always), 'd' (by default) or 0 */
    bool in_unique;         /* part of a unique index other than the key */
    bool on_target;         /* the target has a column of that name */
    verify_hash_class hash; /* TEXT unless both sides have the same type */
    bool not_null;          /* NOT NULL on both sides */
} verify_column;

typedef enum verify_key_kind {
    VERIFY_KEY_NONE,    /* no primary key nor replica identity index */
    VERIFY_KEY_INTEGER, /* one column of type smallint, integer or bigint */
    VERIFY_KEY_OTHER,   /* any other key */
} verify_key_kind;

typedef enum verify_table_status {
    VERIFY_EQUAL,
    VERIFY_DIFFERENT,
    VERIFY_ERROR, /* could not be compared (error already logged) */
} verify_table_status;

/* One table, its plan and its results. Results are written by workers
 * under the table's lock. */
typedef struct verify_table {
    char *schema, *name; /* owned; the table's identity (never a joined string) */
    char *display;       /* for messages: each part quoted as quote_ident() does
                          * ("dot.ted".name, public."Mixed Case"); owned */
    char *qname;         /* quoted "schema"."table", for SQL; owned */
    int64_t est_rows;    /* the source's estimate */
    verify_column *cols; /* owned, ncols entries */
    int ncols;
    int *key; /* indexes into cols, in key order; owned, nkey entries */
    int nkey;
    verify_key_kind key_kind;
    bool on_target;  /* the table exists on the target */
    char *row_expr;  /* bigint hash of a row of "t", over the columns present on
                      * both sides; owned */
    char *key_expr;  /* text of the key: "t.id::text" or "ROW(t.a, t.b)::text"; owned */
    char *key_order; /* "t.a, t.b"; owned */
    char *key_label; /* how a key is named in messages: "id" or "(a, b)", the
                      * column names quoted as quote_ident() does; owned */

    /* results */
    int64_t rows_source, rows_target;
    bool narrowing; /* its checksums differ and its keys are looked for */
    bool split;     /* checksummed in key ranges from the start (a very large table) */
    verify_table_status status;
    strlist notes;     /* differences and remarks, human sentences */
    strlist missing;   /* keys present on the source only */
    strlist extra;     /* keys present on the target only */
    strlist changed;   /* keys whose row differs */
    strlist sample;    /* differences found in the first rows */
    char *crud_status; /* "ok", "skipped", "failed" or NULL when not run; static */
    char *crud_reason; /* owned or NULL */
    void *lock;        /* pthread_mutex_t *; owned */
} verify_table;

typedef struct verify_sequence {
    char *name;            /* display name, each part quoted as quote_ident() does; owned */
    char *source, *target; /* next values as text; owned; target NULL when missing */
    bool behind;           /* the target would hand out a value the source already did */
} verify_sequence;

/* The backup check (with the CRUD test): a pg_dump of the target, schema
 * and data, as the target connection's role, to /dev/null. */
typedef struct verify_backup {
    const char *status; /* "ok", "failed", "skipped"; NULL when not run; static */
    char *role;         /* the role pg_dump logged in as; owned */
    char *tool;         /* "pg_dump 15.20"; owned, NULL when none was found */
    double seconds;     /* how long pg_dump ran */
    char *reason;       /* why it failed or was skipped; owned, NULL when ok */
} verify_backup;

/* Everything one verify run found. */
typedef struct verify_result {
    strlist schema_diffs; /* one sentence per difference */
    verify_table *tables; /* owned, ntables entries (the source's tables) */
    int ntables;
    strlist target_only_tables; /* display names of tables on the target only */
    verify_sequence *seqs;      /* owned */
    int nseqs;
    bool seqs_checked;    /* false while streaming: sequences are copied at cutover */
    char *consistency;    /* how both sides were made comparable; owned */
    bool crud_run;        /* the CRUD smoke test ran */
    verify_backup backup; /* run with the CRUD test */
    bool same;            /* schema, tables and sequences equal (set when the
                           * comparison completed) */
    bool equal;           /* that, and neither the CRUD test nor the backup
                           * check failed */
} verify_result;

typedef enum verify_print {
    VERIFY_PRINT_HUMAN,
    VERIFY_PRINT_JSON,
    VERIFY_PRINT_NONE, /* results only in the verify_result (report) */
} verify_print;

typedef struct verify_run_opts {
    verify_print output;
    bool crud; /* also run the CRUD smoke test */
} verify_run_opts;

/* The whole verify: connections, snapshots (or the hold), comparisons,
 * optional CRUD, output. Fills R (the caller verify_result_free()s it, even
 * on failure) and returns verify's exit code. */
int verify_run(const pgb_options *o, const verify_run_opts *ro, verify_result *r)
    __attribute__((warn_unused_result));

/* Connections that read inside the snapshots. */
typedef struct verify_ctx {
    db_conn *src, *dst; /* control connections, inside their snapshot transactions */
    const conninfo *src_ci, *dst_ci;
    char *src_snapshot; /* exported snapshot names for the workers; owned */
    char *dst_snapshot;
    int jobs;
    int sample;
    int64_t chunk_rows; /* rows per checksum chunk */
    int64_t split_rows; /* a table with more rows may be checksummed in key ranges */
} verify_ctx;

/* The settings pinned on every verify session (both sides print values the
 * same way). Returns false on error (logged). */
bool verify_pin_settings(db_conn *db) __attribute__((warn_unused_result));

/* Run SQL_S on S and SQL_D on D at the same time (both servers work in
 * parallel) and wait for both. On success *RS and *RD are TUPLES_OK results
 * the caller db_res_free()s; on failure both are NULL and the error is logged
 * with its side. Either connection may be NULL (its query is skipped). */
bool verify_pair_query(db_conn *s, const char *sql_s, db_conn *d, const char *sql_d, db_res **rs,
                       db_res **rd) __attribute__((warn_unused_result));

/* The columns of sql/verify_schema.sql (also read by report.c). An object
 * is identified by (kind, schema, name, sub); display is its name for
 * messages, each part quoted as quote_ident() does. */
enum verify_schema_col {
    VERIFY_SC_KIND,
    VERIFY_SC_SCHEMA,
    VERIFY_SC_NAME,
    VERIFY_SC_SUB,
    VERIFY_SC_ASPECT,
    VERIFY_SC_VALUE,
    VERIFY_SC_DISPLAY,
    VERIFY_SC_NCOLS
};

/* verify_schema.c: compare the structures; differences appended to R. */
bool verify_schema(verify_ctx *ctx, verify_result *r) __attribute__((warn_unused_result));

/* verify_data.c */

/* The SQL expression of the bigint hash of a row of the table aliased "t",
 * over T's columns present on both sides (see the top of
 * src/verify_data.c); CONV: the databases' encodings differ (text-like
 * values hashed as their UTF8 bytes). Pure string building, no server.
 * Malloc'd. */
char *verify_row_hash_expr(const verify_table *t, bool conv) __attribute__((warn_unused_result));
bool verify_load_tables(verify_ctx *ctx, verify_result *r) __attribute__((warn_unused_result));
bool verify_data(verify_ctx *ctx, verify_result *r) __attribute__((warn_unused_result));
bool verify_samples(verify_ctx *ctx, verify_result *r) __attribute__((warn_unused_result));
bool verify_sequences(verify_ctx *ctx, verify_result *r) __attribute__((warn_unused_result));

/* verify_crud.c: the CRUD smoke test on the target, on its own connection
 * (not in the snapshot), every table's work rolled back. */
bool verify_crud(db_conn *target, verify_result *r) __attribute__((warn_unused_result));

/* verify_crud.c: the backup check. pg_dump (of the target's major version
 * or later) of the whole target database but pgbaton's own schema, custom
 * format to /dev/null, connecting with CI (the password in its
 * environment only); TARGET says the server's version and the role. The
 * outcome, its time and its reason go to *B; a stop signal terminates
 * pg_dump (then "failed"). */
void verify_backup_check(db_conn *target, const conninfo *ci, verify_backup *b);

/* B as a JSON object (status, role, tool, seconds, reason): a new
 * reference (verify --json, report --format json). */
json_t *verify_backup_json(const verify_backup *b);

void verify_result_free(verify_result *r);

/* Append a printf-formatted string to L (a strlist of cli.h). */

/* Note a difference on table T (thread-safe): status becomes DIFFERENT. */
void verify_table_note(verify_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
