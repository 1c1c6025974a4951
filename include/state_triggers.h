/*
 * include/state_triggers.h — the state's record of the user triggers and
 * rules switched off on the target, pgbaton.paused_trigger
 * (src/state_triggers.c). Why they are switched off, and when they are put
 * back, is told in include/triggers.h, whose functions are the callers'.
 *
 * Every function takes the target connection to use (the caller owns it)
 * and logs its own errors.
 */
#ifndef PGBATON_STATE_TRIGGERS_H
#define PGBATON_STATE_TRIGGERS_H

#include "db.h"

#include <stdbool.h>

/* Does the target have pgbaton.paused_trigger (*EXISTS)? A state from
 * before it has none: nothing was switched off then. */
bool state_triggers_exists(db_conn *tgt, bool *exists) __attribute__((warn_unused_result));

/* How many triggers (*TRIGGERS) and rules (*RULES) migration NAME has
 * switched off and recorded. The table must exist. */
bool state_triggers_count(db_conn *tgt, const char *name, int *triggers, int *rules)
    __attribute__((warn_unused_result));

/* In the caller's open transaction: record the mode of every user trigger
 * and rule of migration NAME's tables not recorded yet, and switch off
 * each one that is on. */
bool state_triggers_pause(db_conn *tgt, const char *name) __attribute__((warn_unused_result));

/* In the caller's open transaction: put back every recorded mode of
 * migration NAME and delete the records. */
bool state_triggers_restore(db_conn *tgt, const char *name) __attribute__((warn_unused_result));

/* For a query on TGT that must see the recorded modes in place of the
 * switched-off ones (verify's schema description, sql/verify_schema.sql):
 * *SQL, a SELECT of (kind, schema_name, table_name, object_name, mode) of
 * every migration's records (static text), or NULL when TGT has no record
 * table. */
bool state_triggers_paused_sql(db_conn *tgt, const char **sql) __attribute__((warn_unused_result));

#endif
