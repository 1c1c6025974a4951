/*
 * src/state_apply.c — the state operations of the applier (src/apply.c)
 * and the analyzer (src/analyze.c): its position update, lag samples, sign
 * of life, where it resumes and verify's hold; the tables to ANALYZE.
 */
#include "state.h"

#include "db_async.h"
#include "log.h"
#include "sql_embed.h"
#include "xalloc.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool state_phase_streams(state_phase p)
{
    return p == PHASE_STREAMING || p == PHASE_CUTOVER;
}

bool state_send_position(db_conn *db, const state_position *p)
{
    char lsn[LSN_STRLEN], fence_lsn[LSN_STRLEN], changes[32], txns[32], post[32];
    lsn_format(p->lsn, lsn, sizeof lsn);
    lsn_format(p->fence_lsn, fence_lsn, sizeof fence_lsn);
    snprintf(changes, sizeof changes, "%ld", p->changes);
    snprintf(txns, sizeof txns, "%ld", p->txns);
    snprintf(post, sizeof post, "%ld", p->post_fence);
    const char *params[10] = {p->name,
                              lsn,
                              p->commit_ts,
                              p->heartbeat_ts,
                              changes,
                              txns,
                              p->fence ? "true" : "false",
                              p->fence ? fence_lsn : NULL,
                              post,
                              p->held ? "true" : "false"};
    return db_send(db, sql_state_position, 10, params);
}

bool state_send_lag_sample(db_conn *db, const char *name, long long lag_bytes, double rate)
{
    char bytes[32], rate_s[64];
    snprintf(bytes, sizeof bytes, "%lld", lag_bytes);
    snprintf(rate_s, sizeof rate_s, "%.3f", rate);
    const char *params[3] = {name, lag_bytes >= 0 ? bytes : NULL, rate_s};
    return db_send(db, sql_state_lag_sample, 3, params);
}

bool state_send_lag_thin(db_conn *db, const char *name)
{
    const char *params[1] = {name};
    return db_send(db, sql_state_lag_thin, 1, params);
}

bool state_touch_alive(db_conn *db, const char *name)
{
    const char *params[1] = {name};
    db_res *r = db_exec(db, DB_QUIET, sql_state_touch_alive, 1, params);
    db_res_free(r);
    return r != NULL;
}

/* ---- start's sign of life before the applier writes it ---------------- */

struct state_keepalive {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    db_conn *db;
    char *name;
};

static void *keepalive_main(void *arg)
{
    state_keepalive *k = arg;
    pthread_mutex_lock(&k->lock);
    while (!k->stop) {
        pthread_mutex_unlock(&k->lock);
        if (!state_touch_alive(k->db, k->name))
            log_debug("target: could not refresh alive_at: %s", db_errtext(k->db, "error"));
        pthread_mutex_lock(&k->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += STATE_KEEPALIVE_MS / 1000;
        while (!k->stop && pthread_cond_timedwait(&k->cond, &k->lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&k->lock);
    return NULL;
}

state_keepalive *state_keepalive_start(const conninfo *target, const char *name)
{
    db_connect_opts co = {
        .mode = DB_MODE_NORMAL, .application_name = "pgbaton start", .errmode = DB_LOG};
    db_conn *db = db_connect(target, DB_TARGET, &co, NULL, NULL);
    if (!db)
        return NULL;
    state_keepalive *k = xcalloc(1, sizeof *k);
    k->db = db;
    k->name = xstrdup(name);
    pthread_mutex_init(&k->lock, NULL);
    pthread_cond_init(&k->cond, NULL);
    if (pthread_create(&k->thread, NULL, keepalive_main, k) != 0) {
        pthread_mutex_destroy(&k->lock);
        pthread_cond_destroy(&k->cond);
        db_close(db);
        free(k->name);
        free(k);
        return NULL;
    }
    return k;
}

void state_keepalive_stop(state_keepalive *k)
{
    if (!k)
        return;
    pthread_mutex_lock(&k->lock);
    k->stop = true;
    pthread_cond_signal(&k->cond);
    pthread_mutex_unlock(&k->lock);
    pthread_join(k->thread, NULL);
    pthread_mutex_destroy(&k->lock);
    pthread_cond_destroy(&k->cond);
    db_close(k->db);
    free(k->name);
    free(k);
}

bool state_read_apply_start(db_conn *db, const char *name, state_apply_start *out)
{
    const char *params[1] = {name};
    db_res *r = db_exec(db, DB_LOG, sql_state_apply_position, 1, params);
    bool ok = r && db_check_shape(db, r, 4, 1, "the migration row");
    if (ok) {
        out->applied_lsn = db_lsn_cell(r, 0);
        out->phase = state_phase_parse(db_val(r, 0, 1));
        out->hold_lsn = db_lsn_cell(r, 2);
        out->fence_seen = db_val(r, 0, 3)[0] == 't';
    }
    db_res_free(r);
    return ok;
}

bool state_read_apply_hold(db_conn *db, const char *name, state_phase *phase, lsn_t *hold_lsn)
{
    const char *params[1] = {name};
    db_res *r = db_exec(db, DB_QUIET, sql_state_apply_hold, 1, params);
    bool ok = r != NULL;
    if (ok && db_nrows(r) == 1 && db_ncols(r) == 2) {
        *phase = state_phase_parse(db_val(r, 0, 0));
        *hold_lsn = db_lsn_cell(r, 1);
    }
    db_res_free(r);
    return ok;
}

bool state_analyze_mark(db_conn *db, const char *migration, const char *schema, const char *table)
{
    const char *params[3] = {migration, schema, table};
    return db_commandp(db, sql_state_analyze_mark, 3, params);
}
