/*
 * src/state_audit.c — the audit trail in pgbaton.action (see
 * include/state_audit.h).
 */
#include "state_audit.h"

#include "log.h"
#include "sql_embed.h"
#include "sqlstate.h"
#include "strutil.h"
#include "xalloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool state_audit(db_conn *tgt, const char *name, const state_action *a)
{
    char ms[32], at[32];
    if (!isnan(a->ms))
        snprintf(ms, sizeof ms, "%.3f", a->ms);
    snprintf(at, sizeof at, "%.6f", a->at > 0 ? a->at : wall_now());
    char *detail = a->detail ? log_redact(a->detail) : NULL;
    const char *params[8] = {name,
                             db_side_name(a->server),
                             a->action,
                             a->object,
                             a->ok ? "ok" : "failed",
                             isnan(a->ms) ? NULL : ms,
                             detail,
                             at};
    db_res *r = db_exec(tgt, DB_QUIET, sql_state_action_add, 8, params);
    free(detail);
    if (!r) {
        log_warn("target: could not record \"%s%s%s\" in the audit trail (pgbaton.action): %s",
                 a->action, a->object ? " " : "", a->object ? a->object : "",
                 db_errtext(tgt, "no message"));
        return false;
    }
    db_res_free(r);
    return true;
}

bool state_auditf(db_conn *tgt, const char *name, db_side server, const char *action,
                  const char *object, bool ok, double ms, const char *fmt, ...)
{
    char *detail = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        detail = str_vprintf(fmt, ap);
        va_end(ap);
    }
    state_action a = {
        .server = server, .action = action, .object = object, .ok = ok, .ms = ms, .detail = detail};
    bool done = state_audit(tgt, name, &a);
    free(detail);
    return done;
}

static char *dup_opt(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void state_audit_queuef(state_audit_queue *q, db_side server, const char *action,
                        const char *object, bool ok, double ms, const char *fmt, ...)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? 2 * q->cap : 8;
        q->items = xrealloc(q->items, (size_t)q->cap * sizeof *q->items);
    }
    char *detail = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        detail = str_vprintf(fmt, ap);
        va_end(ap);
    }
    q->items[q->n++] = (state_action){.server = server,
                                      .action = xstrdup(action),
                                      .object = dup_opt(object),
                                      .ok = ok,
                                      .ms = ms,
                                      .detail = detail,
                                      .at = wall_now()};
}

void state_audit_queue_free(state_audit_queue *q)
{
    for (int i = 0; i < q->n; i++) {
        free((char *)q->items[i].action);
        free((char *)q->items[i].object);
        free((char *)q->items[i].detail);
    }
    free(q->items);
    *q = (state_audit_queue){0};
}

void state_audit_flush(state_audit_queue *q, db_conn *tgt, const char *name)
{
    for (int i = 0; tgt && i < q->n; i++)
        (void)state_audit(tgt, name, &q->items[i]);
    state_audit_queue_free(q);
}

static char *dup_or_null(const db_res *r, int row, int col)
{
    return db_isnull(r, row, col) ? NULL : xstrdup(db_val(r, row, col));
}

bool state_read_actions(db_conn *tgt, const char *name, state_action_row **rows, int *n)
{
    *rows = NULL;
    *n = 0;
    const char *params[1] = {name};
    db_res *r = db_exec(tgt, DB_QUIET, sql_state_actions_list, 1, params);
    if (!r && db_sqlstate_is(tgt, SQLSTATE_UNDEFINED_TABLE))
        return true; /* a state from before the audit trail: nothing recorded */
    if (!r)
        log_error("target: reading the audit trail: %s", db_errtext(tgt, "no message"));
    if (!r || !db_check_shape(tgt, r, 7, 0, "audit trail")) {
        db_res_free(r);
        return false;
    }
    *n = db_nrows(r);
    *rows = xcalloc((size_t)*n + 1, sizeof **rows);
    for (int i = 0; i < *n; i++) {
        state_action_row *a = &(*rows)[i];
        a->at = xstrdup(db_val(r, i, 0));
        a->server = xstrdup(db_val(r, i, 1));
        a->action = xstrdup(db_val(r, i, 2));
        a->object = dup_or_null(r, i, 3);
        a->outcome = xstrdup(db_val(r, i, 4));
        a->ms = db_isnull(r, i, 5) ? NAN : atof(db_val(r, i, 5));
        a->detail = dup_or_null(r, i, 6);
    }
    db_res_free(r);
    return true;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *state_actions_json(const state_action_row *rows, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        const state_action_row *r = &rows[i];
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:o}", "at", r->at, "server", r->server,
                         "action", r->action, "object", str_or_null(r->object), "outcome",
                         r->outcome, "duration_ms", isnan(r->ms) ? json_null() : json_real(r->ms),
                         "detail", str_or_null(r->detail)));
    }
    return a;
}

bool state_audit_forget(db_conn *tgt, const char *name)
{
    const char *params[1] = {name};
    return db_commandp(tgt, sql_state_actions_delete, 1, params);
}

void state_actions_free(state_action_row *rows, int n)
{
    for (int i = 0; i < n; i++) {
        free(rows[i].at);
        free(rows[i].server);
        free(rows[i].action);
        free(rows[i].object);
        free(rows[i].outcome);
        free(rows[i].detail);
    }
    free(rows);
}
