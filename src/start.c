/*
 * src/start.c — `pgbaton start`, minimal streaming-only version: resume the
 * streaming phase of an existing migration (its pgbaton.migration row must
 * be in phase 'streaming'). The full command (copy, then streaming) replaces
 * this file; the resume path is the same: stream_follow() from the saved
 * applied_lsn.
 */
#include "cli.h"
#include "db.h"
#include "log.h"
#include "signals.h"
#include "stream.h"

#include <stdlib.h>
#include <string.h>

/* Read slot_name, applied_lsn (or consistent_lsn) and phase of the
 * migration row. False (logged) when there is no usable row. */
static bool load_migration(db_conn *db, const char *name, char **slot, lsn_t *start)
{
    const char *params[1] = {name};
    PGresult *r = db_exec(db, DB_QUIET,
                          "SELECT slot_name, coalesce(applied_lsn, consistent_lsn)::text, phase "
                          "FROM pgbaton.migration WHERE name = $1",
                          1, params);
    if (!r) {
        log_error("target: no pgbaton state (%s): run `pgbaton start` with the copy first",
                  db->last_error ? db->last_error : "query failed");
        return false;
    }
    bool ok = false;
    if (PQntuples(r) != 1 || PQnfields(r) != 3)
        log_error("target: no migration named \"%s\" in pgbaton.migration", name);
    else if (strcmp(PQgetvalue(r, 0, 2), "streaming") != 0)
        log_error("target: migration \"%s\" is in phase '%s', not 'streaming'", name,
                  PQgetvalue(r, 0, 2));
    else if (PQgetisnull(r, 0, 1) || !lsn_parse(PQgetvalue(r, 0, 1), start))
        log_error("target: migration \"%s\" has no applied or consistent position", name);
    else {
        *slot = strdup(PQgetvalue(r, 0, 0));
        ok = true;
    }
    PQclear(r);
    return ok;
}

int cmd_start(const pgb_options *o)
{
    conninfo *src = cli_conninfo(o, DB_SOURCE);
    conninfo *dst = src ? cli_conninfo(o, DB_TARGET) : NULL;
    if (!src || !dst) {
        conninfo_free(src);
        return EXIT_USAGE;
    }
    signals_install();
    int rc = EXIT_FAILURE_RUNTIME;
    char *slot = NULL;
    lsn_t start = LSN_INVALID;
    db_conn *db = db_connect(dst, DB_TARGET, NULL, NULL, NULL);
    if (db && load_migration(db, o->name, &slot, &start)) {
        db_close(db);
        db = NULL;
        stream_ctx ctx = {
            .o = o, .source = src, .target = dst, .slot_name = slot, .start_lsn = start};
        rc = stream_follow(&ctx);
    }
    db_close(db);
    free(slot);
    conninfo_free(src);
    conninfo_free(dst);
    return rc;
}
