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

#include "change.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decode MSG (LEN bytes, not NUL-terminated) into C, reusing its buffers.
 * Returns false and sets ERR (a static or C-owned description, valid until
 * the next call on C) on malformed input. */
bool w2j_decode(pgb_change *c, const char *msg, size_t len, const char **err)
    __attribute__((warn_unused_result));

#endif
