/*
 * include/change.h — one decoded change, the same for every decoder
 * (wal2json.c, pgoutput.c): nothing after the decoder knows the plugin.
 *
 * Values are the column's text form as the target's input function reads
 * it (bytea as "\\x..."), or NULL for SQL NULL. An UPDATE's columns leave
 * out unchanged TOASTed values; its identity is the old key (or the whole
 * old row with REPLICA IDENTITY FULL).
 */
#ifndef PGBATON_CHANGE_H
#define PGBATON_CHANGE_H

#include "lsn.h"
#include "strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum change_kind {
    CHG_NONE = 0, /* the message carries no change (pgoutput Relation, Type, Origin) */
    CHG_BEGIN = 'B',
    CHG_COMMIT = 'C',
    CHG_INSERT = 'I',
    CHG_UPDATE = 'U',
    CHG_DELETE = 'D',
    CHG_TRUNCATE = 'T',
    CHG_MESSAGE = 'M',
} change_kind;

typedef struct pgb_column {
    const char *name;  /* borrowed from the change */
    const char *type;  /* type name as the source prints it, or NULL */
    uint32_t typeoid;  /* source type OID, 0 when not sent */
    const char *value; /* text form, NULL for SQL NULL; borrowed */
} pgb_column;

/* One decoded message. Every pointer is borrowed from the change and valid
 * until the next decode into it or change_free(). */
typedef struct pgb_change {
    change_kind kind;
    const char *schema; /* I/U/D/T */
    const char *table;
    pgb_column *columns; /* I/U: new values (absent unchanged TOAST) */
    int ncolumns;
    pgb_column *identity; /* U/D: old key (or old row with REPLICA IDENTITY FULL) */
    int nidentity;
    lsn_t lsn;             /* B/C: start of the commit record; M: end of the message */
    lsn_t nextlsn;         /* B/C: end of the commit record (the resume point) */
    const char *xid;       /* decimal text or NULL */
    const char *timestamp; /* commit time text (UTC) or NULL */
    bool transactional;    /* M */
    const char *prefix;    /* M */
    const char *content;   /* M */

    /* private */
    strbuf text;      /* every kept value of the message, NUL-terminated; owned */
    int capcolumns;   /* allocated size of columns */
    int capidentity;  /* allocated size of identity */
    char errbuf[128]; /* description of the last syntax error */
} pgb_change;

/* A new zeroed column at the end of *COLS (N used, CAP allocated). */
pgb_column *change_column_add(pgb_column **cols, int *n, int *cap);

/* Release what C owns (the struct itself is the caller's). */
void change_free(pgb_change *c);

#endif
