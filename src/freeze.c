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
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool freeze_session_writable(db_conn *src)
{
    return db_command(src, "SET default_transaction_read_only = off");
}

bool freeze_read_prev(db_conn *src, char **database, char **prev)
{
    *database = *prev = NULL;
    PGresult *r = db_exec(src, DB_LOG, sql_freeze_prev, 0, NULL);
    if (!r || !db_check_shape(src, r, 2, 1, "database read-only setting")) {
        PQclear(r);
        return false;
    }
    *database = xstrdup(PQgetvalue(r, 0, 0));
    *prev = PQgetisnull(r, 0, 1) ? NULL : xstrdup(PQgetvalue(r, 0, 1));
    PQclear(r);
    return true;
}

static bool alter_database(db_conn *src, const char *database, const char *clause)
{
    char *qdb = db_quote_ident(database);
    size_t n = strlen(qdb) + strlen(clause) + 64;
    char *sql = xmalloc(n);
    snprintf(sql, n, "ALTER DATABASE %s %s", qdb, clause);
    bool ok = db_command(src, sql);
    free(sql);
    free(qdb);
    return ok;
}

/* End the other client sessions that started before FROZEN_EPOCH; repeat
 * until none is left or the deadline passes. */
static bool end_sessions(db_conn *src, const char *frozen_epoch, double deadline)
{
    const char *params[1] = {frozen_epoch};
    long total = 0;
    for (;;) {
        PGresult *r = db_exec(src, DB_LOG, sql_freeze_terminate, 1, params);
        if (!r || !db_check_shape(src, r, 2, 1, "ending sessions")) {
            PQclear(r);
            return false;
        }
        long remaining = strtol(PQgetvalue(r, 0, 0), NULL, 10);
        total += strtol(PQgetvalue(r, 0, 1), NULL, 10);
        PQclear(r);
        if (remaining == 0)
            break;
        if (mono_now() > deadline) {
            log_error("source: %ld client session(s) did not end in time after "
                      "pg_terminate_backend",
                      remaining);
            return false;
        }
        struct timespec ts = {.tv_nsec = 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    log_info("source: ended %ld client session(s) that could still write", total);
    return true;
}

bool freeze_apply(db_conn *src, const char *database, double timeout)
{
    double deadline = mono_now() + timeout;
    if (!freeze_session_writable(src) ||
        !alter_database(src, database, "SET default_transaction_read_only = on"))
        return false;
    char *epoch =
        db_scalar(src, "SELECT extract(epoch FROM clock_timestamp())::text", 0, NULL, NULL);
    if (!epoch)
        return false;
    bool ok = end_sessions(src, epoch, deadline);
    free(epoch);
    return ok;
}

bool freeze_undo(db_conn *src, const char *database, const char *prev)
{
    if (!freeze_session_writable(src))
        return false;
    if (!prev)
        return alter_database(src, database, "RESET default_transaction_read_only");
    char *lit = db_quote_literal(prev);
    char clause[128];
    snprintf(clause, sizeof clause, "SET default_transaction_read_only = %s", lit);
    free(lit);
    return alter_database(src, database, clause);
}

char *freeze_undo_sql(const char *database, const char *prev)
{
    char *qdb = db_quote_ident(database);
    char *lit = prev ? db_quote_literal(prev) : NULL;
    size_t n = strlen(qdb) + (lit ? strlen(lit) : 0) + 96;
    char *sql = xmalloc(n);
    if (lit)
        snprintf(sql, n, "ALTER DATABASE %s SET default_transaction_read_only = %s", qdb, lit);
    else
        snprintf(sql, n, "ALTER DATABASE %s RESET default_transaction_read_only", qdb);
    free(qdb);
    free(lit);
    return sql;
}
