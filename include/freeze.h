/*
 * include/freeze.h — make the source database read-only for every role, and
 * undo it.
 *
 * Freeze: ALTER DATABASE db SET default_transaction_read_only = on (every new
 * session of every role starts read-only), then end every other client
 * session of that database that started before that setting was committed,
 * repeating until none is left, so that no session keeps a writable
 * transaction. Replication sessions (walsenders) are not client backends and
 * are kept. Unfreeze restores the database-level setting that was there
 * before (RESET when there was none); sessions started afterwards can write.
 *
 * The caller records the previous setting in the state BEFORE freezing
 * (freeze_read_prev), so that a killed cutover can always be undone.
 */
#ifndef PGBATON_FREEZE_H
#define PGBATON_FREEZE_H

#include "db.h"

#include <stdbool.h>

/* Every function below that can fail returns false after the wrapper (or
 * the function itself) has logged the details, and, when WHY is not NULL,
 * sets *WHY to a malloc'd one-line reason that names the problem and the
 * fix, for the caller's summary (NULL on success; the caller frees it). */

/* Make SRC's own session able to write whatever the database default is
 * (SET default_transaction_read_only = off). */
bool freeze_session_writable(db_conn *src, char **why) __attribute__((warn_unused_result));

/* The source's database name and its database-level default_transaction_read_only
 * (*PREV NULL when none). Both malloc'd; both NULL on failure. */
bool freeze_read_prev(db_conn *src, char **database, char **prev, char **why)
    __attribute__((warn_unused_result));

/* Freeze DATABASE (SRC must be connected to it) and end the other client
 * sessions (*ENDED, may be NULL: how many); gives up after TIMEOUT seconds. */
bool freeze_apply(db_conn *src, const char *database, double timeout, long *ended, char **why)
    __attribute__((warn_unused_result));

/* Is DATABASE read-only for the sessions that start now (its database-level
 * default_transaction_read_only on)? *ON; false when that cannot be read
 * (logged). A recorded freeze may not be applied yet (a cutover killed in
 * between): this is what the source says. */
bool freeze_in_effect(db_conn *src, const char *database, bool *on)
    __attribute__((warn_unused_result));

/* Restore PREV (NULL: RESET) as DATABASE's default_transaction_read_only. */
bool freeze_undo(db_conn *src, const char *database, const char *prev, char **why)
    __attribute__((warn_unused_result));

/* The SQL a person would run to undo the freeze by hand; malloc'd. */
char *freeze_undo_sql(const char *database, const char *prev);

#endif
