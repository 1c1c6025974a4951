/*
 * src/stream.c — the streaming phase: follow the slot and apply.
 *
 * How it works (the shape of pg_recvlogical's loop):
 *   stream_follow() is an outer loop that (re)connects; run_session() is
 *   one connection's life. A session opens the apply (target), reads the
 *   committed position from pgbaton.migration, connects to the source with
 *   replication=database (session settings pinned by db.c) and sends
 *   START_REPLICATION from that position (the last applied commit's
 *   nextlsn: a transaction whose commit starts before it is not sent
 *   again). Then: PQgetCopyData without waiting; each XLogData message is
 *   decoded (wal2json.c) and handed to the apply (apply.c) in order; a
 *   keepalive asking for a reply is answered at once; when nothing is
 *   ready, the apply may commit its batch and the loop select()s for at
 *   most 100 ms on the replication socket, the apply's socket and a third
 *   one: a target session that LISTENs on pgbaton_state (src/state.c, top
 *   of file), so that a change of the phase (cutover done, abort) or of
 *   verify's hold is read at once; a held stream waits on that session too.
 *   Standby status feedback (write = flush = apply = the position COMMITTED
 *   on the target, never more) goes out after commits and at least every
 *   5 s, well within wal_sender_timeout.
 *
 *   Connection losses on either side (server restart, pg_terminate_backend)
 *   end the session with RETRY: the uncommitted batch is dropped (the
 *   server sends it again from the committed position), the loop logs,
 *   waits 0.5 s doubling to 10 s, and reconnects, forever unless stopped.
 *   A rejected change or a schema difference ends with FATAL: the error is
 *   recorded as pgbaton.migration.last_error (the phase stays 'streaming'
 *   so that `pgbaton start` resumes once the cause is fixed) and as an
 *   event (level 'error', for `pgbaton report`), exit 1.
 *   SIGINT/SIGTERM: commit what is complete (or roll back a partial source
 *   transaction), send final feedback, exit 0. The phase becoming 'done'
 *   (cutover finished) stops the loop the same way.
 *
 *   Decoding: the slot's plugin decides (ctx->plugin). pgoutput (protocol
 *   version 1, text values, messages 'true' for the heartbeat and the
 *   fence, the migration's publication) goes through src/pgoutput.c, whose
 *   relation cache is emptied for each session; one Truncate message may
 *   give several changes. Either decoder fills the same change
 *   (include/change.h): nothing after this point knows the plugin.
 *
 *   wal2json options: format 2 with xids, timestamps, LSNs and type OIDs,
 *   without type names (include-types 0: printing them took a fifth of
 *   wal2json's decoding time on a pgbench stream; messages name types from
 *   their OIDs);
 *   numeric-data-types-as-string is tried first and dropped when the
 *   plugin rejects it (wal2json < 2.6); numbers are exact either way (see
 *   wal2json.c).
 */
#include "stream.h"

#include "apply.h"
#include "db.h"
#include "db_async.h"
#include "exitcode.h"
#include "heartbeat.h"
#include "log.h"
#include "mono.h"
#include "pgoutput.h"
#include "signals.h"
#include "sqlstate.h"
#include "state.h"
#include "wal2json.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#define FEEDBACK_MAX_S  5.0 /* wal_sender_timeout defaults to 60 s */
#define FEEDBACK_MIN_S  1.0 /* after a commit, at most this often */
#define BACKOFF_FIRST_S 0.5
#define BACKOFF_MAX_S   10.0
#define PG_EPOCH_OFFSET 946684800LL /* 2000-01-01 - 1970-01-01, seconds */
#define WAIT_MS         100
#define HOLD_RECHECK_S  1.0 /* held for verify: re-read the hold at least this often */

typedef enum session_end {
    SESSION_CONTINUE, /* internal: go on */
    SESSION_STOP,     /* stop requested: clean exit */
    SESSION_DONE,     /* the migration's phase is 'done' */
    SESSION_RETRY,    /* connection lost: reconnect */
    SESSION_REPLAY,   /* a grouped change was rejected: stream again, one by one */
    SESSION_FATAL,    /* stop with exit 1 */
} session_end;

