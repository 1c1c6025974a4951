/*
 * src/triggers.c — user triggers and rules switched off on the target while
 * pgbaton writes, and put back (see include/triggers.h for the story).
 */
#include "triggers.h"

#include "log.h"
#include "sql_embed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Count the records of migration NAME: *TRIGGERS, *RULES. */
static bool count_records(db_conn *tgt, const char *name, int *triggers, int *rules)
{
    const char *params[1] = {name};
    db_res *r = db_exec(tgt, DB_LOG, sql_triggers_count, 1, params);
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

/* Run SQL (one of the DO blocks) with pgbaton.migration = NAME for the
 * transaction; in a transaction of its own when TXN says so. */
static bool run_for_migration(db_conn *tgt, const char *name, triggers_txn txn, const char *sql)
{
    const char *params[1] = {name};
    if (txn == TRIGGERS_OWN_TXN && !db_command(tgt, "BEGIN"))
        return false;
    bool ok = db_commandp(tgt, sql_triggers_set_migration, 1, params) && db_command(tgt, sql);
    if (txn == TRIGGERS_OWN_TXN) {
        if (ok)
            ok = db_command(tgt, "COMMIT");
        else if (!db_command(tgt, "ROLLBACK"))
            log_debug("target: rollback after a failed trigger change failed too");
    }
    return ok;
}

bool triggers_pause(db_conn *tgt, const char *name, triggers_txn txn)
{
    if (!run_for_migration(tgt, name, txn, sql_triggers_pause)) {
        log_error("target: could not switch off the user triggers and rules of migration %s "
                  "(see above); nothing was changed. pgbaton must own the target's tables: "
                  "fix the cause and run pgbaton start again",
                  name);
        return false;
    }
    int triggers = 0, rules = 0;
    if (!count_records(tgt, name, &triggers, &rules))
        return false;
    if (triggers + rules > 0)
        log_info("%d user trigger%s and %d rule%s switched off on the target while pgbaton writes "
                 "(what they do on the source is already in the stream); their modes are kept "
                 "in pgbaton.paused_trigger and restored at the cutover, by abort and by clean",
                 triggers, triggers == 1 ? "" : "s", rules, rules == 1 ? "" : "s");
    return true;
}

bool triggers_state_exists(db_conn *tgt, bool *exists)
{
    bool isnull = false;
    char *v = db_scalar(tgt, sql_triggers_state_exists, 0, NULL, &isnull);
    if (!v && !isnull)
        return false;
    free(v);
    *exists = !isnull;
    return true;
}

/* Like triggers_recorded, split into *TRIGGERS and *RULES. */
static bool recorded(db_conn *tgt, const char *name, int *triggers, int *rules)
{
    *triggers = *rules = 0;
    bool exists = false;
    if (!triggers_state_exists(tgt, &exists))
        return false;
    /* no table: no state, or a state from before it: nothing switched off */
    return !exists || count_records(tgt, name, triggers, rules);
}

int triggers_recorded(db_conn *tgt, const char *name)
{
    int triggers = 0, rules = 0;
    return recorded(tgt, name, &triggers, &rules) ? triggers + rules : -1;
}

bool triggers_restore(db_conn *tgt, const char *name, triggers_txn txn, int *restored)
{
    if (restored)
        *restored = 0;
    int triggers = 0, rules = 0;
    if (!recorded(tgt, name, &triggers, &rules))
        return false;
    if (triggers + rules == 0)
        return true;
    if (!run_for_migration(tgt, name, txn, sql_triggers_restore)) {
        log_error("target: could not put back the modes of the %d user trigger%s and %d rule%s "
                  "that pgbaton switched off (see above); they stay switched off and recorded "
                  "in pgbaton.paused_trigger: fix the cause and run the command again",
                  triggers, triggers == 1 ? "" : "s", rules, rules == 1 ? "" : "s");
        return false;
    }
    if (restored)
        *restored = triggers + rules;
    return true;
}
