/*
 * src/apply_control.c — the applier's commits and what travels with them
 * (see the top of src/apply.c): the position update of each batch
 * (pgbaton.migration: applied_lsn, timestamps, counters, fence and hold),
 * lag samples, the heartbeat, fence and verify wake-up messages, verify's
 * hold point, the phase, and alive_at between commits.
 */
#include "apply_internal.h"

#include "db_async.h"
#include "failpoint.h"
#include "log.h"
#include "mono.h"
#include "state.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A lag sample (pgbaton.lag_sample, for status's rate and ETA and the
 * report's chart) goes with a commit at least this often, and with the
 * first commit, the fence's and the first after a phase change: every
 * migration, however short its streaming, gets a chart. It is one more
 * statement in the batch's pipeline, before its COMMIT: no round trip of
 * its own. Every LAG_THIN_EVERY samples (a minute) the old samples are
 * thinned likewise (sql/state_lag_thin.sql), so the table stays bounded. */
#define LAG_SAMPLE_MS  1000
#define LAG_THIN_EVERY 60

/* ---------------------------------------------------------------------- */
/* phase and hold point                                                    */

/* The applier goes on while the phase is streaming or cutover; anything
 * else (done after a cutover, stopped by abort) ends it. */
static void note_phase(apply_ctx *a, state_phase phase)
{
    if (!state_phase_streams(phase))
        a->phase_done = true;
    if (a->phase_known && a->phase_seen != (int)phase)
        a->sample_due = true; /* a point where the phase changed (cutover, rollback) */
    a->phase_known = true;
    a->phase_seen = (int)phase;
}

void apply_position_result(apply_ctx *a, const db_res *r)
{
    if (db_nrows(r) != 1 || db_ncols(r) != 2) {
        apply_fail(
            a, APPLY_FATAL,
            "target: the migration row \"%s\" is missing from pgbaton.migration: was `pgbaton "
            "clean` run?",
            a->opts.migration);
        return;
    }
    note_phase(a, state_phase_parse(db_val(r, 0, 0)));
    a->hold_lsn = db_lsn_cell(r, 1);
}

/* start's sign of life, pgbaton.migration.alive_at, is written by every
 * commit; but a batch holds whole source transactions, so a long one (a
 * batch job's million-row UPDATE) keeps the batch open for as long as it
 * takes, and status and cutover would think start is gone. So while
 * applying or waiting, alive_at is refreshed at least every ALIVE_MS from
 * the catalog session, in its own short transaction. It never waits for
 * the row: the apply transaction locks it at its very end (the position
 * update, just before COMMIT), possibly while its results wait for this
 * very process to read them, so a locked row is skipped (SKIP LOCKED; the
 * commit under way writes alive_at itself: state_touch_alive). */

void apply_refresh_alive(apply_ctx *a)
{
    double now = mono_now();
    if ((now - a->last_alive) * 1000.0 < ALIVE_MS)
        return;
    a->last_alive = now;
    if (!state_touch_alive(a->catalog, a->opts.migration))
        log_debug("target: could not refresh alive_at: %s", db_errtext(a->catalog, "error"));
}

bool apply_read_position(apply_ctx *a)
{
    state_apply_start st;
    if (!state_read_apply_start(a->catalog, a->opts.migration, &st))
        return false;
    a->hold_lsn = st.hold_lsn;
    a->fence_seen = st.fence_seen;
    if (st.applied_lsn != LSN_INVALID)
        a->committed_lsn = st.applied_lsn;
    note_phase(a, st.phase);
    return true;
}

/* ---------------------------------------------------------------------- */
/* commits                                                                 */

apply_status apply_ensure_txn(apply_ctx *a)
{
    if (a->in_txn)
        return APPLY_OK;
    apply_status st = apply_send_cmd(a, "BEGIN", "BEGIN");
    if (st != APPLY_OK)
        return st;
    a->in_txn = true;
    a->batch_started = mono_now();
    return APPLY_OK;
}

/* Changes per second over the last RATE_WINDOW samples (about ten seconds:
 * one second alone would make status's rate jump), then NOW and the changes
 * counted so far join the window. */
static double sample_rate(apply_ctx *a, double now)
{
    long total = a->changes_counted + a->changes_since_sample;
    double t0 = a->rate_n ? a->rate_t[0] : a->last_sample;
    long c0 = a->rate_n ? a->rate_c[0] : 0;
    double rate = now - t0 > 0.001 ? (double)(total - c0) / (now - t0) : 0;
    if (a->rate_n == RATE_WINDOW) {
        memmove(a->rate_t, a->rate_t + 1, (RATE_WINDOW - 1) * sizeof a->rate_t[0]);
        memmove(a->rate_c, a->rate_c + 1, (RATE_WINDOW - 1) * sizeof a->rate_c[0]);
        a->rate_n--;
    }
    a->rate_t[a->rate_n] = now;
    a->rate_c[a->rate_n++] = total;
    a->changes_counted = total;
    return rate;
}