typedef enum numeric_option {
    NUMERIC_UNKNOWN, /* not probed yet */
    NUMERIC_YES,     /* wal2json >= 2.6 */
    NUMERIC_NO,
} numeric_option;

typedef struct session {
    const stream_ctx *ctx;
    heartbeat *hb;
    apply_ctx *apply;
    db_conn *repl;
    db_conn *notice; /* target, LISTENs on STATE_CHANNEL: phase and hold changes */
    pgb_change change;
    pgo_decoder *pgo;     /* pgoutput's relation cache; NULL with wal2json */
    lsn_t fed_back;       /* last position sent as feedback */
    double last_feedback; /* monotonic seconds */
    numeric_option *numeric;
    bool streaming;        /* START_REPLICATION succeeded */
    lsn_t ungrouped_until; /* apply one change at a time until this is committed */
    char *fatal;           /* the error that stops the stream (owned), NULL until then */
} session;

/* Remember TEXT as the error that stops the stream (the first one wins). */
static void set_fatal(session *s, const char *text)
{
    if (!s->fatal && text)
        s->fatal = xstrdup(text);
}

/* The error that stops the stream, as an event for `pgbaton report`
 * (pgbaton.event, level 'error'), on a target session of its own: the
 * apply's sessions are closed by then. */
static void record_fatal_event(const stream_ctx *ctx, const char *text)
{
    db_connect_opts co = {
        .mode = DB_MODE_NORMAL, .application_name = "pgbaton stream", .errmode = DB_LOG};
    db_conn *db = db_connect(ctx->target, DB_TARGET, &co, NULL, NULL);
    if (!db) {
        log_warn("could not record an event in the target's pgbaton.event (see above)");
        return;
    }
    state_event(db, ctx->name, "error", text);
    db_close(db);
}

/* Microseconds since 2000-01-01 UTC (the protocol's clock). */
static int64_t pg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((int64_t)ts.tv_sec - PG_EPOCH_OFFSET) * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t get64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | (unsigned char)p[i];
    return v;
}

static void put64(char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (char)(v & 0xFF);
        v >>= 8;
    }
}

/* Standby status update: everything up to the committed position is
 * written, flushed and applied. */
static bool send_feedback(session *s, bool reply_requested)
{
    lsn_t pos = apply_committed_lsn(s->apply);
    char msg[34];
    msg[0] = 'r';
    put64(msg + 1, pos);
    put64(msg + 9, pos);
    put64(msg + 17, pos);
    put64(msg + 25, (uint64_t)pg_now());
    msg[33] = reply_requested ? 1 : 0;
    if (!db_copy_put(s->repl, msg, sizeof msg) || db_flush(s->repl) < 0) {
        db_report(s->repl, DB_QUIET, NULL, "sending feedback");
        return false;
    }
    s->fed_back = pos;
    s->last_feedback = mono_now();
    return true;
}

static bool feedback_if_due(session *s)
{
    double since = mono_now() - s->last_feedback;
    bool moved = apply_committed_lsn(s->apply) != s->fed_back;
    if (since >= FEEDBACK_MAX_S || (moved && since >= FEEDBACK_MIN_S))
        return send_feedback(s, false);
    return true;
}

static void build_start_command(const session *s, lsn_t start, bool numeric, char *out,
                                size_t outsz)
{
    char lsn[LSN_STRLEN];
    char *slot = db_quote_ident(s->ctx->slot_name);
    if (s->pgo) {
        /* publication_names is a list of identifiers in a string literal */
        char *ident = db_quote_ident(s->ctx->publication);
        char *names = db_quote_literal(ident);
        snprintf(out, outsz,
                 "START_REPLICATION SLOT %s LOGICAL %s (proto_version '1', publication_names %s, "
                 "messages 'true')",
                 slot, lsn_format(start, lsn, sizeof lsn), names);
        free(names);
        free(ident);
        free(slot);
        return;
    }
    snprintf(out, outsz,
             "START_REPLICATION SLOT %s LOGICAL %s (\"format-version\" '2', \"include-xids\" '1', "
             "\"include-timestamp\" '1', \"include-lsn\" '1', \"include-type-oids\" '1', "
             "\"include-types\" '0'%s)",
             slot, lsn_format(start, lsn, sizeof lsn),
             numeric ? ", \"numeric-data-types-as-string\" '1'" : "");
    free(slot);
}

