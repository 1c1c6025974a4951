/*
 * src/db_async.c — the asynchronous half of the protocol layer (db_async.h).
 */
#include "db_async.h"

#include "failpoint.h"
#include "xalloc.h"

#include <libpq-fe.h>
#include <stdlib.h>

/* The statement a failpoint's error-SIDE sends instead of the next one on
 * DB (include/failpoint.h), in BUF; NULL when none is armed. */
static const char *failing(const db_conn *db, char *buf, size_t n)
{
    return failpoint_error_sql(db->side == DB_SOURCE, buf, n);
}

bool db_send(db_conn *db, const char *sql, int nparams, const char *const *params)
{
    char fp[FAILPOINT_SQL_MAX];
    const char *fail = failing(db, fp, sizeof fp);
    if (fail)
        return PQsendQueryParams(db->pg, fail, 0, NULL, NULL, NULL, NULL, 0) == 1;
    return PQsendQueryParams(db->pg, sql, nparams, NULL, params, NULL, NULL, 0) == 1;
}

bool db_send_script(db_conn *db, const char *sql)
{
    char fp[FAILPOINT_SQL_MAX];
    const char *fail = failing(db, fp, sizeof fp);
    return PQsendQuery(db->pg, fail ? fail : sql) == 1;
}

bool db_send_prepare(db_conn *db, const char *name, const char *sql, int nparams)
{
    return PQsendPrepare(db->pg, name, sql, nparams, NULL) == 1;
}

bool db_send_prepared(db_conn *db, const char *name, int nparams, const char *const *params)
{
    char fp[FAILPOINT_SQL_MAX];
    const char *fail = failing(db, fp, sizeof fp);
    if (fail)
        return PQsendQueryParams(db->pg, fail, 0, NULL, NULL, NULL, NULL, 0) == 1;
    return PQsendQueryPrepared(db->pg, name, nparams, params, NULL, NULL, 0) == 1;
}

db_res *db_next_result(db_conn *db)
{
    return PQgetResult(db->pg);
}

db_res *db_wait_result(db_conn *db, db_errmode em)
{
    db_res *last = NULL, *res;
    while ((res = PQgetResult(db->pg)) != NULL) {
        PQclear(last);
        last = res;
    }
    if (last && db_res_status(last) == DB_RES_OK)
        return last;
    db_report(db, em, last, NULL);
    PQclear(last);
    return NULL;
}

bool db_pipeline_begin(db_conn *db)
{
    return PQenterPipelineMode(db->pg) == 1 && PQsetnonblocking(db->pg, 1) == 0;
}

bool db_pipeline_sync(db_conn *db)
{
    return PQpipelineSync(db->pg) == 1;
}

bool db_flush_request(db_conn *db)
{
    return PQsendFlushRequest(db->pg) == 1;
}

int db_flush(db_conn *db)
{
    return PQflush(db->pg);
}

bool db_consume(db_conn *db)
{
    return PQconsumeInput(db->pg) == 1;
}

bool db_busy(db_conn *db)
{
    return PQisBusy(db->pg) == 1;
}

int db_socket(const db_conn *db)
{
    return PQsocket(db->pg);
}

bool db_next_notification(db_conn *db, char **channel, char **payload)
{
    PGnotify *n = PQnotifies(db->pg);
    if (!n)
        return false;
    *channel = xstrdup(n->relname);
    *payload = xstrdup(n->extra ? n->extra : "");
    PQfreemem(n);
    return true;
}

bool db_copy_start(db_conn *db, db_errmode em, const char *sql, db_res_state want, const char *what)
{
    db_clear_error(db);
    char fp[FAILPOINT_SQL_MAX];
    const char *fail = failing(db, fp, sizeof fp);
    PGresult *res = PQexec(db->pg, fail ? fail : sql);
    bool ok = res && db_res_status(res) == want;
    if (!ok)
        db_report(db, em, res, what);
    PQclear(res);
    return ok;
}

bool db_copy_put(db_conn *db, const char *buf, int len)
{
    return PQputCopyData(db->pg, buf, len) == 1;
}

bool db_copy_end(db_conn *db, const char *abandon)
{
    return PQputCopyEnd(db->pg, abandon) == 1;
}

int db_copy_get(db_conn *db, char **buf, bool async)
{
    *buf = NULL;
    return PQgetCopyData(db->pg, buf, async ? 1 : 0);
}

void db_copy_free(char *buf)
{
    if (buf)
        PQfreemem(buf);
}