static bool sample_wanted(const apply_ctx *a)
{
    return !a->sampled || a->sample_due || a->pending_fence ||
           mono_now() - a->last_sample >= LAG_SAMPLE_MS / 1000.0;
}

static apply_status send_lag_sample(apply_ctx *a, lsn_t pos)
{
    double now = mono_now();
    double rate = sample_rate(a, now);
    if (!state_send_lag_sample(a->db, a->opts.migration,
                               a->source_lsn ? (long long)lsn_diff(a->source_lsn, pos) : -1, rate))
        return apply_conn_lost(a, "sending a lag sample");
    pending *p = apply_queue_push(a, PEND_CMD);
    snprintf(p->desc, sizeof p->desc, "the lag sample");
    a->last_sample = now;
    a->changes_since_sample = 0;
    a->sampled = true;
    a->sample_due = false;
    if (++a->samples_since_thin >= LAG_THIN_EVERY) {
        a->samples_since_thin = 0;
        if (!state_send_lag_thin(a->db, a->opts.migration))
            return apply_conn_lost(a, "thinning the lag samples");
        p = apply_queue_push(a, PEND_CMD);
        snprintf(p->desc, sizeof p->desc, "the thinning of old lag samples");
    }
    return APPLY_OK;
}

/* Commit the batch with the position and wait until it is durable. */
apply_status apply_commit_batch(apply_ctx *a)
{
    apply_status st = apply_group_flush_all(a);
    if (st == APPLY_OK)
        st = apply_flush_truncates(a);
    if (st == APPLY_OK)
        st = apply_ensure_txn(a);
    if (st == APPLY_OK)
        st = apply_make_room(a);
    if (st != APPLY_OK)
        return st;
    /* A row count that does not match is no server error: it would not stop
     * the pipeline, and a COMMIT sent behind it would commit the batch and
     * its position. So when the batch has counts to check, its results are
     * all read before the position and COMMIT are sent (on a mismatch, the
     * open transaction holds no lock on pgbaton.migration, and closing the
     * session rolls it back). */
    if (apply_counts_unchecked(a)) {
        if (!db_flush_request(a->db))
            return apply_conn_lost(a, "asking for results");
        if ((st = apply_read_results(a, true)) != APPLY_OK)
            return st;
    }
    lsn_t pos = a->pending_lsn > a->committed_lsn ? a->pending_lsn : a->committed_lsn;
    char lsn[LSN_STRLEN];
    lsn_format(pos, lsn, sizeof lsn);
    state_position sp = {.name = a->opts.migration,
                         .lsn = pos,
                         .commit_ts = a->pending_ts[0] ? a->pending_ts : NULL,
                         .heartbeat_ts = a->pending_hb_ts[0] ? a->pending_hb_ts : NULL,
                         .changes = a->batch_changes,
                         .txns = a->batch_txns,
                         .fence = a->pending_fence,
                         .fence_lsn = a->pending_fence_lsn,
                         .post_fence = a->post_fence_batch,
                         .held = a->pending_held};
    if (!state_send_position(a->db, &sp))
        return apply_conn_lost(a, "sending the position");
    pending *p = apply_queue_push(a, PEND_POSITION);
    snprintf(p->desc, sizeof p->desc, "the position update");
    /* cutover and verify wait for this commit (src/state.c, top of file) */
    if (a->pending_fence || a->pending_held) {
        if (!state_send_notify(a->db, a->opts.migration))
            return apply_conn_lost(a, "sending the notification");
        p = apply_queue_push(a, PEND_CMD);
        snprintf(p->desc, sizeof p->desc, "the notification");
    }
    if (sample_wanted(a) && (st = send_lag_sample(a, pos)) != APPLY_OK)
        return st;
    failpoint("apply.before-commit");
    if ((st = apply_send_cmd(a, "COMMIT", "COMMIT")) != APPLY_OK)
        return st;
    if (!db_pipeline_sync(a->db))
        return apply_conn_lost(a, "sending a sync");
    p = apply_queue_push(a, PEND_SYNC);
    p->lsn = pos;
    p->changes = a->batch_changes;
    p->txns = a->batch_txns;
    snprintf(p->desc, sizeof p->desc, "the commit of the batch");
    a->in_txn = false;
    st = apply_read_results(a, true);
    if (st != APPLY_OK)
        return st;
    failpoint("apply.after-commit");
    log_debug("committed %ld changes of %ld source transactions up to %s", a->batch_changes,
              a->batch_txns, lsn);
    a->batch_changes = a->batch_txns = 0;
    a->pending_ts[0] = a->pending_hb_ts[0] = '\0';
    a->pending_fence = a->pending_held = false;
    a->post_fence_batch = 0;
    return APPLY_OK;
}

