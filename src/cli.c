/*
 * src/cli.c — helpers shared by the commands (kept out of main.c so that
 * unit tests can link them from libpgbaton.a).
 */
#include "cli.h"

#include "log.h"

#include <stdlib.h>

conninfo *cli_conninfo(const pgb_options *o, db_side side)
{
    const char *raw = side == DB_SOURCE ? o->source : o->target;
    const char *flag = side == DB_SOURCE ? "--source" : "--target";
    const char *env = side == DB_SOURCE ? "PGBATON_SOURCE" : "PGBATON_TARGET";
    if (!raw || !*raw) {
        log_error("no %s database given: pass %s CONNSTR or set %s", db_side_name(side), flag, env);
        return NULL;
    }
    char *err = NULL;
    conninfo *ci = conninfo_parse(raw, &err);
    if (!ci) {
        log_error("invalid %s connection string: %s; %s", db_side_name(side), err,
                  db_conn_failure_hint(DB_CONN_BAD_STRING));
        free(err);
    }
    return ci;
}
