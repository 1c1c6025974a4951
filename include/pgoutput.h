/*
 * include/pgoutput.h — decode pgoutput (logical replication protocol
 * version 1, text values) messages into changes (include/change.h).
 *
 * pgoutput names a relation once per session, in a Relation message
 * before its first change and again after its definition changes; the
 * decoder keeps those by relation OID and gives every change its schema,
 * table and column names and type OIDs, as wal2json does. Values arrive as
 * the type's output text in the walsender's session (the same pinned
 * settings as with wal2json), so they are passed on as they are: NaN,
 * Infinity, numerics of any size, bytea's "\x..." are exact.
 *
 * Mapping to changes:
 *   'B' begin  -> CHG_BEGIN: lsn = the commit record's start (final LSN),
 *                 nextlsn = LSN_INVALID (pgoutput sends the end only in
 *                 'C'), xid, timestamp (commit time as UTC text)
 *   'C' commit -> CHG_COMMIT: lsn = commit LSN, nextlsn = end LSN, timestamp
 *   'I' insert -> CHG_INSERT: columns = the new row
 *   'U' update -> CHG_UPDATE: columns = the new row without unchanged
 *                 TOASTed values ('u': absent); identity = the old key
 *                 ('K': only the key columns of the Relation message), the
 *                 old row ('O', REPLICA IDENTITY FULL: every column), or,
 *                 without either (the key did not change), the key
 *                 columns of the new row
 *   'D' delete -> CHG_DELETE: identity as for an update ('K' or 'O')
 *   'T' truncate -> one CHG_TRUNCATE per relation, all with lsn = the
 *                 message's WAL position: the first from pgo_decode, the
 *                 others from pgo_next
 *   'M' message -> CHG_MESSAGE (transactional, prefix, content; lsn)
 *   'R' relation, 'Y' type, 'O' origin -> CHG_NONE (kept or skipped)
 * A change of a relation no Relation message named, a truncated or
 * malformed message, a binary value ('b') or an unknown message type is an
 * error.
 */
#ifndef PGBATON_PGOUTPUT_H
#define PGBATON_PGOUTPUT_H

#include "change.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pgo_decoder pgo_decoder;

pgo_decoder *pgo_new(void);
void pgo_free(pgo_decoder *d);

/* Forget every relation (a new replication session). */
void pgo_reset(pgo_decoder *d);

/* Decode MSG (LEN bytes: the payload of one XLogData message, whose WAL
 * start is WAL_START) into C, reusing C's buffers. False with ERR (static
 * or owned by D, valid until the next call) on malformed input. */
bool pgo_decode(pgo_decoder *d, pgb_change *c, const char *msg, size_t len, lsn_t wal_start,
                const char **err) __attribute__((warn_unused_result));

/* After a 'T' message: the next truncated relation into C; false when the
 * message has no more. */
bool pgo_next(pgo_decoder *d, pgb_change *c);

#endif
