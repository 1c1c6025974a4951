/*
 * include/state_audit.h — the audit trail: every action pgbaton takes on
 * either server (a slot created, a table copied, the freeze, ...), recorded
 * with its time, server and outcome in pgbaton.action on the target, and
 * read back for `report` ("Actions") and `status --events` (state_read.h:
 * state_read_actions).
 *
 * A record is written on a target session the caller holds, in its own
 * statement (autocommit) unless the caller is inside a transaction, where
 * it then commits or rolls back with the action it describes. Recording
 * never fails the action: a record that cannot be written is a WARN. Its
 * time is taken on pgbaton's clock when the action ends; the cutover queues
 * the records of its write-unavailable window (state_audit_queue) and
 * writes them after it, so that recording adds no round trip there.
 */
#ifndef PGBATON_STATE_AUDIT_H
#define PGBATON_STATE_AUDIT_H

#include "db.h"

#include <stdbool.h>

/* One action as it is recorded. */
typedef struct state_action {
    db_side server;     /* where it acted */
    const char *action; /* what was done: "slot created", "table copied", ... */
    const char *object; /* what it was done to, or NULL */
    bool ok;            /* the outcome */
    double ms;          /* how long it took; NAN when not timed */
    const char *detail; /* rows, bytes, sessions ended, the error; NULL: none */
    double at;          /* when (epoch seconds, CLOCK_REALTIME); 0: now */
} state_action;

/* Record A for migration NAME on TGT (the state's session). False when the
 * record could not be written (logged as a WARN). The detail is redacted
 * here. */
bool state_audit(db_conn *tgt, const char *name, const state_action *a);

/* The same, the detail built with printf. */
bool state_auditf(db_conn *tgt, const char *name, db_side server, const char *action,
                  const char *object, bool ok, double ms, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

/* Records kept to be written later, in order. A zeroed queue is empty. */
typedef struct state_audit_queue {
    state_action *items; /* owned, with their strings */
    int n, cap;
} state_audit_queue;

/* Queue the action (printf detail; FMT may be NULL), timed now. */
void state_audit_queuef(state_audit_queue *q, db_side server, const char *action,
                        const char *object, bool ok, double ms, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* Write the queued records on TGT and empty Q (records that cannot be
 * written are dropped with a WARN each). */
void state_audit_flush(state_audit_queue *q, db_conn *tgt, const char *name);
/* Empty Q without writing. */
void state_audit_queue_free(state_audit_queue *q);

/* clean: remove migration NAME's records. */
bool state_audit_forget(db_conn *tgt, const char *name) __attribute__((warn_unused_result));

#endif