bool apply_batch_full(const apply_ctx *a)
{
    return a->batch_changes >= a->opts.batch_changes || a->batch_txns >= a->opts.batch_txns ||
           (mono_now() - a->batch_started) * 1000.0 >= a->opts.batch_ms;
}

/* ---------------------------------------------------------------------- */
/* messages                                                                */

static bool message_is_ours(const apply_ctx *a, const char *content, char *ts, size_t tssz,
                            bool *wake)
{
    json_error_t err;
    json_t *j = content ? json_loads(content, JSON_DECODE_ANY, &err) : NULL; /* new reference */
    bool ours = false;
    if (json_is_object(j)) {
        const char *name = json_string_value(json_object_get(j, "name"));
        const char *t = json_string_value(json_object_get(j, "ts"));
        ours = !name || strcmp(name, a->opts.migration) == 0;
        if (ours && t && ts)
            snprintf(ts, tssz, "%s", t);
        if (ours && wake)
            *wake = json_is_true(json_object_get(j, "wake"));
    }
    json_decref(j);
    return ours;
}

apply_status apply_message(apply_ctx *a, const pgb_change *c)
{
    char ts[64] = "";
    bool wake = false; /* verify's wake-up call: commit at once (the commit reads its hold) */
    if (strcmp(c->prefix, "pgbaton") == 0) {
        if (!message_is_ours(a, c->content, ts, sizeof ts, &wake))
            return APPLY_OK;
        if (ts[0])
            snprintf(a->pending_hb_ts, sizeof a->pending_hb_ts, "%s", ts);
    } else if (strcmp(c->prefix, "pgbaton_fence") == 0) {
        /* cutover: fence_applied_at/_lsn are set in the commit of this batch,
         * which happens at once (the source is frozen: every millisecond
         * counts), and later data changes are counted as post-fence */
        if (!message_is_ours(a, c->content, NULL, 0, NULL))
            return APPLY_OK;
        a->pending_fence = true;
        a->pending_fence_lsn = c->lsn;
        a->fence_seen = true;
        a->post_fence_batch = 0;
        log_info("fence message applied at %X/%X", (unsigned)(c->lsn >> 32), (unsigned)c->lsn);
        if (!c->transactional && !a->in_src) {
            if (c->lsn > a->pending_lsn)
                a->pending_lsn = c->lsn;
            return apply_commit_batch(a);
        }
    } else {
        return APPLY_OK;
    }
    /* outside a transaction, every earlier commit has been seen: the
     * message's end is a safe resume point */
    if (!c->transactional && !a->in_src && c->lsn > a->pending_lsn)
        a->pending_lsn = c->lsn;
    return wake && !c->transactional && !a->in_src ? apply_commit_batch(a) : APPLY_OK;
}

/* ---------------------------------------------------------------------- */
/* verify's hold, the phase, lag (public)                                  */

bool apply_hold_blocks(const apply_ctx *a, const pgb_change *c)
{
    if (a->hold_lsn == LSN_INVALID || a->in_src)
        return false;
    if (!c) { /* idle: has the applier reached the hold point (committed or not)? */
        lsn_t pos = a->pending_lsn > a->committed_lsn ? a->pending_lsn : a->committed_lsn;
        return pos >= a->hold_lsn;
    }
    if (c->kind == CHG_BEGIN)
        return c->lsn != LSN_INVALID && c->lsn >= a->hold_lsn;
    if (c->kind == CHG_MESSAGE && !c->transactional)
        return c->lsn >= a->hold_lsn;
    return false;
}

apply_status apply_commit_held(apply_ctx *a)
{
    a->pending_held = true;
    return apply_commit_batch(a);
}

lsn_t apply_hold_lsn(const apply_ctx *a)
{
    return a->hold_lsn;
}

apply_status apply_refresh_hold(apply_ctx *a)
{
    state_phase phase = PHASE_STREAMING;
    lsn_t hold = a->hold_lsn;
    if (!state_read_apply_hold(a->catalog, a->opts.migration, &phase, &hold))
        return APPLY_RETRY;
    note_phase(a, phase);
    a->hold_lsn = hold;
    return APPLY_OK;
}

bool apply_phase_done(const apply_ctx *a)
{
    return a->phase_done;
}

void apply_set_source_lsn(apply_ctx *a, lsn_t lsn)
{
    a->source_lsn = lsn;
}
