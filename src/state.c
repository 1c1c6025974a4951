/*
 * src/state.c — pgbaton's state schema on the target: the migration row,
 * per-table progress and events (sql/state_schema.sql).
 */
#include "state.h"

#include "log.h"
#include "sql_embed.h"
#include "xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool state_ensure_schema(db_conn *db)
{
    return db_command(db, sql_state_schema);
}

static char *dup_or_null(const PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? NULL : xstrdup(PQgetvalue(res, 0, col));
}

static lsn_t lsn_or_invalid(const PGresult *res, int col)
{
    lsn_t l = LSN_INVALID;
    if (!PQgetisnull(res, 0, col) && !lsn_parse(PQgetvalue(res, 0, col), &l))
        l = LSN_INVALID;
    return l;
}

int state_migration_load(db_conn *db, const char *name, state_migration *out)
{
    memset(out, 0, sizeof *out);
    bool isnull = false;
    char *exists =
        db_scalar(db, "SELECT to_regclass('pgbaton.migration') IS NOT NULL", 0, NULL, &isnull);
    if (!exists)
        return -1;
    bool have = strcmp(exists, "t") == 0;
    free(exists);
    if (!have)
        return 0;
    const char *params[] = {name};
    PGresult *res = db_exec(db, DB_LOG,
                            "SELECT name, phase, slot_name, options::text, last_error, "
                            "consistent_lsn::text, applied_lsn::text, copy_done_at IS NOT NULL, "
                            "coalesce(plugin, 'wal2json'), publication "
                            "FROM pgbaton.migration WHERE name = $1",
                            1, params);
    if (!res)
        return -1;
    if (!db_check_shape(db, res, 10, 0, "migration row")) {
        PQclear(res);
        return -1;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return 0;
    }
    out->name = xstrdup(PQgetvalue(res, 0, 0));
    out->phase = xstrdup(PQgetvalue(res, 0, 1));
    out->ephase = state_phase_parse(out->phase);
    out->slot_name = xstrdup(PQgetvalue(res, 0, 2));
    out->options = dup_or_null(res, 3);
    out->last_error = dup_or_null(res, 4);
    out->consistent_lsn = lsn_or_invalid(res, 5);
    out->applied_lsn = lsn_or_invalid(res, 6);
    out->copy_done = strcmp(PQgetvalue(res, 0, 7), "t") == 0;
    out->plugin = xstrdup(PQgetvalue(res, 0, 8));
    out->publication = dup_or_null(res, 9);
    PQclear(res);
    return 1;
}

void state_migration_free(state_migration *m)
{
    free(m->name);
    free(m->phase);
    free(m->slot_name);
    free(m->options);
    free(m->last_error);
    free(m->plugin);
    free(m->publication);
    memset(m, 0, sizeof *m);
}

bool state_migration_insert(db_conn *db, const state_new_migration *m)
{
    const char *params[] = {m->name,          m->slot_name,      m->source_masked,
                            m->target_masked, m->source_version, m->target_version,
                            m->options_json,  m->plugin,         m->publication};
    return db_commandp(db,
                       "INSERT INTO pgbaton.migration (name, phase, slot_name, source_masked, "
                       "target_masked, source_version, target_version, options, plugin, "
                       "publication, alive_at, copy_started_at) VALUES ($1, 'copying', $2, $3, "
                       "$4, $5, $6, $7::jsonb, $8, $9, now(), now())",
                       9, params);
}

bool state_migration_delete(db_conn *db, const char *name)
{
    const char *params[] = {name};
    return db_commandp(db, "DELETE FROM pgbaton.migration WHERE name = $1", 1, params);
}

