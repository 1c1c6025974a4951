/*
 * src/slot.c — the logical slot with an exported snapshot, and pgoutput's
 * publication.
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
#include "strutil.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool slot_create_exported(const conninfo *src, const char *slot_name, const char *plugin,
                          slot_export *out)
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
        snprintf(sql, sizeof sql, "CREATE_REPLICATION_SLOT %s LOGICAL %s (SNAPSHOT 'export')",
                 qslot, plugin);
    else
        snprintf(sql, sizeof sql, "CREATE_REPLICATION_SLOT %s LOGICAL %s EXPORT_SNAPSHOT", qslot,
                 plugin);
    free(qslot);
    db_res *res = db_exec(repl, DB_LOG, sql, 0, NULL);
    if (!res) {
        log_error("could not create the replication slot \"%s\" on the source (see above)",
                  slot_name);
        db_close(repl);
        return false;
    }
    lsn_t lsn;
    if (!db_check_shape(repl, res, 4, 1, "CREATE_REPLICATION_SLOT") || db_isnull(res, 0, 2) ||
        !lsn_parse(db_val(res, 0, 1), &lsn)) {
        log_error("source: CREATE_REPLICATION_SLOT returned no snapshot or consistent point");
        db_res_free(res);
        db_close(repl);
        return false;
    }
    out->repl = repl;
    out->slot_name = xstrdup(db_val(res, 0, 0));
    out->snapshot_name = xstrdup(db_val(res, 0, 2));
    out->consistent_lsn = lsn;
    db_res_free(res);
    char buf[LSN_STRLEN];
    log_info("created slot %s (%s) on the source; snapshot %s, consistent point %s", out->slot_name,
             plugin, out->snapshot_name, lsn_format(lsn, buf, sizeof buf));
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
    db_res *res = db_exec(src, DB_LOG,
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
        *dropped = db_nrows(res) > 0;
    db_res_free(res);
    return true;
}

bool slot_publication_create(db_conn *src, const char *name, bool all_tables,
                             const char *const *schemas, const char *const *tables, int ntables)
{
    char *qname = db_quote_ident(name);
    char *mark = str_printf("pgbaton migration %s", name);
    char *qmark = db_quote_literal(mark);
    size_t cap = 128 + 2 * strlen(qname) + strlen(qmark), len = 0;
    for (int i = 0; i < ntables; i++)
        cap += 2 * (strlen(schemas[i]) + strlen(tables[i])) + 8;
    char *sql = xmalloc(cap);
    len += (size_t)snprintf(sql, cap, "CREATE PUBLICATION %s FOR %s", qname,
                            all_tables ? "ALL TABLES" : "TABLE ");
    for (int i = 0; !all_tables && i < ntables; i++) {
        char *q = db_quote_qualified(schemas[i], tables[i]);
        len += (size_t)snprintf(sql + len, cap - len, "%s%s", i ? ", " : "", q);
        free(q);
    }
    /* the comment marks it as pgbaton's, for abort and clean; one implicit
     * transaction with the CREATE */
    snprintf(sql + len, cap - len, "; COMMENT ON PUBLICATION %s IS %s", qname, qmark);
    bool ok = all_tables || ntables > 0;
    if (!ok)
        log_error("no table of the source is selected: nothing to publish for pgoutput");
    else
        ok = db_command(src, sql);
    if (ok)
        log_info("created publication %s on the source (%s)", qname,
                 all_tables ? "FOR ALL TABLES" : "FOR TABLE: the migration's tables");
    else
        log_error("could not create the publication %s on the source (see above): creating it "
                  "needs the CREATE privilege on the database and, FOR TABLE, ownership of each "
                  "table (superuser: FOR ALL TABLES)",
                  qname);
    free(sql);
    free(qname);
    free(mark);
    free(qmark);
    return ok;
}

bool slot_publication_drop_if_exists(db_conn *src, const char *name, bool *dropped)
{
    const char *params[] = {name};
    char *exists = db_scalar(src,
                             "SELECT count(*) FROM pg_publication WHERE pubname = $1 AND "
                             "obj_description(oid, 'pg_publication') = 'pgbaton migration ' || $1",
                             1, params, NULL);
    if (!exists)
        return false;
    bool there = strcmp(exists, "0") != 0;
    free(exists);
    if (there) {
        char *q = db_quote_ident(name);
        char *sql = str_printf("DROP PUBLICATION IF EXISTS %s", q);
        bool ok = db_command(src, sql);
        free(sql);
        free(q);
        if (!ok) {
            log_error("could not drop the publication \"%s\" on the source (see above): only its "
                      "owner or a superuser may",
                      name);
            return false;
        }
    }
    if (dropped)
        *dropped = there;
    return true;
}
