/*
 * src/freeze.c — freeze and unfreeze the source database (see
 * include/freeze.h for the story).
 *
 * Why end sessions, not only change the default: ALTER DATABASE ... SET only
 * affects sessions that start afterwards; a session that was open keeps its
 * writable default. A session whose backend started before the setting was
 * committed may have read the old value, so every such session is ended;
 * backends started after it read the new one.
 */
#include "freeze.h"

#include "log.h"
#include "mono.h"
#include "sql_embed.h"
#include "sqlstate.h"
#include "strutil.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Set *WHY (when WHY is not NULL) to a new string (printf-style). Always
 * returns false. */
static bool set_why(char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool set_why(char **why, const char *fmt, ...)
{
    if (!why)
        return false;
    va_list ap;
    va_start(ap, fmt);
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(*why);
    *why = xstrdup(buf);
    return false;
}

/* Stand-in for the last error when the query ran but its answer had the
 * wrong shape (db_check_shape logged that). */
#define NO_ERROR_TEXT "unexpected answer from the server"

static void clear_why(char **why)
{
    if (why)
        *why = NULL;
}

bool freeze_session_writable(db_conn *src, char **why)
{
    clear_why(why);
    if (db_command(src, "SET default_transaction_read_only = off"))
        return true;
    return set_why(why, "source: cannot make pgbaton's own session writable: %s",
                   db_errtext(src, NO_ERROR_TEXT));
}

bool freeze_read_prev(db_conn *src, char **database, char **prev, char **why)
{
    clear_why(why);
    *database = *prev = NULL;
    db_res *r = db_exec(src, DB_LOG, sql_freeze_prev, 0, NULL);
    if (!r || !db_check_shape(src, r, 2, 1, "database read-only setting")) {
        db_res_free(r);
        return set_why(why,
                       "source: cannot read the database's default_transaction_read_only "
                       "setting (needed to restore it after the cutover): %s",
                       db_errtext(src, NO_ERROR_TEXT));
    }
    *database = xstrdup(db_val(r, 0, 0));
    *prev = db_isnull(r, 0, 1) ? NULL : xstrdup(db_val(r, 0, 1));
    db_res_free(r);
    return true;
}

static bool alter_database(db_conn *src, const char *database, const char *clause)
{
    char *qdb = db_quote_ident(database);
    char *sql = str_printf("ALTER DATABASE %s %s", qdb, clause);
    bool ok = db_command(src, sql);
    free(sql);
    free(qdb);
    return ok;
}

/* End the other client sessions that started before FROZEN_EPOCH; repeat
 * until none is left or the deadline passes. */
static bool end_sessions(db_conn *src, const char *frozen_epoch, double deadline, long *ended,
                         char **why)
{
    const char *params[1] = {frozen_epoch};
    long total = 0;
    *ended = 0;
    for (;;) {
        db_res *r = db_exec(src, DB_LOG, sql_freeze_terminate, 1, params);
        if (!r || !db_check_shape(src, r, 2, 1, "ending sessions")) {
            db_res_free(r);
            if (db_sqlstate_is(src, SQLSTATE_INSUFFICIENT_PRIVILEGE))
                return set_why(why,
                               "source: cannot end the other sessions of the database: %s; "
                               "grant pg_signal_backend to the role pgbaton connects as "
                               "(superusers' sessions can only be ended by a superuser)",
                               db_errtext(src, NO_ERROR_TEXT));
            return set_why(why, "source: cannot end the other sessions of the database: %s",
                           db_errtext(src, NO_ERROR_TEXT));
        }
        long remaining = strtol(db_val(r, 0, 0), NULL, 10);
        total += strtol(db_val(r, 0, 1), NULL, 10);
        *ended = total;
        db_res_free(r);
        if (remaining == 0)
            break;
        if (mono_now() > deadline) {
            log_error("source: %ld client session(s) did not end in time after "
                      "pg_terminate_backend",
                      remaining);
            return set_why(why,
                           "source: %ld client session(s) that could still write did not end "
                           "in time after pg_terminate_backend; find them in pg_stat_activity "
                           "and end them, or give the cutover a longer --timeout",
                           remaining);
        }
        /* the sessions were signalled; their backends exit on their own,
         * within a few ms (this wait is part of the write-unavailable
         * window; pg_terminate_backend's own wait polls every 100 ms) */
        struct timespec ts = {.tv_nsec = 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    log_info("source: ended %ld client session(s) that could still write", total);
    return true;
}

bool freeze_apply(db_conn *src, const char *database, double timeout, long *ended, char **why)
{
    long ignored;
    if (!ended)
        ended = &ignored;
    *ended = 0;
    clear_why(why);
    double deadline = mono_now() + timeout;
    if (!freeze_session_writable(src, why))
        return false;
    if (!alter_database(src, database, "SET default_transaction_read_only = on")) {
        if (db_sqlstate_is(src, SQLSTATE_INSUFFICIENT_PRIVILEGE))
            return set_why(why,
                           "source: cannot make database %s read-only: %s; the role pgbaton "
                           "connects as must own the database or be a superuser",
                           database, db_errtext(src, NO_ERROR_TEXT));
        return set_why(why, "source: cannot make database %s read-only: %s", database,
                       db_errtext(src, NO_ERROR_TEXT));
    }
    char *epoch =
        db_scalar(src, "SELECT extract(epoch FROM clock_timestamp())::text", 0, NULL, NULL);
    if (!epoch)
        return set_why(why, "source: cannot read the server's clock to end older sessions: %s",
                       db_errtext(src, NO_ERROR_TEXT));
    bool ok = end_sessions(src, epoch, deadline, ended, why);
    free(epoch);
    return ok;
}

bool freeze_in_effect(db_conn *src, const char *database, bool *on)
{
    const char *params[1] = {database};
    char *v = db_scalar(src, sql_freeze_in_effect, 1, params, NULL);
    if (!v)
        return false;
    *on = strcmp(v, "true") == 0;
    free(v);
    return true;
}

bool freeze_undo(db_conn *src, const char *database, const char *prev, char **why)
{
    clear_why(why);
    if (!freeze_session_writable(src, why))
        return false;
    char *clause = NULL;
    if (prev) {
        char *lit = db_quote_literal(prev);
        clause = str_printf("SET default_transaction_read_only = %s", lit);
        free(lit);
    }
    bool ok =
        alter_database(src, database, clause ? clause : "RESET default_transaction_read_only");
    free(clause);
    if (ok)
        return true;
    char *undo = freeze_undo_sql(database, prev);
    set_why(why,
            "source: cannot restore default_transaction_read_only of database %s: %s; run "
            "`pgbaton abort`, or as the database owner: %s",
            database, db_errtext(src, NO_ERROR_TEXT), undo);
    free(undo);
    return false;
}

char *freeze_undo_sql(const char *database, const char *prev)
{
    char *qdb = db_quote_ident(database);
    char *lit = prev ? db_quote_literal(prev) : NULL;
    char *sql =
        lit ? str_printf("ALTER DATABASE %s SET default_transaction_read_only = %s", qdb, lit)
            : str_printf("ALTER DATABASE %s RESET default_transaction_read_only", qdb);
    free(qdb);
    free(lit);
    return sql;
}
