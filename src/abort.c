/*
 * src/abort.c — `pgbaton abort` and `pgbaton clean`: take a migration down.
 *
 * abort: unfreeze the source if pgbaton froze it (and the migration is not
 * done: after a completed cutover the target is authoritative and the source
 * stays read-only), set the phase to 'stopped' so that a running `start`
 * stops (the applier exits when the phase is no longer streaming/cutover),
 * end the walsender holding the slot and drop the slot; once start has
 * exited, put back the source's modes of the user triggers and rules that
 * start switched off on the target (src/triggers.c). Target data stays;
 * what it lacks of what a cutover finishes (step 5: the sequences' values,
 * the materialized views' contents) is found by comparing the two sides
 * (before the source is unfrozen: a frozen source's values are final) and
 * printed with the statements that finish it.
 * clean: the same, plus pgbaton's leftover slots of this migration on the
 * source, and the migration's state on the target (the whole pgbaton schema
 * once no other migration is recorded there).
 * Both are idempotent and print one line per thing they removed, or that
 * there was nothing to do.
 */
#include "cli.h"
#include "failpoint.h"
#include "freeze.h"
#include "log.h"
#include "slot.h"
#include "sql_embed.h"
#include "mono.h"
#include "sqlstate.h"
#include "state_audit.h"
#include "status.h"
#include "strbuf.h"
#include "triggers.h"
#include "xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum teardown_kind {
    TEARDOWN_ABORT,
    TEARDOWN_CLEAN,
} teardown_kind;

/* What the target lacks of what a cutover finishes (its step 5): found by
 * comparing the two sides, because a cutover stopped half-way, or never
 * run, leaves no record of it. */
typedef struct target_gaps {
    bool known;    /* compared (the copy was done, both sides answered) */
    int sequences; /* at another value than the source's */
    int matviews;  /* populated on the source, not on the target */
    strbuf todo;   /* the statements that finish it, one a line */
} target_gaps;

typedef struct teardown {
    const pgb_options *o;
    teardown_kind kind;
    db_conn *src, *tgt; /* owned */
    status_snapshot st; /* the state as found (st.found false when none) */
    target_gaps gaps;   /* read before the source is unfrozen */
    int actions;        /* things done, for "nothing to do" */
    bool unrecorded;    /* the state is gone (clean): actions are not recorded */
} teardown;

/* Say what was done (FMT with A and B) and record it in the audit trail as
 * ACTION on SERVER, on OBJECT (may be NULL). */
static void did(teardown *t, db_side server, const char *action, const char *object,
                const char *fmt, const char *a, const char *b)
{
    char line[1024];
    snprintf(line, sizeof line, fmt, a, b);
    printf("%s\n", line);
    t->actions++;
    if (t->st.found && !t->unrecorded)
        (void)state_auditf(t->tgt, t->o->name, server, action, object, true, NAN, "%s", line);
}

/* Unfreeze if pgbaton froze the source and the migration is not done. */
static bool unfreeze(teardown *t)
{
    if (!t->st.found || !t->st.frozen)
        return true;
    const char *db = t->st.freeze_database ? t->st.freeze_database : t->st.source_database;
    if (t->st.stored_ephase == PHASE_DONE) {
        char *undo = freeze_undo_sql(db, t->st.freeze_prev_readonly);
        printf("source database %s stays read-only (the cutover completed; the target is "
               "authoritative); to make it writable: %s\n",
               db, undo);
        free(undo);
        return true;
    }
    char *why = NULL;
    if (!freeze_undo(t->src, db, t->st.freeze_prev_readonly, &why)) {
        log_error("%s", why);
        free(why);
        return false;
    }
    did(t, DB_SOURCE, "source unfrozen", db,
        "unfroze source database %s: sessions can write again%s", db, "");
    if (state_clear_frozen(t->tgt, t->o->name))
        return true;
    log_error("target: cannot record that the source is no longer frozen (the source is writable "
              "all the same)");
    return false;
}

