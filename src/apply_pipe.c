/*
 * src/apply_pipe.c — the applier's pipeline on the apply session (see the
 * top of src/apply.c): every command sent pushes the result it expects on
 * a ring (QUEUE_CAP); results are read whenever the socket has some, so
 * neither side blocks on a full buffer. Failures: the first one is kept
 * (apply_fail); a lost connection or a transient SQLSTATE is APPLY_RETRY, a
 * rejected change APPLY_FATAL, a rejected grouped statement APPLY_REPLAY.
 */
#include "apply_internal.h"

#include "db_async.h"
#include "log.h"
#include "mono.h"
#include "sqlstate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

/* ---------------------------------------------------------------------- */
/* failures                                                                */

apply_status apply_fail(apply_ctx *a, apply_status st, const char *fmt, ...)
{
    if (a->failure != APPLY_OK)
        return a->failure; /* keep the first */
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    a->failure = st;
    free(a->error);
    a->error = log_redact(buf);
    if (st == APPLY_FATAL)
        log_error("%s", a->error);
    else
        log_warn("%s", a->error);
    return st;
}

/* Errors that go away with a new connection (or a retry of the batch). */
static bool sqlstate_transient(const char *s)
{
    if (!s)
        return false;
    return strncmp(s, SQLSTATE_CLASS_CONNECTION, 2) == 0 ||
           strcmp(s, SQLSTATE_ADMIN_SHUTDOWN) == 0 || strcmp(s, SQLSTATE_CRASH_SHUTDOWN) == 0 ||
           strcmp(s, SQLSTATE_CANNOT_CONNECT_NOW) == 0 ||
           strcmp(s, SQLSTATE_SERIALIZATION_FAILURE) == 0 ||
           strcmp(s, SQLSTATE_DEADLOCK_DETECTED) == 0;
}

apply_status apply_conn_lost(apply_ctx *a, const char *what)
{
    db_report(a->db, DB_QUIET, NULL, NULL);
    return apply_fail(a, APPLY_RETRY, "target: connection lost while %s: %s", what,
                      db_errtext(a->db, "no message"));
}

/* ---------------------------------------------------------------------- */
/* the queue of expected results                                           */

pending *apply_queue_push(apply_ctx *a, pend_kind kind)
{
    pending *p = &a->queue[(a->qhead + a->qlen) % QUEUE_CAP];
    a->qlen++;
    p->kind = kind;
    p->expect = -1;
    p->grouped = false;
    p->got = false;
    p->lsn = LSN_INVALID;
    p->changes = p->txns = 0;
    p->desc[0] = '\0';
    return p;
}

static void queue_pop(apply_ctx *a)
{
    a->qhead = (a->qhead + 1) % QUEUE_CAP;
    a->qlen--;
}

/* A grouped statement failed: roll back, and stream the batch again one
 * change at a time up to the last change seen, so that the error names the
 * change (apply.h, APPLY_REPLAY). */
static void fail_grouped(apply_ctx *a, const pending *p, const char *why)
{
    if (a->opts.ungrouped_until && *a->opts.ungrouped_until < a->seen_lsn)
        *a->opts.ungrouped_until = a->seen_lsn;
    apply_fail(a, APPLY_REPLAY,
               "target rejected %s: %s; nothing of this batch was committed: applying it again one "
               "change at a time to name the change it rejects",
               p->desc, why);
}

static void handle_error_result(apply_ctx *a, const pending *p, const db_res *r)
{
    db_report(a->db, DB_QUIET, r, NULL);
    const char *state = a->db->err.sqlstate[0] ? a->db->err.sqlstate : NULL;
    /* the primary message only: DETAIL may hold a whole row's values */
    const char *prim = a->db->err.message ? a->db->err.message : "no message";
    if (sqlstate_transient(state) || !db_alive(a->db)) {
        apply_fail(a, APPLY_RETRY, "target: %s (SQLSTATE %s) while applying %s", prim,
                   state ? state : "none", p->desc);
        return;
    }
    if (p->grouped && a->opts.ungrouped_until) {
        char why[600];
        snprintf(why, sizeof why, "%s (SQLSTATE %s)", prim, state ? state : "none");
        fail_grouped(a, p, why);
        return;
    }
    apply_fail(a, APPLY_FATAL,
               "target rejected %s: %s (SQLSTATE %s); nothing of this batch was committed and the "
               "position was not advanced: fix the cause on the target, then run `pgbaton start` "
               "again",
               p->desc, prim, state ? state : "none");
}

static void handle_result(apply_ctx *a, pending *p, db_res *r)
{
    db_res_state st = db_res_status(r);
    p->got = true;
    if (st == DB_RES_PIPELINE_ABORTED)
        return; /* an earlier error was recorded */
    if (st != DB_RES_OK) {
        handle_error_result(a, p, r);
        return;
    }
    if (p->kind == PEND_POSITION) {
        apply_position_result(a, r);
    } else if (p->expect >= 0 && db_cmd_rows(r) != p->expect) {
        if (p->grouped && a->opts.ungrouped_until) {
            char why[100];
            snprintf(why, sizeof why, "it affected %lld rows instead of %ld", db_cmd_rows(r),
                     p->expect);
            fail_grouped(a, p, why);
            return;
        }
        apply_fail(
            a, APPLY_FATAL,
            "target: %s affected %lld rows instead of 1: the target has diverged from the source "
            "(was the row changed or deleted on the target?); fix the row on the target, then "
            "run `pgbaton start` again",
            p->desc, db_cmd_rows(r));
    }
}

