/*
 * src/state_triggers.c — pgbaton.paused_trigger: the modes of the user
 * triggers and rules that pgbaton switched off on the target, and the DO
 * blocks that switch them off and put them back (sql/state_triggers_*.sql).
 * The story is in include/triggers.h; src/triggers.c decides when, and
 * says what was done.
 */
#include "state_triggers.h"

#include "sql_embed.h"

#include <stdlib.h>

bool state_triggers_exists(db_conn *tgt, bool *exists)
{
    bool isnull = false;
    char *v = db_scalar(tgt, sql_state_triggers_exists, 0, NULL, &isnull);
    if (!v && !isnull)
        return false;
    free(v);
    *exists = !isnull;
    return true;
}

bool state_triggers_count(db_conn *tgt, const char *name, int *triggers, int *rules)
{
    const char *params[1] = {name};
    db_res *r = db_exec(tgt, DB_LOG, sql_state_triggers_count, 1, params);
    if (!r)
        return false;
    bool ok = db_check_shape(tgt, r, 2, 1, "paused trigger count");
    if (ok) {
        *triggers = atoi(db_val(r, 0, 0));
        *rules = atoi(db_val(r, 0, 1));
    }
    db_res_free(r);
    return ok;
}

/* Run DO_BLOCK with pgbaton.migration = NAME: the DO blocks take no
 * parameter, so the name goes through a setting local to the transaction. */
static bool run_for_migration(db_conn *tgt, const char *name, const char *do_block)
{
    const char *params[1] = {name};
    return db_commandp(tgt, sql_state_triggers_set_migration, 1, params) &&
           db_command(tgt, do_block);
}

bool state_triggers_pause(db_conn *tgt, const char *name)
{
    return run_for_migration(tgt, name, sql_state_triggers_pause);
}

bool state_triggers_restore(db_conn *tgt, const char *name)
{
    return run_for_migration(tgt, name, sql_state_triggers_restore);
}

bool state_triggers_paused_sql(db_conn *tgt, const char **sql)
{
    bool exists = false;
    *sql = NULL;
    if (!state_triggers_exists(tgt, &exists))
        return false;
    if (exists)
        *sql = sql_state_triggers_paused;
    return true;
}
