/*
 * src/state_audit.c — the audit trail in pgbaton.action (see
 * include/state_audit.h).
 */
#include "state_audit.h"

#include "log.h"
#include "sql_embed.h"
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

static char *dup_opt(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* Queue an action timed now, its detail printed from FMT (NULL: none). */
static void queue_v(state_audit_queue *q, db_side server, const char *action, const char *object,
                    bool ok, double ms, const char *fmt, va_list ap)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? 2 * q->cap : 8;
        q->items = xrealloc(q->items, (size_t)q->cap * sizeof *q->items);
    }
    q->items[q->n++] = (state_action){.server = server,
                                      .action = xstrdup(action),
                                      .object = dup_opt(object),
                                      .ok = ok,
                                      .ms = ms,
                                      .detail = fmt ? str_vprintf(fmt, ap) : NULL,
                                      .at = wall_now()};
}

void state_audit_queuef(state_audit_queue *q, db_side server, const char *action,
                        const char *object, bool ok, double ms, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    queue_v(q, server, action, object, ok, ms, fmt, ap);
    va_end(ap);
}

bool state_auditf(db_conn *tgt, const char *name, db_side server, const char *action,
                  const char *object, bool ok, double ms, const char *fmt, ...)
{
    state_audit_queue q = {0};
    va_list ap;
    va_start(ap, fmt);
    queue_v(&q, server, action, object, ok, ms, fmt, ap);
    va_end(ap);
    bool done = state_audit(tgt, name, &q.items[0]);
    state_audit_queue_free(&q);
    return done;
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

bool state_audit_forget(db_conn *tgt, const char *name)
{
    const char *params[1] = {name};
    return db_commandp(tgt, sql_state_actions_delete, 1, params);
}
