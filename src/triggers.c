/*
 * src/triggers.c — user triggers and rules switched off on the target while
 * pgbaton writes, and put back (see include/triggers.h for the story). The
 * record of their modes and the statements are the state module's
 * (src/state_triggers.c); here: the transaction, and what the user is told.
 */
#include "triggers.h"

#include "log.h"
#include "state_triggers.h"

/* Run OP (switch off or put back) for migration NAME; in a transaction of
 * its own when TXN says so. */
static bool in_txn(db_conn *tgt, const char *name, triggers_txn txn,
                   bool (*op)(db_conn *, const char *))
{
    if (txn == TRIGGERS_OWN_TXN && !db_command(tgt, "BEGIN"))
        return false;
    bool ok = op(tgt, name);
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
    if (!in_txn(tgt, name, txn, state_triggers_pause)) {
        log_error("target: could not switch off the user triggers and rules of migration %s "
                  "(see above); nothing was changed. pgbaton must own the target's tables: "
                  "fix the cause and run pgbaton start again",
                  name);
        return false;
    }
    int triggers = 0, rules = 0;
    if (!state_triggers_count(tgt, name, &triggers, &rules))
        return false;
    if (triggers + rules > 0)
        log_info("%d user trigger%s and %d rule%s switched off on the target while pgbaton writes "
                 "(what they do on the source is already in the stream); their modes are kept "
                 "in pgbaton.paused_trigger and restored at the cutover, by abort and by clean",
                 triggers, triggers == 1 ? "" : "s", rules, rules == 1 ? "" : "s");
    return true;
}

/* Like triggers_recorded, split into *TRIGGERS and *RULES. */
static bool recorded(db_conn *tgt, const char *name, int *triggers, int *rules)
{
    *triggers = *rules = 0;
    bool exists = false;
    if (!state_triggers_exists(tgt, &exists))
        return false;
    /* no table: no state, or a state from before it: nothing switched off */
    return !exists || state_triggers_count(tgt, name, triggers, rules);
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
    if (!in_txn(tgt, name, txn, state_triggers_restore)) {
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
