/*
 * src/state_proto.c — the start/cutover/verify protocol's operations: the
 * fence, the hold, the wake-up call and waiting for the other side
 * (LISTEN/NOTIFY). The protocol itself is told once, at the top of
 * src/state.c.
 */
#include "state.h"

#include "db_async.h"
#include "log.h"
#include "mono.h"
#include "signals.h"
#include "sql_embed.h"
#include "xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

/* --- waiting for the other side ------------------------------------------ */

bool state_notify(db_conn *db, const char *name)
{
    const char *params[1] = {name};
    return db_commandp(db, sql_state_notify, 1, params);
}

bool state_send_notify(db_conn *db, const char *name)
{
    const char *params[1] = {name};
    return db_send(db, sql_state_notify, 1, params);
}

bool state_listen(db_conn *db)
{
    return db_command(db, "LISTEN " STATE_CHANNEL);
}

/* Take the notifications libpq has read; true if one is about NAME. */
static bool drain_notifies(db_conn *db, const char *name)
{
    bool ours = false;
    char *channel, *payload;
    while (db_next_notification(db, &channel, &payload)) {
        if (strcmp(channel, STATE_CHANNEL) == 0 && strcmp(payload, name) == 0)
            ours = true;
        free(channel);
        free(payload);
    }
    return ours;
}

int state_wait(db_conn *db, const char *name, double timeout)
{
    double until = mono_now() + timeout;
    for (;;) {
        if (!db_consume(db)) {
            db_report(db, DB_QUIET, NULL, NULL);
            log_error("%s: the connection was lost while waiting for a notification: %s",
                      db_side_name(db->side), db_errtext(db, "no message"));
            return -1;
        }
        if (drain_notifies(db, name))
            return 1;
        double left = until - mono_now();
        if (left <= 0 || signals_stop_requested())
            return 0;
        int fd = db_socket(db);
        if (fd < 0) {
            log_error("%s: no connection to wait on", db_side_name(db->side));
            return -1;
        }
        fd_set rfds;
        FD_ZERO(&rfds);
        FD_SET(fd, &rfds);
        struct timeval tv = {.tv_sec = (time_t)left,
                             .tv_usec = (suseconds_t)((left - floor(left)) * 1e6)};
        int n = select(fd + 1, &rfds, NULL, NULL, &tv);
        if (n < 0 && errno != EINTR) {
            log_error("select() failed while waiting for a notification: %s", strerror(errno));
            return -1;
        }
        if (n < 0)
            return 0; /* a signal: the caller looks at it */
    }
}

/* --- the fence (cutover) ------------------------------------------------- */

bool state_fence_write(db_conn *src, const char *name, lsn_t *lsn)
{
    const char *params[1] = {name};
    db_res *r = db_exec(src, DB_LOG, sql_state_fence_write, 1, params);
    bool ok = r && db_check_shape(src, r, 3, 1, "fence message") && lsn_parse(db_val(r, 0, 0), lsn);
    db_res_free(r);
    return ok;
}

bool state_fence_record(db_conn *tgt, const char *name, lsn_t lsn, long *rows)
{
    char buf[LSN_STRLEN];
    const char *params[2] = {name, lsn_format(lsn, buf, sizeof buf)};
    db_res *r = db_exec(tgt, DB_LOG, sql_state_fence_record, 2, params);
    if (!r)
        return false;
    *rows = db_cmd_rows(r);
    db_res_free(r);
    return true;
}

bool state_fence_read(db_conn *tgt, const char *name, state_fence *out)
{
    const char *params[1] = {name};
    db_res *r = db_exec(tgt, DB_LOG, sql_state_fence_read, 1, params);
    if (!r || !db_check_shape(tgt, r, 3, 1, "fence state")) {
        db_res_free(r);
        return false;
    }
    out->applied = db_val(r, 0, 0)[0] == 't';
    out->changes_after = strtoll(db_val(r, 0, 1), NULL, 10);
    out->alive_age = db_isnull(r, 0, 2) ? INFINITY : strtod(db_val(r, 0, 2), NULL);
    db_res_free(r);
    return true;
}

/* --- the hold (verify) --------------------------------------------------- */

bool state_hold_set(db_conn *tgt, const char *name, const char *lsn, bool *left_streaming)
{
    const char *params[2] = {name, lsn};
    *left_streaming = false;
    db_res *r = db_exec(tgt, DB_LOG, sql_state_hold_set, 2, params);
    if (!r)
        return false;
    bool ok = db_cmd_rows(r) == 1;
    *left_streaming = !ok;
    db_res_free(r);
    /* the held applier waits for this (a lost notification costs a second) */
    if (ok && !state_notify(tgt, name))
        log_debug("target: could not notify the applier of the hold");
    return ok;
}

