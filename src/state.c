/*
 * src/state.c — pgbaton's state on the target (schema "pgbaton",
 * sql/state_schema.sql) and the one place where the conversation between
 * `start`, `cutover`, `verify` and `status` is told. The rows live here;
 * the phase's names and its table of transitions in src/state_phase.c; the
 * protocol's operations (fence, hold, wake-up, waiting) in
 * src/state_proto.c; the applier's and the analyzer's statements in
 * src/state_apply.c; the reads of `status`, `report` and `cutover` in
 * src/state_read.c; the record of the switched-off user triggers
 * (pgbaton.paused_trigger) in src/state_triggers.c. Every pgbaton.* query
 * is one of their functions, its text a file sql/state_*.sql, and the
 * other modules get typed values, never a result of one
 * (scripts/check-layers.sh checks it).
 *
 * THE PROTOCOL
 *
 * The parties. `start` is two actors: its main thread (copy, then the
 * stream loop, src/stream.c) with the applier (src/apply.c), which writes
 * the target in batches; and its heartbeat thread (src/heartbeat.c), which
 * emits a non-transactional "pgbaton" message on the source every second.
 * `cutover`, `verify`, `abort`, `status` and `report` are short-lived
 * commands run beside it, from any machine. They never talk to each other
 * directly: everything goes through the row pgbaton.migration (one per
 * --name), logical messages on the source, and NOTIFY pgbaton_state on the
 * target.
 *
 * The phase (one table of allowed transitions, src/state_phase.c; every
 * phase write is an UPDATE guarded by the phases allowed before it):
 *     copying -> indexing -> streaming -> cutover -> done
 *                                  ^---------'  (rollback)
 *   and failed (start stopped on an error) or stopped (abort) from the
 *   running phases; failed -> streaming (a start resumed after the copy).
 *   done and stopped are final.
 *
 * Who writes which column, when:
 *   start (main)   INSERT (phase copying, copy_started_at); consistent_lsn
 *                  + slot_created_at once the slot exists; schema_done_at
 *                  once the pre-data schema is restored; phase indexing +
 *                  copy_done_at, indexes_done_at; phase streaming + applied_lsn =
 *                  consistent_lsn + streaming_at (state_start_streaming);
 *                  phase failed + last_error at once when the copy or the
 *                  stream stops on an error it cannot get past
 *                  (state_set_failed; during a cutover, which rolls itself
 *                  back, only last_error; after a failed post-data restore
 *                  only last_error, the phase stays indexing for
 *                  --restart); a resumed start puts failed back to
 *                  streaming and clears last_error (state_resume).
 *   start (keepalive thread, src/state_apply.c) alive_at every
 *                  STATE_KEEPALIVE_MS, from the row's creation (or a
 *                  resumed start's lock) until start exits; then exited_at
 *                  (a killed start writes nothing).
 *   applier        in the target transaction of every batch it commits
 *                  (so that the position is exactly the data's): applied_lsn,
 *                  applied_source_ts, heartbeat_source_ts, the counters,
 *                  alive_at; fence_applied_at/_lsn when the batch holds the
 *                  fence; post_fence_changes (data changes after it); held_at
 *                  when it reaches verify's hold. That UPDATE RETURNs phase
 *                  and hold_lsn: how the applier reads both without a query
 *                  of its own. alive_at alone every ALIVE_MS inside a long
 *                  batch (SKIP LOCKED: never waits). In the same
 *                  transaction: a row of pgbaton.lag_sample every second
 *                  and at phase changes, and once a minute the thinning of
 *                  the samples older than an hour (src/apply_control.c).
 *   cutover        step 2, before it freezes the source: phase cutover,
 *                  cutover_started_at, frozen_at, freeze_database,
 *                  freeze_prev_readonly, fence columns reset (only from
 *                  streaming). Step 3: fence_lsn, with fence_applied_* and
 *                  post_fence_changes reset. Step 7: phase done, done_at,
 *                  count_ms, write_unavailable_ms, only if post_fence_changes
 *                  is still 0, in the transaction that puts back the
 *                  paused triggers. On a failure after the freeze: phase
 *                  streaming, frozen_at and the fence cleared, last_error =
 *                  why (only from cutover).
 *   verify         hold_lsn (and held_at = NULL) while streaming; both
 *                  cleared on every way out.
 *   abort          phase stopped.
 *   status, report read only.
 *
 * Who waits for what. Whoever changes what another side waits on (the
 * applier's commit of fence_applied_at or held_at; verify's hold_lsn;
 * cutover's phase done; abort's phase stopped) sends NOTIFY pgbaton_state
 * with the migration's name (state_notify), in that transaction or right
 * after its commit. (Not from a trigger on pgbaton.migration: it would be
 * a trigger on the target that pgbaton's own writes fire, which the
 * target must not have, include/triggers.h.) A waiting side LISTENs
 * before it writes what the other side answers, then sleeps in select()
 * on its target socket (state_wait()): a notification wakes it at once,
 * and it re-reads the row (the notification only says "look"). The
 * re-read also happens at least every second, which is the fallback should
 * a notification be lost (a failed NOTIFY is only logged), and the side's
 * deadline is checked each time.
 *   cutover -> applier (the fence). cutover writes the fence, a
 *     non-transactional logical message "pgbaton_fence" naming the
 *     migration, on the source after the freeze, and flushes it in the same
 *     statement (a non-transactional message is streamed only once its WAL
 *     is flushed, which the WAL writer does within wal_writer_delay, 200 ms
 *     by default, and nothing else commits on a frozen source). The
 *     walsender sends it at once; the applier, which sees every earlier
 *     commit before it, commits its batch at once with fence_applied_*;
 *     cutover wakes on that commit's notification. Lost nothing: every
 *     source transaction committed before the freeze is before the fence.
 *   verify -> applier (the hold, docs/verify.md and the top of
 *     src/verify.c). verify sets hold_lsn and wakes the applier with a
 *     flushed "pgbaton" message with "wake": true; the applier's next
 *     commit reads hold_lsn, it pauses before the first change at or after
 *     it and commits held_at; verify wakes on that commit's notification.
 *     The held applier waits for the notification of hold_lsn's next change
 *     (moved, or cleared) on a target session of its own (src/stream.c).
 *   applier <- phase. The applier stops streaming when the phase is no
 *     longer streaming or cutover (done, stopped): it learns it from the
 *     notification when idle, else from its next commit.
 *   cutover step 1 waits (before anything is changed) for start to be alive
 *     and the lag to fall below --max-lag, re-reading status every 100 ms;
 *     after step 7 it waits up to 10 s for start to leave the slot.
 *
 * On timeout, or when the other side is gone:
 *   - start not running (it recorded its exit after its last sign of life,
 *     or alive_at is older than STATUS_STALE_SECONDS, three keepalive
 *     periods): status shows phase "stopped", with since when (the stored
 *     phase is kept); cutover refuses to
 *     freeze (step 1 waits for it until --timeout, exit 4, nothing
 *     changed); a cutover already frozen waits for the fence until its
 *     deadline, then unfreezes, sets phase streaming + last_error and says
 *     that start is not running; verify waits HOLD_TIMEOUT_S for held_at,
 *     then clears the hold and exits 1. A new start resumes from
 *     applied_lsn, applies the fence or the hold if still asked for.
 *   - cutover killed after step 2: phase cutover with frozen_at, and no
 *     cutover session on the source: status says "cutover interrupted";
 *     the applier goes on applying (cutover counts as streaming for it); a
 *     new cutover resumes (re-freezes, writes a new fence: an older
 *     fence_applied_lsn below fence_lsn does not count), or abort unfreezes.
 *     Killed between recording the freeze and applying it (the source
 *     still writable, which status asks the source: freeze_in_effect), a
 *     new cutover puts the phase back to streaming and starts over from
 *     step 1; abort has nothing to unfreeze.
 *   - verify killed while holding: hold_lsn stays set and the applier stays
 *     held (the stream keeps its slot alive with feedback); clearing
 *     hold_lsn (the next verify does it, or the UPDATE verify's error
 *     message gives) lets it go on.
 *   - abort at any time: phase stopped; the applier stops at its next
 *     notification or commit, a waiting cutover or verify finds the phase
 *     changed and fails without writing more.
 *   - the target connection of a waiting side is lost: state_wait() says
 *     so, and the side fails as on any target error (cutover rolls back on
 *     a new session).
 */