/* Connect with replication=database and START_REPLICATION from START.
 * The first time, numeric-data-types-as-string is tried; when wal2json
 * rejects it (before 2.6: "option ... is unknown", invalid parameter
 * value), connect again without it. */
static session_end start_streaming(session *s, lsn_t start)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        /* pgoutput converts text to the session's client_encoding: the
         * source's own, as wal2json sends it */
        db_connect_opts co = {.mode = DB_MODE_REPLICATION,
                              .application_name = "pgbaton stream",
                              .errmode = DB_QUIET,
                              .client_encoding = s->ctx->source_encoding};
        char *err = NULL;
        s->repl = db_connect(s->ctx->source, DB_SOURCE, &co, NULL, &err);
        if (!s->repl) {
            log_warn("%s", err ? err : "cannot connect to the source");
            free(err);
            return SESSION_RETRY;
        }
        bool numeric = !s->pgo && *s->numeric != NUMERIC_NO;
        char cmd[1024];
        build_start_command(s, start, numeric, cmd, sizeof cmd);
        if (db_copy_start(s->repl, DB_QUIET, cmd, DB_RES_COPY_BOTH, "START_REPLICATION")) {
            if (s->pgo)
                return SESSION_CONTINUE;
            if (numeric && *s->numeric == NUMERIC_UNKNOWN)
                log_info("wal2json sends numbers as strings (numeric-data-types-as-string)");
            *s->numeric = numeric ? NUMERIC_YES : NUMERIC_NO;
            return SESSION_CONTINUE;
        }
        if (numeric && *s->numeric == NUMERIC_UNKNOWN &&
            db_sqlstate_is(s->repl, SQLSTATE_INVALID_PARAMETER_VALUE)) {
            log_info("wal2json has no numeric-data-types-as-string (version before 2.6): "
                     "numbers are read as the exact digits sent; NaN and Infinity "
                     "in numeric and float columns arrive as NULL");
            *s->numeric = NUMERIC_NO;
            db_close(s->repl);
            s->repl = NULL;
            continue;
        }
        if (db_sqlstate_is(s->repl, SQLSTATE_UNDEFINED_OBJECT)) {
            char text[1024];
            snprintf(text, sizeof text,
                     "source: the replication slot \"%s\" does not exist: %s; the changes "
                     "since the last applied position are gone with it, so this migration "
                     "cannot resume: run `pgbaton clean`, empty the target database, and "
                     "`pgbaton start` a new migration",
                     s->ctx->slot_name, s->repl->err.text);
            log_error("%s", text);
            apply_record_error(s->apply, text);
            set_fatal(s, text);
            return SESSION_FATAL;
        }
        log_warn("source: %s", db_errtext(s->repl, "START_REPLICATION failed"));
        return SESSION_RETRY;
    }
    return SESSION_RETRY;
}

static session_end fatal_decode(session *s, const char *err, const char *msg, int len)
{
    char text[512];
    if (s->pgo)
        snprintf(text, sizeof text,
                 "cannot decode a pgoutput message of type '%c' (%s); is the slot \"%s\" a "
                 "pgoutput slot?",
                 len > 0 && msg[0] > ' ' && msg[0] < 127 ? msg[0] : '?', err, s->ctx->slot_name);
    else
        snprintf(text, sizeof text,
                 "cannot decode a wal2json message (%s): %.120s%s; is the slot \"%s\" a wal2json "
                 "slot?",
                 err, msg, len > 120 ? "..." : "", s->ctx->slot_name);
    log_error("%s", text);
    apply_record_error(s->apply, text);
    set_fatal(s, text);
    return SESSION_FATAL;
}

