/*
 * src/slot.c — create the wal2json slot with an exported snapshot.
 *
 * CREATE_REPLICATION_SLOT ... (SNAPSHOT 'export') returns the slot's
 * consistent point and a snapshot name. Every change committed after that
 * point is in the slot; everything committed before is in the snapshot. The
 * copy imports the snapshot and streaming starts at the consistent point, so
 * together they see each transaction exactly once. The snapshot lives until
 * the next command on the replication connection or its close: nothing else
 * is sent on it.
 */
#include "slot.h"

#include "log.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool slot_create_exported(const conninfo *src, const char *slot_name, slot_export *out)
{
    memset(out, 0, sizeof *out);
    db_connect_opts co = {.mode = DB_MODE_REPLICATION, .application_name = "pgbaton slot"};
    db_conn *repl = db_connect(src, DB_SOURCE, &co, NULL, NULL);
    if (!repl)
        return false;
    /* already pinned in the startup options; said again so that a server
     * or pooler ignoring options= cannot kill the exporting session */
    if (!db_command(repl, "SET statement_timeout = 0") ||
        !db_command(repl, "SET idle_in_transaction_session_timeout = 0")) {
        db_close(repl);
        return false;
    }
    char *qslot = db_quote_ident(slot_name);
    char sql[256];
    if (db_server_version(repl) >= 150000)
        snprintf(sql, sizeof sql, "CREATE_REPLICATION_SLOT %s LOGICAL wal2json (SNAPSHOT 'export')",
                 qslot);
    else
        snprintf(sql, sizeof sql, "CREATE_REPLICATION_SLOT %s LOGICAL wal2json EXPORT_SNAPSHOT",
                 qslot);
    free(qslot);
    PGresult *res = db_exec(repl, DB_LOG, sql, 0, NULL);
    if (!res) {
        log_error("could not create the replication slot \"%s\" on the source (see above)",
                  slot_name);
        db_close(repl);
        return false;
    }
    lsn_t lsn;
    if (!db_check_shape(repl, res, 4, 1, "CREATE_REPLICATION_SLOT") || PQgetisnull(res, 0, 2) ||
        !lsn_parse(PQgetvalue(res, 0, 1), &lsn)) {
        log_error("source: CREATE_REPLICATION_SLOT returned no snapshot or consistent point");
        PQclear(res);
        db_close(repl);
        return false;
    }
    out->repl = repl;
    out->slot_name = xstrdup(PQgetvalue(res, 0, 0));
    out->snapshot_name = xstrdup(PQgetvalue(res, 0, 2));
    out->consistent_lsn = lsn;
    PQclear(res);
    char buf[LSN_STRLEN];
    log_info("created slot %s on the source; snapshot %s, consistent point %s", out->slot_name,
             out->snapshot_name, lsn_format(lsn, buf, sizeof buf));
    return true;
}

void slot_close_export(slot_export *s)
{
    db_close(s->repl);
    free(s->slot_name);
    free(s->snapshot_name);
    memset(s, 0, sizeof *s);
}

bool slot_drop_if_exists(db_conn *src, const char *slot_name, bool *dropped)
{
    const char *params[] = {slot_name};
    PGresult *res = db_exec(src, DB_LOG,
                            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                            "WHERE slot_name = $1 AND database = current_database()",
                            1, params);
    if (!res) {
        log_error("could not drop the replication slot \"%s\" on the source: if it is in use, "
                  "stop the process using it first",
                  slot_name);
        return false;
    }
    if (dropped)
        *dropped = PQntuples(res) > 0;
    PQclear(res);
    return true;
}