#include "state.h"

#include "log.h"
#include "sql_embed.h"
#include "xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool state_ensure_schema(db_conn *db)
{
    return db_command(db, sql_state_schema);
}

static char *dup_or_null(const db_res *res, int col)
{
    return db_isnull(res, 0, col) ? NULL : xstrdup(db_val(res, 0, col));
}

bool state_schema_exists(db_conn *db, db_errmode errmode, bool *exists)
{
    *exists = false;
    db_res *r = db_exec(db, errmode, sql_state_schema_exists, 0, NULL);
    bool ok = r && db_nrows(r) == 1 && db_ncols(r) == 1;
    if (ok)
        *exists = db_val(r, 0, 0)[0] == 't';
    db_res_free(r);
    return ok;
}

bool state_migration_count(db_conn *db, long *n)
{
    char *v = db_scalar(db, sql_state_migration_count, 0, NULL, NULL);
    if (!v)
        return false;
    *n = strtol(v, NULL, 10);
    free(v);
    return true;
}

bool state_read_options(db_conn *db, const char *name, char **options)
{
    const char *params[1] = {name};
    bool isnull = false;
    *options = db_scalar(db, sql_state_read_options, 1, params, &isnull);
    return *options || isnull;
}

bool state_read_slot(db_conn *db, const char *name, db_errmode errmode, bool *found, char **slot)
{
    const char *params[1] = {name};
    *found = false;
    *slot = NULL;
    db_res *r = db_exec(db, errmode, sql_state_read_slot, 1, params);
    bool ok = r && db_ncols(r) == 1;
    if (ok && db_nrows(r) == 1) {
        *found = true;
        *slot = dup_or_null(r, 0);
    }
    db_res_free(r);
    return ok;
}