static session_end from_apply(session *s, apply_status st)
{
    if (st == APPLY_OK)
        return SESSION_CONTINUE;
    if (st == APPLY_FATAL) {
        if (apply_error(s->apply))
            apply_record_error(s->apply, apply_error(s->apply));
        set_fatal(s, apply_error(s->apply));
        return SESSION_FATAL;
    }
    return st == APPLY_REPLAY ? SESSION_REPLAY : SESSION_RETRY;
}

static session_end wind_down(session *s, session_end why);

/* verify's hold (docs/verify.md): commit what is applied, report held_at,
 * and wait until verify lifts or moves the hold past C (NULL: the idle
 * stream), re-reporting held_at when it moves but still blocks. The
 * replication session stays alive on feedback; nothing is read from it
 * meanwhile, so C stays valid. */
static session_end hold(session *s, const pgb_change *c)
{
    session_end e = from_apply(s, apply_commit_held(s->apply));
    if (e != SESSION_CONTINUE)
        return e;
    lsn_t reported = apply_hold_lsn(s->apply);
    char buf[LSN_STRLEN];
    log_info("holding at %s for verify", lsn_format(reported, buf, sizeof buf));
    while (apply_hold_blocks(s->apply, c)) {
        if (signals_stop_requested())
            return wind_down(s, SESSION_STOP);
        /* woken by verify's change of the hold (or the phase) */
        if (state_wait(s->notice, s->ctx->name, HOLD_RECHECK_S) < 0)
            return SESSION_RETRY;
        if ((e = from_apply(s, apply_refresh_hold(s->apply))) != SESSION_CONTINUE)
            return e;
        if (apply_phase_done(s->apply))
            return wind_down(s, SESSION_DONE);
        if (!feedback_if_due(s))
            return SESSION_RETRY;
        if (apply_hold_lsn(s->apply) != reported && apply_hold_blocks(s->apply, c)) {
            if ((e = from_apply(s, apply_commit_held(s->apply))) != SESSION_CONTINUE)
                return e;
            reported = apply_hold_lsn(s->apply);
        }
    }
    log_info("hold lifted: applying again");
    return SESSION_CONTINUE;
}

/* One message of the CopyBoth stream. */
static session_end handle_copy_data(session *s, const char *buf, int len)
{
    if (len >= 18 && buf[0] == 'k') {
        /* keepalive: walEnd, sendTime, replyRequested */
        if (buf[17] && !send_feedback(s, false))
            return SESSION_RETRY;
        return SESSION_CONTINUE;
    }
    if (len < 25 || buf[0] != 'w') {
        log_warn("source: unexpected replication message of type '%c' ignored", buf[0]);
        return SESSION_CONTINUE;
    }
    const char *err = NULL;
    bool ok =
        s->pgo ? pgo_decode(s->pgo, &s->change, buf + 25, (size_t)(len - 25), get64(buf + 1), &err)
               : w2j_decode(&s->change, buf + 25, (size_t)(len - 25), &err);
    if (!ok)
        return fatal_decode(s, err, buf + 25, len - 25);
    do {
        if (s->change.kind == CHG_NONE)
            continue;
        if (apply_hold_blocks(s->apply, &s->change)) {
            session_end e = hold(s, &s->change);
            if (e != SESSION_CONTINUE)
                return e;
        }
        session_end e = from_apply(s, apply_change(s->apply, &s->change));
        if (e != SESSION_CONTINUE)
            return e;
    } while (s->pgo && pgo_next(s->pgo, &s->change));
    return SESSION_CONTINUE;
}