bool state_hold_clear(db_conn *tgt, const char *name)
{
    const char *params[1] = {name};
    if (!db_commandp(tgt, sql_state_hold_clear, 1, params)) {
        /* the held applier waits for this: the user must be able to do it */
        log_error("could not clear the hold on migration \"%s\": streaming stays paused until "
                  "you run: UPDATE pgbaton.migration SET hold_lsn = NULL WHERE name = '%s'",
                  name, name);
        return false;
    }
    if (!state_notify(tgt, name))
        log_debug("target: could not notify the applier that the hold is lifted");
    return true;
}

bool state_hold_read(db_conn *tgt, const char *name, bool *held, state_phase *phase)
{
    const char *params[1] = {name};
    db_res *r = db_exec(tgt, DB_LOG, sql_state_hold_read, 1, params);
    if (!r || !db_check_shape(tgt, r, 2, 1, "hold state")) {
        db_res_free(r);
        return false;
    }
    *held = db_val(r, 0, 0)[0] == 't';
    *phase = state_phase_parse(db_val(r, 0, 1));
    db_res_free(r);
    return true;
}

bool state_wake_applier(db_conn *src, const char *name)
{
    const char *params[1] = {name};
    db_res *r = db_exec(src, DB_QUIET, sql_state_wake, 1, params);
    bool ok = r != NULL;
    db_res_free(r);
    return ok;
}

/* --- the phase ----------------------------------------------------------- */

bool state_read_phase(db_conn *tgt, const char *name, bool *found, state_phase *phase)
{
    *found = false;
    *phase = PHASE_UNKNOWN;
    bool have = false;
    if (!state_schema_exists(tgt, DB_LOG, &have))
        return false;
    if (!have)
        return true;
    const char *params[1] = {name};
    db_res *r = db_exec(tgt, DB_LOG, sql_state_read_phase, 1, params);
    if (!r || !db_check_shape(tgt, r, 1, 0, "migration phase")) {
        db_res_free(r);
        return false;
    }
    if (db_nrows(r) == 1) {
        *found = true;
        *phase = state_phase_parse(db_val(r, 0, 0));
    }
    db_res_free(r);
    return true;
}

/* --- the cutover's and abort's phase changes ----------------------------- */

/* Run SQL (a guarded UPDATE) and return its row count in *ROWS. */
static bool update_rows(db_conn *tgt, const char *sql, int n, const char *const *params, long *rows)
{
    db_res *r = db_exec(tgt, DB_LOG, sql, n, params);
    if (!r)
        return false;
    if (rows)
        *rows = db_cmd_rows(r);
    db_res_free(r);
    return true;
}

bool state_cutover_begin(db_conn *tgt, const char *name, const char *database, const char *prev,
                         long *rows)
{
    const char *params[3] = {name, database, prev};
    return update_rows(tgt, sql_state_cutover_begin, 3, params, rows);
}

bool state_cutover_rollback(db_conn *tgt, const char *name, const char *reason)
{
    const char *params[2] = {name, reason};
    return update_rows(tgt, sql_state_cutover_rollback, 2, params, NULL);
}

bool state_cutover_done(db_conn *tgt, const char *name, double count_ms, bool *done,
                        double *write_unavailable_ms)
{
    char ms[32];
    snprintf(ms, sizeof ms, "%.3f", count_ms);
    const char *params[2] = {name, isnan(count_ms) ? NULL : ms};
    *done = false;
    db_res *r = db_exec(tgt, DB_LOG, sql_state_cutover_done, 2, params);
    if (!r)
        return false;
    *done = db_nrows(r) == 1 && db_ncols(r) == 1;
    if (*done)
        *write_unavailable_ms = strtod(db_val(r, 0, 0), NULL);
    db_res_free(r);
    return true;
}

bool state_abort_stop(db_conn *tgt, const char *name, bool *stopped)
{
    char *sources = state_phase_sources(PHASE_STOPPED);
    const char *params[3] = {name, "aborted by pgbaton abort", sources};
    long rows = 0;
    bool ok = update_rows(tgt, sql_state_abort_stop, 3, params, &rows);
    free(sources);
    *stopped = ok && rows == 1;
    return ok;
}

bool state_clear_frozen(db_conn *tgt, const char *name)
{
    const char *params[1] = {name};
    return db_commandp(tgt, sql_state_clear_frozen, 1, params);
}