char *state_tables_json(db_conn *db, const char *name)
{
    const char *params[1] = {name};
    return db_scalar(db, sql_state_tables_json, 1, params, NULL);
}

int state_migration_load(db_conn *db, const char *name, state_migration *out)
{
    memset(out, 0, sizeof *out);
    bool have = false;
    if (!state_schema_exists(db, DB_LOG, &have))
        return -1;
    if (!have)
        return 0;
    const char *params[] = {name};
    db_res *res = db_exec(db, DB_LOG, sql_state_migration_load, 1, params);
    if (!res)
        return -1;
    if (!db_check_shape(db, res, 10, 0, "migration row")) {
        db_res_free(res);
        return -1;
    }
    if (db_nrows(res) == 0) {
        db_res_free(res);
        return 0;
    }
    out->name = xstrdup(db_val(res, 0, 0));
    out->phase = xstrdup(db_val(res, 0, 1));
    out->ephase = state_phase_parse(out->phase);
    out->slot_name = xstrdup(db_val(res, 0, 2));
    out->options = dup_or_null(res, 3);
    out->last_error = dup_or_null(res, 4);
    out->consistent_lsn = db_lsn_cell(res, 5);
    out->applied_lsn = db_lsn_cell(res, 6);
    out->copy_done = strcmp(db_val(res, 0, 7), "t") == 0;
    out->plugin = xstrdup(db_val(res, 0, 8));
    out->publication = dup_or_null(res, 9);
    db_res_free(res);
    return 1;
}

void state_migration_free(state_migration *m)
{
    free(m->name);
    free(m->phase);
    free(m->slot_name);
    free(m->options);
    free(m->last_error);
    free(m->plugin);
    free(m->publication);
    memset(m, 0, sizeof *m);
}

bool state_migration_insert(db_conn *db, const state_new_migration *m)
{
    const char *params[] = {m->name,          m->slot_name,      m->source_masked,
                            m->target_masked, m->source_version, m->target_version,
                            m->options_json,  m->plugin,         m->publication};
    return db_commandp(db, sql_state_migration_insert, 9, params);
}