/* End the walsender holding SLOT (pid ACTIVE_PID, may be empty) and drop it. */
static bool drop_slot(teardown *t, const char *slot, const char *active_pid)
{
    const char *params[1] = {slot};
    if (active_pid && *active_pid) {
        const char *p[1] = {active_pid};
        if (!db_commandp(t->src, "SELECT pg_terminate_backend($1::int)", 1, p)) {
            log_error("source: cannot end the session (pid %s) using replication slot %s; the "
                      "role pgbaton connects as needs pg_signal_backend, or stop that `pgbaton "
                      "start` yourself",
                      active_pid, slot);
            return false;
        }
        /* the slot is released when that process has exited */
        bool isnull = false, active = true;
        for (int i = 0; active && i < 100; i++) {
            char *v = db_scalar(
                t->src, "SELECT active::text FROM pg_replication_slots WHERE slot_name = $1", 1,
                params, &isnull);
            if (!v && !isnull) {
                log_error("source: cannot tell whether replication slot %s is still in use", slot);
                return false;
            }
            active = v && strcmp(v, "true") == 0;
            free(v);
            if (active) {
                struct timespec ts = {.tv_nsec = 100 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
        }
        if (active) {
            log_error("source: the session (pid %s) using replication slot %s did not end within "
                      "10 s of pg_terminate_backend: stop it, then run this command again",
                      active_pid, slot);
            return false;
        }
    }
    db_res *r = db_exec(t->src, DB_QUIET, "SELECT pg_drop_replication_slot($1)", 1, params);
    /* undefined_object: the slot went meanwhile */
    if (!r && !db_sqlstate_is(t->src, SQLSTATE_UNDEFINED_OBJECT)) {
        log_error("source: cannot drop replication slot %s: %s", slot, t->src->err.text);
        return false;
    }
    db_res_free(r);
    did(t, DB_SOURCE, "slot dropped", slot, "dropped replication slot %s on the source%s", slot,
        active_pid && *active_pid ? " (ended the session that was using it)" : "");
    return true;
}

static bool drop_slots(teardown *t)
{
    const char *params[3] = {t->st.found ? t->st.slot_name : NULL, t->o->name,
                             t->kind == TEARDOWN_CLEAN ? "true" : "false"};
    db_res *r = db_exec(t->src, DB_LOG, sql_abort_slots, 3, params);
    if (!r || !db_check_shape(t->src, r, 2, 0, "slot list")) {
        db_res_free(r);
        return false;
    }
    bool ok = true;
    for (int i = 0; ok && i < db_nrows(r); i++)
        ok = drop_slot(t, db_val(r, i, 0), db_val(r, i, 1));
    db_res_free(r);
    return ok;
}

/* pgoutput's publication of this migration (start made it). */
static bool drop_publication(teardown *t)
{
    bool dropped = false;
    if (!slot_publication_drop_if_exists(t->src, t->o->name, &dropped))
        return false;
    if (dropped)
        did(t, DB_SOURCE, "publication dropped", t->o->name,
            "dropped publication %s on the source%s", t->o->name, "");
    return true;
}

/* SQL on DB with, when NAMES is given, its first two columns (schema,
 * name) as two text[] parameters; the result (NCOLS columns), or NULL with
 * the error in *WHY (owned). */
static db_res *run_named(db_conn *db, const char *sql, const db_res *names, int ncols, char **why)
{
    int n = names ? db_nrows(names) : 0;
    const char **cells = xcalloc((size_t)n + 1, sizeof *cells);
    char *arrays[2] = {NULL, NULL};
    for (int k = 0; names && k < 2; k++) {
        for (int i = 0; i < n; i++)
            cells[i] = db_val(names, i, k);
        arrays[k] = db_text_array(cells, n);
    }
    const char *params[2] = {arrays[0], arrays[1]};
    db_res *r = db_exec(db, DB_QUIET, sql, names ? 2 : 0, names ? params : NULL);
    if (!r || db_ncols(r) != ncols) {
        *why = xstrdup(db_errtext(db, "unexpected result shape"));
        db_res_free(r);
        r = NULL;
    }
    free(arrays[0]);
    free(arrays[1]);
    free(cells);
    return r;
}

/* The sequences whose value on the target (TGT, a subset of SRC in the
 * same order: sql_abort_sequence_values on both sides) is not the
 * source's, as statements that set it. */
static void sequence_gaps(target_gaps *g, const db_res *src, const db_res *tgt)
{
    for (int i = 0, j = 0; i < db_nrows(src) && j < db_nrows(tgt); i++) {
        if (strcmp(db_val(src, i, 0), db_val(tgt, j, 0)) != 0 ||
            strcmp(db_val(src, i, 1), db_val(tgt, j, 1)) != 0)
            continue; /* not on the target: nothing to set */
        const char *value = db_val(src, i, 2), *on_target = db_val(tgt, j++, 2);
        if (strcmp(value, on_target) == 0)
            continue;
        char *qual = db_quote_qualified(db_val(src, i, 0), db_val(src, i, 1));
        if (*value) {
            char *lit = db_quote_literal(qual);
            strbuf_printf(&g->todo, "  SELECT pg_catalog.setval(%s, %s);\n", lit, value);
            free(lit);
        } else {
            strbuf_printf(&g->todo, "  ALTER SEQUENCE %s RESTART;\n", qual);
        }
        free(qual);
        g->sequences++;
    }
}

/* The target's gaps, when the copy was done and the migration is about to
 * be stopped (a done one has none; a stopped one was told at its abort):
 * the source's sequences as the cutover lists them, their values on both
 * sides; the materialized views the source has populated, those the
 * target has not. A failure to compare is only a warning: abort goes on. */
static void find_gaps(teardown *t)
{
    target_gaps *g = &t->gaps;
    state_phase p = t->st.stored_ephase;
    if (!t->st.found || !t->st.copy_done || p == PHASE_DONE || p == PHASE_STOPPED)
        return;
    char *why = NULL;
    db_res *seqs = run_named(t->src, sql_cutover_sequences, NULL, 2, &why);
    db_res *sv = seqs ? run_named(t->src, sql_abort_sequence_values, seqs, 3, &why) : NULL;
    db_res *tv = sv ? run_named(t->tgt, sql_abort_sequence_values, seqs, 3, &why) : NULL;
    db_res *mvs = tv ? run_named(t->src, sql_cutover_matviews, NULL, 2, &why) : NULL;
    db_res *mv = mvs ? run_named(t->tgt, sql_abort_matviews_unpopulated, mvs, 2, &why) : NULL;
    if (mv) {
        g->known = true;
        sequence_gaps(g, sv, tv);
        g->matviews = db_nrows(mv);
        for (int i = 0; i < g->matviews; i++) {
            char *qual = db_quote_qualified(db_val(mv, i, 0), db_val(mv, i, 1));
            strbuf_printf(&g->todo, "  REFRESH MATERIALIZED VIEW %s;\n", qual);
            free(qual);
        }
    } else {
        log_warn("could not compare the target's sequences and materialized views with the "
                 "source's: %s",
                 why);
    }
    free(why);
    db_res_free(seqs);
    db_res_free(sv);
    db_res_free(tv);
    db_res_free(mvs);
    db_res_free(mv);
}

/* After "target data kept": what the target lacks, and how to finish it. */
static void print_gaps(const teardown *t)
{
    const target_gaps *g = &t->gaps;
    if (!g->known)
        return;
    if (g->sequences == 0 && g->matviews == 0) {
        printf("the target's sequences and materialized views are as on the source\n");
        return;
    }
    printf("the target lacks what the cutover finishes (its step 5): %d sequence(s) not at the "
           "source's value and %d materialized view(s) not populated; the migration is stopped, "
           "so a cutover will not do it: to use the target as it is, run on the target:\n%s",
           g->sequences, g->matviews, g->todo.data);
    if (g->sequences > 0)
        printf("%s\n", t->st.frozen ? "(sequence values read from the source while it was still "
                                      "frozen: read them again if it was written since)"
                                    : "(sequence values read from the source just now, while it is "
                                      "writable: read them again once nothing writes there)");
}

static bool mark_stopped(teardown *t)
{
    if (!t->st.found || t->st.stored_ephase == PHASE_STOPPED || t->st.stored_ephase == PHASE_DONE)
        return true;
    bool stopped = false;
    if (!state_abort_stop(t->tgt, t->o->name, &stopped))
        return false;
    if (stopped && !state_notify(t->tgt, t->o->name))
        log_debug("target: could not notify start that the migration is stopped");
    if (!stopped) {
        log_error("internal error: the phase of migration %s cannot go from %s to stopped, or "
                  "changed meanwhile: see `pgbaton status`",
                  t->o->name, t->st.stored_phase);
        return false;
    }
    did(t, DB_TARGET, "migration stopped", t->o->name,
        "migration %s stopped (was %s); target data kept", t->o->name, t->st.stored_phase);
    print_gaps(t);
    return true;
}

/* How long abort and clean wait for a running `start` to exit (it stops when
 * it sees the phase 'stopped' or loses its slot) before they put back the
 * target's trigger and rule modes. */
#define START_EXIT_WAIT 30.0

/* Put back the source's modes of the user triggers and rules that start
 * switched off on the target (src/triggers.c). Only once start has exited:
 * its applier must never write with them enabled. start holds its advisory
 * lock for as long as it runs; taking it here proves it is gone, and keeps
 * a new start out until the modes are back. */
static bool restore_triggers(teardown *t)
{
    int n = triggers_recorded(t->tgt, t->o->name);
    if (n <= 0)
        return n == 0;
    const char *params[1] = {t->o->name};
    const char *lock = "SELECT pg_try_advisory_lock(hashtext('pgbaton start ' || $1))::text";
    double until = mono_now() + START_EXIT_WAIT;
    bool locked = false;
    for (;;) {
        char *got = db_scalar(t->tgt, lock, 1, params, NULL);
        if (!got)
            return false;
        locked = strcmp(got, "true") == 0;
        free(got);
        if (locked || mono_now() > until)
            break;
        struct timespec ts = {.tv_nsec = 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (!locked) {
        log_error("pgbaton start of migration %s is still running after %.0f s: stop it, then "
                  "run this command again; until then %d user trigger(s) and rule(s) stay "
                  "switched off on the target (their modes are kept in pgbaton.paused_trigger)",
                  t->o->name, START_EXIT_WAIT, n);
        return false;
    }
    int restored = 0;
    bool ok = triggers_restore(t->tgt, t->o->name, TRIGGERS_OWN_TXN, &restored);
    if (!db_commandp(t->tgt, "SELECT pg_advisory_unlock(hashtext('pgbaton start ' || $1))", 1,
                     params))
        ok = false;
    if (ok) {
        char count[32];
        snprintf(count, sizeof count, "%d", restored);
        did(t, DB_TARGET, "triggers and rules put back", NULL,
            "put back the source's modes of %s user trigger(s) and rule(s) on the target%s", count,
            "");
    }
    return ok;
}

/* clean: this migration's state, and the schema when no other is left. */
static bool drop_state(teardown *t)
{
    bool have = false;
    if (!state_schema_exists(t->tgt, DB_LOG, &have))
        return false;
    if (!have) {
        bool schema_null = false;
        const char *nsp[1] = {"pgbaton"};
        char *s = db_scalar(t->tgt, "SELECT nspname::text FROM pg_namespace WHERE nspname = $1", 1,
                            nsp, &schema_null);
        if (!s && !schema_null && t->tgt->err.text)
            return false;
        bool present = s != NULL;
        free(s);
        if (present) {
            if (!db_command(t->tgt, "DROP SCHEMA pgbaton CASCADE"))
                return false;
            t->unrecorded = true;
            did(t, DB_TARGET, "state dropped", "pgbaton",
                "dropped schema pgbaton on the target%s%s", "", "");
        }
        return true;
    }
    if (t->st.found) {
        if (!state_migration_delete(t->tgt, t->o->name) || !state_audit_forget(t->tgt, t->o->name))
            return false;
        t->unrecorded = true;
        did(t, DB_TARGET, "state removed", t->o->name,
            "removed the state of migration %s from the target%s", t->o->name, "");
    }
    long others = 0;
    if (!state_migration_count(t->tgt, &others))
        return false;
    bool alone = others == 0;
    if (!alone)
        printf("schema pgbaton kept on the target: it holds %ld other migration(s)\n", others);
    if (alone) {
        if (!db_command(t->tgt, "DROP SCHEMA pgbaton CASCADE"))
            return false;
        t->unrecorded = true;
        did(t, DB_TARGET, "state dropped", "pgbaton", "dropped schema pgbaton on the target%s%s",
            "", "");
    }
    return true;
}

static int teardown_run(teardown *t)
{
    conninfo *sci = cli_conninfo(t->o, DB_SOURCE);
    conninfo *tci = sci ? cli_conninfo(t->o, DB_TARGET) : NULL;
    if (!sci || !tci) {
        conninfo_free(sci);
        return EXIT_USAGE;
    }
    const char *app = t->kind == TEARDOWN_ABORT ? "pgbaton abort" : "pgbaton clean";
    db_connect_opts copts = {.application_name = app};
    int rc = EXIT_FAILURE_RUNTIME;
    t->tgt = db_connect(tci, DB_TARGET, &copts, NULL, NULL);
    t->src = t->tgt ? db_connect(sci, DB_SOURCE, &copts, NULL, NULL) : NULL;
    if (!t->src)
        goto out;
    char *why = NULL;
    if (!freeze_session_writable(t->src, &why)) {
        log_error("%s", why);
        free(why);
        goto out;
    }
    if (!status_read(t->src, t->tgt, t->o->name, NULL, &t->st))
        goto out;
    if (!t->st.found)
        printf("no state for migration %s on the target\n", t->o->name);
    find_gaps(t);
    if (!unfreeze(t) || !mark_stopped(t))
        goto out;
    if (t->kind == TEARDOWN_ABORT)
        failpoint("abort.middle");
    if (!drop_slots(t) || !drop_publication(t) || !restore_triggers(t))
        goto out;
    if (t->kind == TEARDOWN_CLEAN) {
        failpoint("clean.middle");
        if (!drop_state(t))
            goto out;
    }
    if (t->actions == 0)
        printf("nothing to %s: %s\n", t->kind == TEARDOWN_ABORT ? "abort" : "clean",
               t->kind == TEARDOWN_ABORT ? "not frozen by pgbaton, already stopped, no slot"
                                         : "no slot, no state left by pgbaton");
    rc = EXIT_OK;
out:
    if (rc != EXIT_OK)
        log_error("%s did not complete; it is safe to run it again", app);
    status_free(&t->st);
    strbuf_free(&t->gaps.todo);
    db_close(t->src);
    db_close(t->tgt);
    conninfo_free(sci);
    conninfo_free(tci);
    return rc;
}

int cmd_abort(const pgb_options *o)
{
    teardown t = {.o = o, .kind = TEARDOWN_ABORT};
    return teardown_run(&t);
}

int cmd_clean(const pgb_options *o)
{
    teardown t = {.o = o, .kind = TEARDOWN_CLEAN};
    return teardown_run(&t);
}