static void handle_sync(apply_ctx *a, const pending *p)
{
    if (a->failure != APPLY_OK)
        return;
    if (p->lsn > a->committed_lsn)
        a->committed_lsn = p->lsn;
    a->last_commit = a->last_alive = mono_now();
}

/* ---------------------------------------------------------------------- */
/* sending and reading                                                     */

/* Wait up to MS for the apply socket to be readable (or writable when
 * output is pending). False when the socket is gone. */
static bool wait_socket(apply_ctx *a, int ms)
{
    apply_refresh_alive(a);
    int fd = db_socket(a->db);
    if (fd < 0)
        return false;
    fd_set rfds, wfds;
    FD_ZERO(&rfds);
    FD_ZERO(&wfds);
    FD_SET(fd, &rfds);
    if (db_flush(a->db) == 1)
        FD_SET(fd, &wfds);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return select(fd + 1, &rfds, &wfds, NULL, &tv) >= 0 || errno == EINTR;
}

/* Read every result available; with BLOCK, wait until the queue is empty. */
apply_status apply_read_results(apply_ctx *a, bool block)
{
    db_conn *pg = a->db;
    if (db_flush(pg) < 0)
        return apply_conn_lost(a, "sending");
    if (a->qlen == 0 && !block) {
        /* nothing expected: notice a session the server has ended */
        if (!db_consume(pg) || !db_alive(pg))
            return apply_conn_lost(a, "idle");
        return a->failure;
    }
    while (a->qlen > 0) {
        if (db_busy(pg)) {
            if (db_flush(pg) < 0)
                return apply_conn_lost(a, "sending");
            if (!db_consume(pg))
                return apply_conn_lost(a, "reading results");
            if (db_busy(pg)) {
                if (!block)
                    break;
                if (!wait_socket(a, 1000))
                    return apply_conn_lost(a, "waiting for results");
                continue;
            }
        }
        pending *p = &a->queue[a->qhead];
        db_res *r = db_next_result(pg);
        if (p->kind == PEND_SYNC) {
            if (!r)
                return apply_conn_lost(a, "reading results");
            if (db_res_status(r) == DB_RES_PIPELINE_SYNC)
                handle_sync(a, p);
            else if (db_res_status(r) == DB_RES_ERROR)
                handle_error_result(a, p, r);
            db_res_free(r);
            if (a->failure == APPLY_RETRY && !db_alive(pg))
                return a->failure;
            queue_pop(a);
            continue;
        }
        if (!r) {
            if (p->got) {
                queue_pop(a);
                continue;
            }
            if (!db_alive(pg))
                return apply_conn_lost(a, "reading results");
            continue;
        }
        handle_result(a, p, r);
        db_res_free(r);
        if (!db_alive(pg))
            return apply_conn_lost(a, "reading results");
    }
    return a->failure;
}

/* Room for one more command: read results while the queue is full. */
apply_status apply_make_room(apply_ctx *a)
{
    while (a->qlen >= QUEUE_CAP - 8) {
        apply_status st = apply_read_results(a, false);
        if (st != APPLY_OK)
            return st;
        if (a->qlen < QUEUE_CAP - 8)
            break;
        /* results wait in the server's buffer until a sync or a flush
         * request: ask for them */
        if (!db_flush_request(a->db) || db_flush(a->db) < 0)
            return apply_conn_lost(a, "asking for results");
        if (!wait_socket(a, 100))
            return apply_conn_lost(a, "waiting for results");
    }
    return a->failure;
}

apply_status apply_send_cmd(apply_ctx *a, const char *sql, const char *desc)
{
    apply_status st = apply_make_room(a);
    if (st != APPLY_OK)
        return st;
    if (!db_send(a->db, sql, 0, NULL))
        return apply_conn_lost(a, "sending a command");
    pending *p = apply_queue_push(a, PEND_CMD);
    snprintf(p->desc, sizeof p->desc, "%s", desc);
    return APPLY_OK;
}

apply_status apply_send_change(apply_ctx *a, apply_table *t, const apply_shape *s,
                               const pgb_change *c, const pgb_column *keycols, int nkeycols,
                               const int *keymap)
{
    apply_stmt *st = apply_stmt_get(a, t, s);
    if (!st)
        return a->failure ? a->failure : APPLY_RETRY;
    if (apply_make_room(a) != APPLY_OK)
        return a->failure;
    if (!db_send_prepared(a->db, st->name, s->nset + s->nwhere, a->params))
        return apply_conn_lost(a, "sending a change");
    pending *p = apply_queue_push(a, PEND_CHANGE);
    p->expect = s->op != APPLY_OP_INSERT ? 1 : -1;
    apply_describe_change(t, c->kind, keycols, nkeycols, keymap, p->desc, sizeof p->desc);
    count_change(a);
    return APPLY_OK;
}

/* Is a result with a row count to check still unread? */
bool apply_counts_unchecked(const apply_ctx *a)
{
    for (int i = 0; i < a->qlen; i++) {
        const pending *p = &a->queue[(a->qhead + i) % QUEUE_CAP];
        if (p->kind == PEND_CHANGE && p->expect >= 0 && !p->got)
            return true;
    }
    return false;
}