bool state_migration_delete(db_conn *db, const char *name)
{
    const char *params[] = {name};
    return db_commandp(db, sql_state_migration_delete, 1, params);
}

bool state_set_phase(db_conn *db, const char *name, state_phase to, state_stamp stamp)
{
    const char *stamps[] = {[STAMP_NONE] = NULL,
                            [STAMP_COPY_DONE] = "copy_done",
                            [STAMP_INDEXES_DONE] = "indexes_done"};
    char *sources = state_phase_sources(to);
    const char *params[4] = {name, state_phase_name(to), sources, stamps[stamp]};
    db_res *r = db_exec(db, DB_LOG, sql_state_set_phase, 4, params);
    free(sources);
    if (!r)
        return false;
    bool ok = db_cmd_rows(r) == 1;
    db_res_free(r);
    if (ok)
        return true;
    bool found = false;
    state_phase from = PHASE_UNKNOWN;
    if (state_read_phase(db, name, &found, &from)) {
        if (found)
            log_error("internal error: the phase of migration %s cannot go from %s to %s", name,
                      state_phase_name(from), state_phase_name(to));
        else
            log_error("target: the migration row \"%s\" is missing from pgbaton.migration", name);
    }
    return false;
}

bool state_set_consistent_lsn(db_conn *db, const char *name, lsn_t lsn)
{
    char buf[LSN_STRLEN];
    const char *params[] = {name, lsn_format(lsn, buf, sizeof buf)};
    return db_commandp(db, sql_state_set_consistent_lsn, 2, params);
}

bool state_schema_done(db_conn *db, const char *name)
{
    const char *params[] = {name};
    return db_commandp(db, sql_state_schema_done, 1, params);
}

bool state_start_streaming(db_conn *db, const char *name)
{
    const char *params[] = {name};
    db_res *r = db_exec(db, DB_LOG, sql_state_start_streaming, 1, params);
    if (!r)
        return false;
    bool ok = db_cmd_rows(r) == 1;
    db_res_free(r);
    if (!ok)
        log_error("internal error: migration %s did not go from indexing to streaming (its phase "
                  "changed meanwhile?)",
                  name);
    return ok;
}

bool state_set_failed(db_conn *db, const char *name, const char *last_error)
{
    char *sources = state_phase_sources(PHASE_FAILED);
    const char *params[] = {name, last_error, sources};
    bool ok = db_commandp(db, sql_state_set_failed, 3, params);
    free(sources);
    return ok;
}

bool state_resume(db_conn *db, const char *name)
{
    const char *params[] = {name};
    return db_commandp(db, sql_state_resume, 1, params);
}

bool state_set_last_error(db_conn *db, const char *name, const char *last_error)
{
    const char *params[] = {name, last_error};
    return db_commandp(db, sql_state_set_last_error, 2, params);
}

bool state_event_add(db_conn *db, const char *name, const char *level, const char *message)
{
    char *clean = log_redact(message);
    const char *params[] = {name, level, clean};
    bool ok = db_commandp(db, sql_state_event_add, 3, params);
    free(clean);
    return ok;
}

void state_event(db_conn *db, const char *name, const char *level, const char *message)
{
    if (!state_event_add(db, name, level, message))
        log_warn("could not record an event in the target's pgbaton.event (see above)");
}

bool state_table_insert(db_conn *db, const char *migration, const state_table *t)
{
    char size[32], rows[32];
    snprintf(size, sizeof size, "%" PRId64, t->size_bytes);
    snprintf(rows, sizeof rows, "%" PRId64, t->est_rows);
    const char *params[] = {migration, t->schema, t->table, size, rows};
    return db_commandp(db, sql_state_table_insert, 5, params);
}

bool state_table_update(db_conn *db, const char *migration, const char *schema, const char *table,
                        const char *state, int64_t rows, int64_t bytes)
{
    char r[32], b[32];
    snprintf(r, sizeof r, "%" PRId64, rows);
    snprintf(b, sizeof b, "%" PRId64, bytes);
    const char *params[] = {migration, schema, table, state, r, b};
    return db_commandp(db, sql_state_table_update, 6, params);
}
