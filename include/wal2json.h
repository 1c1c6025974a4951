/*
 * include/wal2json.h — decode one wal2json (format version 2) message into
 * one change.
 *
 * wal2json 2.5 sends numbers (int, float, numeric) as bare JSON numbers;
 * the decoder keeps them as the exact characters sent, so no value ever
 * passes through a C double or int64. Decoded values are the column's text
 * form (bytea gets its "\x" back), or NULL for SQL NULL. Decoding allocates
 * nothing per message once the change's buffers have grown (src/wal2json.c).
 */
#ifndef PGBATON_WAL2JSON_H
#define PGBATON_WAL2JSON_H

#include "lsn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum w2j_kind {
    W2J_BEGIN = 'B',
    W2J_COMMIT = 'C',
    W2J_INSERT = 'I',
    W2J_UPDATE = 'U',
    W2J_DELETE = 'D',
    W2J_TRUNCATE = 'T',
    W2J_MESSAGE = 'M',
} w2j_kind;

typedef struct w2j_column {
    const char *name;  /* borrowed from the change */
    const char *type;  /* type name as the source prints it, or NULL */
    uint32_t typeoid;  /* source type OID, 0 when not sent */
    const char *value; /* text form, NULL for SQL NULL; borrowed */
} w2j_column;

/* A growable byte buffer (reused across messages). */
typedef struct w2j_buf {
    char *data; /* owned */
    size_t len;
    size_t cap;
} w2j_buf;

/* One decoded message. Every pointer is borrowed from the change and valid
 * until the next w2j_decode() on it or w2j_change_free(). */
typedef struct w2j_change {
    w2j_kind kind;
    const char *schema; /* I/U/D/T */
    const char *table;
    w2j_column *columns; /* I/U: new values (absent unchanged TOAST) */
    int ncolumns;
    w2j_column *identity; /* U/D: old key (or old row with REPLICA IDENTITY FULL) */
    int nidentity;
    lsn_t lsn;             /* B/C: start of the commit record; M: end of the message */
    lsn_t nextlsn;         /* B/C: end of the commit record (the resume point) */
    const char *xid;       /* decimal text or NULL */
    const char *timestamp; /* commit time text (UTC) or NULL */
    bool transactional;    /* M */
    const char *prefix;    /* M */
    const char *content;   /* M */

    /* private */
    w2j_buf text;     /* every kept value of the message, NUL-terminated; owned */
    int capcolumns;   /* allocated size of columns */
    int capidentity;  /* allocated size of identity */
    char errbuf[128]; /* description of the last syntax error */
} w2j_change;

/* Decode MSG (LEN bytes, not NUL-terminated) into C, reusing its buffers.
 * Returns false and sets ERR (a static or C-owned description, valid until
 * the next call on C) on malformed input. */
bool w2j_decode(w2j_change *c, const char *msg, size_t len, const char **err)
    __attribute__((warn_unused_result));

/* Release what C owns (the struct itself is the caller's). */
void w2j_change_free(w2j_change *c);

void w2j_buf_free(w2j_buf *b);

#endif
