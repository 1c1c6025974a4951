/*
 * include/triggers.h — no user trigger or rule fires on the target while
 * pgbaton writes there (design invariant 7).
 *
 * session_replication_role = replica (the applier's session) skips only
 * ordinary triggers and rules: those set ENABLE REPLICA or ENABLE ALWAYS
 * still fire, and would do a second time what the source's copies already
 * did (their effects are in the change stream). So before the stream is
 * applied, every user trigger and rule on the tables of the migration is
 * switched off (ALTER TABLE ... DISABLE), its source mode recorded in
 * pgbaton.paused_trigger in the same target transaction; the modes are put
 * back, and the records deleted, in one transaction too: by the cutover (in
 * the transaction that marks the migration done), by abort and by clean.
 * A crash at any moment therefore leaves each object either switched off
 * and recorded, or in its source mode; never switched off and forgotten.
 * verify reads the recorded mode in place of the target's while a record
 * exists. The record and its statements belong to the state module
 * (include/state_triggers.h).
 *
 * The triggers and rules are created by the post-data restore, after each
 * table's data is copied, so the copy itself never fires them.
 */
#ifndef PGBATON_TRIGGERS_H
#define PGBATON_TRIGGERS_H

#include "db.h"

#include <stdbool.h>

/* Whether the function opens and commits its own transaction, or runs in
 * one the caller has open (and commits). */
typedef enum triggers_txn {
    TRIGGERS_OWN_TXN,
    TRIGGERS_CALLER_TXN,
} triggers_txn;

/* Record and switch off every user trigger and rule of migration NAME's
 * tables on the target (idempotent: a resumed start records only what is
 * not recorded yet). Logs what it did; false on error (logged). */
bool triggers_pause(db_conn *tgt, const char *name, triggers_txn txn)
    __attribute__((warn_unused_result));

/* How many triggers and rules migration NAME has switched off and recorded
 * (0 when there is no state schema); -1 on error (logged). */
int triggers_recorded(db_conn *tgt, const char *name);

/* Put back every recorded mode of migration NAME and delete the records.
 * *RESTORED (may be NULL) gets the number of records restored. When the
 * state schema does not exist, there is nothing to do (true). */
bool triggers_restore(db_conn *tgt, const char *name, triggers_txn txn, int *restored)
    __attribute__((warn_unused_result));

#endif