/* Nothing to read: commit if due, feedback if due, wait on both sockets. */
static session_end idle_wait(session *s)
{
    if (apply_hold_blocks(s->apply, NULL)) {
        /* after the hold, read at once what came meanwhile (verify's next
         * hold point may be in it), rather than wait on the socket */
        return hold(s, NULL);
    }
    session_end e = from_apply(s, apply_poll(s->apply, true));
    if (e != SESSION_CONTINUE)
        return e;
    if (!feedback_if_due(s))
        return SESSION_RETRY;
    int sfd = db_socket(s->repl), tfd = apply_socket(s->apply), nfd = db_socket(s->notice);
    if (sfd < 0 || tfd < 0 || nfd < 0)
        return SESSION_RETRY;
    fd_set rfds, wfds;
    FD_ZERO(&rfds);
    FD_ZERO(&wfds);
    FD_SET(sfd, &rfds);
    FD_SET(tfd, &rfds);
    FD_SET(nfd, &rfds);
    if (apply_wants_write(s->apply))
        FD_SET(tfd, &wfds);
    struct timeval tv = {0, WAIT_MS * 1000};
    int maxfd = sfd > tfd ? sfd : tfd;
    maxfd = nfd > maxfd ? nfd : maxfd;
    if (select(maxfd + 1, &rfds, &wfds, NULL, &tv) < 0 && errno != EINTR) {
        log_warn("select() failed: %s", strerror(errno));
        return SESSION_RETRY;
    }
    if (FD_ISSET(nfd, &rfds)) {
        /* the phase or the hold changed (cutover done, abort, verify):
         * learn it now rather than at the next commit */
        int got = state_wait(s->notice, s->ctx->name, 0);
        if (got < 0)
            return SESSION_RETRY;
        if (got > 0 && (e = from_apply(s, apply_refresh_hold(s->apply))) != SESSION_CONTINUE)
            return e;
    }
    if (FD_ISSET(sfd, &rfds) && !db_consume(s->repl)) {
        db_report(s->repl, DB_QUIET, NULL, "reading the replication stream");
        log_warn("source: %s", s->repl->err.text);
        return SESSION_RETRY;
    }
    return SESSION_CONTINUE;
}

/* Stop cleanly: finish the batch, tell the source. */
static session_end wind_down(session *s, session_end why)
{
    session_end e = from_apply(s, apply_finish(s->apply));
    if (e != SESSION_CONTINUE)
        return e;
    if (!send_feedback(s, false))
        log_warn("source: could not send the final feedback (the position is saved on the "
                 "target; nothing is lost)");
    return why;
}

static session_end stream_loop(session *s)
{
    long since_poll = 0;
    for (;;) {
        if (signals_stop_requested())
            return wind_down(s, SESSION_STOP);
        if (apply_phase_done(s->apply))
            return wind_down(s, SESSION_DONE);
        apply_set_source_lsn(s->apply, heartbeat_source_lsn(s->hb));
        char *buf = NULL;
        int n = db_copy_get(s->repl, &buf, true);
        session_end e;
        if (n > 0) {
            e = handle_copy_data(s, buf, n);
            db_copy_free(buf);
            if (e == SESSION_CONTINUE && ++since_poll >= 256) {
                since_poll = 0;
                e = from_apply(s, apply_poll(s->apply, false));
                if (e == SESSION_CONTINUE && !feedback_if_due(s))
                    e = SESSION_RETRY;
            }
        } else if (n == DB_COPY_WAIT) {
            e = idle_wait(s);
        } else {
            db_res *r = db_next_result(s->repl);
            db_report(s->repl, DB_QUIET, r, "the replication stream");
            db_res_free(r);
            log_warn("source: the replication stream ended: %s",
                     db_errtext(s->repl, "connection closed"));
            e = SESSION_RETRY;
        }
        if (e != SESSION_CONTINUE)
            return e;
    }
}

/* The target session on which the stream hears of phase and hold changes
 * (src/state.c, top of file). False when it cannot be opened (logged). */
static bool open_notice(session *s)
{
    db_connect_opts co = {
        .mode = DB_MODE_NORMAL, .application_name = "pgbaton stream", .errmode = DB_LOG};
    s->notice = db_connect(s->ctx->target, DB_TARGET, &co, NULL, NULL);
    return s->notice && state_listen(s->notice);
}