bool state_set_phase(db_conn *db, const char *name, state_phase to, state_stamp stamp)
{
    const char *stamps[] = {[STAMP_NONE] = NULL,
                            [STAMP_COPY_DONE] = "copy_done",
                            [STAMP_INDEXES_DONE] = "indexes_done"};
    char *sources = state_phase_sources(to);
    const char *params[4] = {name, state_phase_name(to), sources, stamps[stamp]};
    PGresult *r = db_exec(db, DB_LOG, sql_state_set_phase, 4, params);
    free(sources);
    if (!r)
        return false;
    bool ok = strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    if (ok)
        return true;
    bool found = false;
    state_phase from = PHASE_UNKNOWN;
    if (state_read_phase(db, name, &found, &from)) {
        if (found)
            log_error("internal error: the phase of migration %s cannot go from %s to %s", name,
                      state_phase_name(from), state_phase_name(to));
        else
            log_error("target: the migration row \"%s\" is missing from pgbaton.migration", name);
    }
    return false;
}

bool state_set_consistent_lsn(db_conn *db, const char *name, lsn_t lsn)
{
    char buf[LSN_STRLEN];
    const char *params[] = {name, lsn_format(lsn, buf, sizeof buf)};
    return db_commandp(db,
                       "UPDATE pgbaton.migration SET consistent_lsn = $2::pg_lsn, alive_at = now() "
                       "WHERE name = $1",
                       2, params);
}

bool state_start_streaming(db_conn *db, const char *name)
{
    const char *params[] = {name};
    return db_commandp(db,
                       "UPDATE pgbaton.migration SET phase = 'streaming', applied_lsn = "
                       "consistent_lsn, streaming_at = now(), alive_at = now(), last_error = NULL "
                       "WHERE name = $1",
                       1, params);
}

bool state_set_failed(db_conn *db, const char *name, const char *last_error)
{
    const char *params[] = {name, last_error};
    return db_commandp(db,
                       "UPDATE pgbaton.migration SET phase = 'failed', last_error = $2, "
                       "alive_at = now() WHERE name = $1",
                       2, params);
}

bool state_set_last_error(db_conn *db, const char *name, const char *last_error)
{
    const char *params[] = {name, last_error};
    return db_commandp(db, sql_state_set_last_error, 2, params);
}

void state_event(db_conn *db, const char *name, const char *level, const char *message)
{
    char *clean = log_redact(message);
    const char *params[] = {name, level, clean};
    if (!db_commandp(db,
                     "INSERT INTO pgbaton.event (migration, level, message) VALUES ($1, $2, $3)", 3,
                     params))
        log_warn("could not record an event in the target's pgbaton.event (see above)");
    free(clean);
}

bool state_table_insert(db_conn *db, const char *migration, const state_table *t)
{
    char size[32], rows[32];
    snprintf(size, sizeof size, "%" PRId64, t->size_bytes);
    snprintf(rows, sizeof rows, "%" PRId64, t->est_rows);
    const char *params[] = {migration, t->schema, t->table, size, rows};
    return db_commandp(db,
                       "INSERT INTO pgbaton.table_state (migration, schema_name, table_name, "
                       "size_bytes, est_rows) VALUES ($1, $2, $3, $4, $5)",
                       5, params);
}

bool state_table_update(db_conn *db, const char *migration, const char *schema, const char *table,
                        const char *state, int64_t rows, int64_t bytes)
{
    char r[32], b[32];
    snprintf(r, sizeof r, "%" PRId64, rows);
    snprintf(b, sizeof b, "%" PRId64, bytes);
    const char *params[] = {migration, schema, table, state, r, b};
    return db_commandp(
        db,
        "UPDATE pgbaton.table_state SET state = $4, rows_copied = $5, bytes_copied = $6, "
        "started_at = CASE WHEN $4 <> 'pending' THEN coalesce(started_at, now()) END, "
        "copied_at = CASE WHEN $4 IN ('copied', 'indexed') THEN coalesce(copied_at, now()) END, "
        "indexed_at = CASE WHEN $4 = 'indexed' THEN coalesce(indexed_at, now()) END "
        "WHERE migration = $1 AND schema_name = $2 AND table_name = $3",
        6, params);
}