static session_end run_session(session *s)
{
    apply_opts ao = {.migration = s->ctx->name,
                     .selected = s->ctx->selected,
                     .selected_arg = s->ctx->selected_arg,
                     .target = s->ctx->target,
                     .source_encoding = s->ctx->source_encoding,
                     .ungrouped_until = &s->ungrouped_until};
    apply_status ast;
    s->apply = apply_open(&ao, &ast);
    if (!s->apply) {
        if (ast == APPLY_FATAL)
            set_fatal(s, "the apply could not start on the target (see pgbaton's messages)");
        return ast == APPLY_FATAL ? SESSION_FATAL : SESSION_RETRY;
    }
    if (apply_phase_done(s->apply))
        return SESSION_DONE;
    lsn_t start = apply_committed_lsn(s->apply);
    if (start == LSN_INVALID)
        start = s->ctx->start_lsn;
    if (s->pgo)
        pgo_reset(s->pgo); /* a new session names its relations again */
    if (!open_notice(s))
        return SESSION_RETRY;
    session_end e = start_streaming(s, start);
    if (e != SESSION_CONTINUE)
        return e;
    s->streaming = true;
    char lsn[LSN_STRLEN];
    log_info("streaming changes from slot \"%s\" (%s) from %s", s->ctx->slot_name,
             s->pgo ? "pgoutput" : "wal2json", lsn_format(start, lsn, sizeof lsn));
    s->fed_back = LSN_INVALID;
    s->last_feedback = 0;
    if (!send_feedback(s, false))
        return SESSION_RETRY;
    return stream_loop(s);
}

static void end_session(session *s)
{
    db_close(s->notice);
    s->notice = NULL;
    if (s->repl) {
        if (db_alive(s->repl) && s->streaming)
            (void)db_copy_end(s->repl, NULL);
        db_close(s->repl);
    }
    apply_close(s->apply);
    s->repl = NULL;
    s->apply = NULL;
    s->streaming = false;
}

static void sleep_interruptible(double seconds)
{
    double until = mono_now() + seconds;
    while (!signals_stop_requested() && mono_now() < until) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* The committed position, read back for the closing line. */
static void final_line(const stream_ctx *ctx, lsn_t pos)
{
    char lsn[LSN_STRLEN];
    lsn_format(pos != LSN_INVALID ? pos : ctx->start_lsn, lsn, sizeof lsn);
    log_info("stopped; run `pgbaton start` again to resume from %s", lsn);
}

int stream_follow(const stream_ctx *ctx)
{
    numeric_option numeric = NUMERIC_UNKNOWN;
    session s = {.ctx = ctx, .numeric = &numeric};
    if (ctx->plugin && strcmp(ctx->plugin, "pgoutput") == 0)
        s.pgo = pgo_new();
    s.hb = heartbeat_start(ctx->source, ctx->name);
    double backoff = BACKOFF_FIRST_S;
    lsn_t last = LSN_INVALID;
    int rc = EXIT_OK;
    for (;;) {
        session_end e = run_session(&s);
        if (s.apply)
            last = apply_committed_lsn(s.apply);
        bool streamed = s.streaming;
        end_session(&s);
        if (e == SESSION_RETRY && signals_stop_requested())
            e = SESSION_STOP;
        if (e == SESSION_STOP) {
            final_line(ctx, last);
            break;
        }
        if (e == SESSION_DONE) {
            log_info("the migration is no longer streaming (cut over, or stopped by abort): "
                     "streaming stopped");
            break;
        }
        if (e == SESSION_FATAL) {
            record_fatal_event(ctx, s.fatal ? s.fatal : "streaming stopped on an error");
            rc = EXIT_FAILURE_RUNTIME;
            break;
        }
        if (e == SESSION_REPLAY) {
            log_info("streaming again from the committed position, one change at a time");
            continue;
        }
        if (streamed)
            backoff = BACKOFF_FIRST_S;
        log_warn("reconnecting in %.1f s", backoff);
        sleep_interruptible(backoff);
        backoff = backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : backoff * 2;
        if (signals_stop_requested()) {
            final_line(ctx, last);
            break;
        }
        log_info("reconnecting to the source and the target");
    }
    heartbeat_stop(s.hb);
    change_free(&s.change);
    pgo_free(s.pgo);
    free(s.fatal);
    return rc;
}
