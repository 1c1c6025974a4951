/*
 * src/start.c — `pgbaton start`: copy schema and data at one snapshot, then
 * follow the slot (streaming, src/stream.c).
 *
 * The story of a fresh start:
 *   1. preflight (check_run): printed as `check` prints it when anything
 *      WARNs or FAILs; any FAIL refuses the start (exit 3);
 *   2. the state schema on the target, the migration row (phase 'copying',
 *      the filters in options); each preflight WARN recorded as an event
 *      (level 'warn'), once: a resumed start runs no preflight;
 *   3. the slot, created with an exported snapshot on a replication
 *      connection that stays open and idle until the data copy is over;
 *      its consistent point goes into the state;
 *   4. at the snapshot: the plan (tables, indexes), roles, pg_dump of the
 *      schema; pre-data restored on the target;
 *   5. the data copy with N workers, indexes built as tables complete
 *      (src/copy.c); large objects;
 *   6. phase 'indexing': the rest of post-data (pg_restore -j N);
 *   7. phase 'streaming', applied_lsn = consistent point; every user trigger
 *      and rule on the target switched off, modes recorded (src/triggers.c);
 *      stream_follow(),
 *      with ANALYZE of the copied tables in a thread beside it
 *      (src/analyze.c; cutover does what is left of it).
 *
 * Running start again:
 *   - phase copying/indexing (or failed before the copy completed): an
 *     exported snapshot cannot be re-opened once its session is gone, so a
 *     copy cannot be resumed consistently. start refuses, and --restart drops
 *     what the copy created (the selected schemas on the target, large
 *     objects), the slot and the state rows, then copies again;
 *   - phase streaming/cutover (or failed after the copy): resume streaming
 *     from applied_lsn, with the filters of the first start;
 *   - done: nothing to do.
 * Every error that stops start once the migration row exists is recorded as
 * an event (level 'error'; the stream's own, src/stream.c), so that
 * `pgbaton report` lists it with the warnings.
 * One advisory lock on the target keeps two `start` of one migration apart.
 */
#include "analyze.h"
#include "check.h"
#include "cli.h"
#include "conninfo.h"
#include "copy.h"
#include "db.h"
#include "failpoint.h"
#include "filter.h"
#include "log.h"
#include "metrics.h"
#include "mono.h"
#include "schema.h"
#include "signals.h"
#include "slot.h"
#include "sql_embed.h"
#include "state.h"
#include "state_audit.h"
#include "stream.h"
#include "triggers.h"
#include "xalloc.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Everything a start holds; freed by start_ctx_free. */
typedef struct start_ctx {
    pgb_options o;            /* copy of the options, jobs resolved */
    conninfo *src;            /* owned */
    conninfo *dst;            /* owned */
    db_conn *state;           /* target session: state rows, advisory lock; owned */
    db_conn *src_db;          /* plain source session (versions, roles); owned */
    char source_encoding[64]; /* the source database's encoding: target sessions
                               * that receive the source's text declare it as
                               * their client_encoding, so the target converts */
    db_conn *snap;            /* source session at the snapshot; owned */
    slot_export slot;         /* the slot and its exporting connection */
    char tmpdir[256];         /* temporary directory for the schema archive, "" when none */
    bool row_created;         /* the migration row exists: failures are recorded */
    char plugin[16];          /* the decoder of a fresh start (the preflight's choice) */
} start_ctx;

/* ---- options as stored in pgbaton.migration.options ------------------------ */

/* The filters of O as a JSON object (new reference). */
static json_t *filters_json(const pgb_options *o)
{
    json_t *f = json_object();
    json_object_set_new(f, "include_schema", strlist_json(&o->filters.include_schema));
    json_object_set_new(f, "exclude_schema", strlist_json(&o->filters.exclude_schema));
    json_object_set_new(f, "include_table", strlist_json(&o->filters.include_table));
    json_object_set_new(f, "exclude_table", strlist_json(&o->filters.exclude_table));
    return f;
}

/* options column text (malloc'd). */
static char *options_text(const pgb_options *o)
{
    json_t *root = json_object();
    json_object_set_new(root, "filters", filters_json(o));
    json_object_set_new(root, "jobs", json_integer(o->jobs));
    json_object_set_new(root, "split_larger_than", json_integer(o->split_larger_than));
    json_object_set_new(root, "roles", json_boolean(o->roles));
    char *s = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(root);
    return s;
}

/* Do the command line's filters equal those stored at the first start? With
 * no filter options given, the stored filters are adopted (and match). */
static bool filters_match(pgb_options *o, const char *stored)
{
    if (filter_is_empty(&o->filters))
        filter_adopt_stored(&o->filters, stored);
    json_t *root = stored ? json_loads(stored, 0, NULL) : NULL;     /* new reference */
    json_t *saved = root ? json_object_get(root, "filters") : NULL; /* borrowed */
    json_t *now = filters_json(o);
    bool same = saved ? json_equal(saved, now) : filter_is_empty(&o->filters);
    if (!same) {
        char *s = saved ? json_dumps(saved, JSON_COMPACT | JSON_SORT_KEYS) : xstrdup("{}");
        log_error("migration %s was started with other table filters (%s): give the same "
                  "--include/--exclude options as the first start, or none of them",
                  o->name, s);
        free(s);
    }
    json_decref(now);
    json_decref(root);
    return same;
}

/* ---- helpers ----------------------------------------------------------------- */

static void start_ctx_free(start_ctx *c)
{
    db_close(c->snap);
    slot_close_export(&c->slot);
    db_close(c->src_db);
    db_close(c->state);
    if (c->tmpdir[0]) {
        char path[400];
        snprintf(path, sizeof path, "%s/schema.dump", c->tmpdir);
        unlink(path);
        snprintf(path, sizeof path, "%s/post-data.list", c->tmpdir);
        unlink(path);
        snprintf(path, sizeof path, "%s/post-data.list.full", c->tmpdir);
        unlink(path);
        rmdir(c->tmpdir);
    }
    conninfo_free(c->src);
    conninfo_free(c->dst);
}

static const db_connect_opts start_conn_opts = {.mode = DB_MODE_NORMAL,
                                                .application_name = "pgbaton start"};

static db_conn *connect_side(const conninfo *ci, db_side side)
{
    return db_connect(ci, side, &start_conn_opts, NULL, NULL);
}

/* Take the per-migration advisory lock on the target (session level). */
static bool lock_migration(start_ctx *c)
{
    const char *params[] = {c->o.name};
    char *got = db_scalar(c->state, "SELECT pg_try_advisory_lock(hashtext('pgbaton start ' || $1))",
                          1, params, NULL);
    bool ok = got && strcmp(got, "t") == 0;
    if (got && !ok)
        log_error("another pgbaton start of migration %s is running against this target: stop "
                  "it first",
                  c->o.name);
    free(got);
    return ok;
}

/* Record a failure of the copy (the row exists) and say how to go on. */
static int copy_failed(start_ctx *c, const char *what)
{
    char msg[512];
    snprintf(msg, sizeof msg,
             "%s; the copy cannot be resumed: run pgbaton start --restart to start it over", what);
    if (c->row_created && c->state) {
        if (!state_set_failed(c->state, c->o.name, msg))
            log_warn("could not record the failure in the target's state (see above)");
        state_event(c->state, c->o.name, "error", msg);
    }
    log_error("%s", msg);
    return EXIT_FAILURE_RUNTIME;
}

/* The post-data restore failed, or a stop signal interrupted it
 * (pg_restore terminated): the phase stays 'indexing', a copy not finished
 * that --restart starts over (status says so once start has exited).
 * Streaming must not go on without the foreign keys, triggers or other
 * post-data objects that are missing. */
static int post_data_failed(start_ctx *c)
{
    char msg[512];
    snprintf(msg, sizeof msg,
             "the post-data restore %s; the target lacks some of the source's foreign keys, "
             "triggers or other post-data objects, and the copy cannot be resumed: run pgbaton "
             "start --restart to start it over",
             signals_stop_requested() ? "was interrupted by a stop signal"
                                      : "failed (pg_restore's messages are above)");
    if (!state_set_last_error(c->state, c->o.name, msg))
        log_warn("could not record the failure in the target's state (see above)");
    state_event(c->state, c->o.name, "error", msg);
    log_error("%s", msg);
    return EXIT_FAILURE_RUNTIME;
}

static void warn_event(start_ctx *c, const char *msg)
{
    log_warn("%s", msg);
    state_event(c->state, c->o.name, "warn", msg);
}

/* Record the preflight's WARNs of a fresh start (the row exists now). */
static void preflight_events(start_ctx *c, const check_report *r)
{
    for (int i = 0; i < r->n; i++) {
        if (r->items[i].status != CHECK_WARN)
            continue;
        char *text = check_item_text(&r->items[i]);
        state_event(c->state, c->o.name, "warn", text);
        free(text);
    }
}

/* ---- --restart ---------------------------------------------------------------- */

/* Drop on the target what an interrupted copy created: every selected
 * schema (public is recreated empty with its default owner and privileges)
 * and every large object; the slot on the source; the state rows. Safe
 * because the preflight only lets a copy start on a target without user
 * objects in the selected schemas. */
static bool restart_cleanup(start_ctx *c, const state_migration *m)
{
    log_info("--restart: dropping the interrupted copy of migration %s", c->o.name);
    bool dropped = false;
    if (!slot_drop_if_exists(c->src_db, m->slot_name, &dropped))
        return false;
    if (dropped) {
        log_info("dropped slot %s on the source", m->slot_name);
        (void)state_auditf(c->state, c->o.name, DB_SOURCE, "slot dropped (--restart)", m->slot_name,
                           true, NAN, NULL);
    }
    if (m->publication && !slot_publication_drop_if_exists(c->src_db, m->publication, &dropped))
        return false;
    if (m->publication && dropped) {
        log_info("dropped publication %s on the source", m->publication);
        (void)state_auditf(c->state, c->o.name, DB_SOURCE, "publication dropped (--restart)",
                           m->publication, true, NAN, NULL);
    }
    db_res *res = db_exec(c->state, DB_LOG,
                          "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
                          "AND nspname NOT IN ('information_schema', 'pgbaton') ORDER BY 1",
                          0, NULL);
    if (!res)
        return false;
    strlist dropped_schemas = {0};
    bool ok = db_check_shape(c->state, res, 1, 0, "schema list") && db_command(c->state, "BEGIN");
    for (int i = 0; ok && i < db_nrows(res); i++) {
        const char *nsp = db_val(res, i, 0);
        if (!filter_schema_selected(&c->o.filters, nsp))
            continue;
        char *q = db_quote_ident(nsp);
        char sql[1024];
        snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", q);
        ok = db_command(c->state, sql);
        if (ok && strcmp(nsp, "public") == 0)
            ok = db_command(c->state,
                            db_server_version(c->state) >= 150000
                                ? "CREATE SCHEMA public AUTHORIZATION pg_database_owner; "
                                  "GRANT USAGE ON SCHEMA public TO PUBLIC; "
                                  "COMMENT ON SCHEMA public IS 'standard public schema'"
                                : "CREATE SCHEMA public; GRANT ALL ON SCHEMA public TO PUBLIC; "
                                  "COMMENT ON SCHEMA public IS 'standard public schema'");
        log_info("dropped schema %s on the target", q);
        if (ok)
            strlist_add(&dropped_schemas, q);
        free(q);
    }
    db_res_free(res);
    ok = ok && db_command(c->state, "SELECT lo_unlink(oid) FROM pg_largeobject_metadata") &&
         state_migration_delete(c->state, c->o.name) && db_command(c->state, "COMMIT");
    if (ok) {
        char *names = strlist_join(&dropped_schemas, ", ", 0);
        (void)state_auditf(c->state, c->o.name, DB_TARGET, "interrupted copy dropped (--restart)",
                           NULL, true, NAN, "schemas %s and every large object", names);
        free(names);
    }
    strlist_free(&dropped_schemas);
    if (!ok) {
        db_res *rb = db_exec(c->state, DB_QUIET, "ROLLBACK", 0, NULL);
        db_res_free(rb);
        log_error("--restart could not drop the interrupted copy (see above); nothing was dropped "
                  "on the target");
    }
    return ok;
}

/* ---- the copy ----------------------------------------------------------------- */

/* C->snap, connected meanwhile (NULL: failed, logged), joins the snapshot. */
static bool open_snapshot_session(start_ctx *c)
{
    return c->snap && db_begin_snapshot(c->snap, c->slot.snapshot_name) &&
           db_command(c->snap, "SET LOCAL search_path = pg_catalog");
}

/* Schemas and tables the filters leave out (for pg_dump). */
static bool exclusions(start_ctx *c, const copy_plan *plan, strlist *schemas, strlist *tables)
{
    db_res *res = db_exec(c->snap, DB_LOG,
                          "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
                          "AND nspname <> 'information_schema' ORDER BY 1",
                          0, NULL);
    if (!res)
        return false;
    for (int i = 0; i < db_nrows(res); i++)
        if (!filter_schema_selected(&c->o.filters, db_val(res, i, 0)))
            strlist_add(schemas, db_val(res, i, 0));
    db_res_free(res);
    for (int i = 0; i < plan->ntables; i++)
        if (!plan->tables[i].selected &&
            filter_schema_selected(&c->o.filters, plan->tables[i].schema))
            strlist_add(tables, plan->tables[i].qname);
    return true;
}

/* Roles: copy them (--roles) or find the missing ones. */
static bool settle_roles(start_ctx *c, schema_owners *owners)
{
    strlist used = {0}, missing = {0}, nopw = {0};
    bool ok = schema_roles_used(c->snap, &used);
    if (ok && c->o.roles && used.n > 0) {
        ok = schema_copy_roles(c->src_db, c->state, &used, &nopw);
        char *names = strlist_join(&used, ", ", 0);
        (void)state_auditf(c->state, c->o.name, DB_TARGET, "roles created (--roles)", NULL, ok, NAN,
                           "the roles the source database uses that the target lacked, of %s",
                           names);
        free(names);
    }
    if (ok && nopw.n > 0) {
        char *names = strlist_join(&nopw, ", ", 0);
        char msg[2048];
        snprintf(msg, sizeof msg,
                 "the source role cannot read password hashes (pg_authid), as on managed "
                 "services: roles %s were created on the target without a password; set their "
                 "passwords on the target",
                 names);
        warn_event(c, msg);
        free(names);
    }
    ok = ok && schema_roles_missing(c->state, &used, &missing);
    *owners = SCHEMA_WITH_OWNERS;
    if (ok && missing.n > 0) {
        char *names = strlist_join(&missing, ", ", 0);
        char msg[2048];
        snprintf(msg, sizeof msg,
                 "roles missing on the target: %s; the copy proceeds without ownership and "
                 "privileges (objects belong to the connecting role); create the roles first or "
                 "use --roles to keep them",
                 names);
        warn_event(c, msg);
        free(names);
        *owners = SCHEMA_NO_OWNERS;
    }
    strlist_free(&used);
    strlist_free(&missing);
    strlist_free(&nopw);
    return ok;
}

static bool record_tables(start_ctx *c, const copy_plan *plan)
{
    bool ok = db_command(c->state, "BEGIN");
    for (int i = 0; ok && i < plan->ntables; i++) {
        const copy_table *t = &plan->tables[i];
        if (!t->selected || t->relkind != 'r')
            continue;
        state_table st = {t->schema, t->name, t->size_bytes, t->est_rows};
        ok = state_table_insert(c->state, c->o.name, &st);
    }
    return ok && db_command(c->state, "COMMIT");
}

static bool create_row(start_ctx *c)
{
    char *sv = db_scalar(c->src_db, "SHOW server_version", 0, NULL, NULL);
    char *tv = db_scalar(c->state, "SHOW server_version", 0, NULL, NULL);
    char *opts = options_text(&c->o);
    state_new_migration nm = {
        .name = c->o.name,
        .slot_name = c->o.name,
        .source_masked = c->src->masked,
        .target_masked = c->dst->masked,
        .source_version = sv,
        .target_version = tv,
        .options_json = opts,
        .plugin = c->plugin,
        .publication = strcmp(c->plugin, "pgoutput") == 0 ? c->o.name : NULL,
    };
    bool ok = sv && tv && state_ensure_schema(c->state) && state_migration_insert(c->state, &nm);
    free(sv);
    free(tv);
    free(opts);
    c->row_created = ok;
    return ok;
}

/* The pre-data schema, restored while the copy workers connect. */
typedef struct pre_data {
    start_ctx *c;
    const schema_dump_opts *dump;
    const copy_plan *plan;
    schema_owners owners;
    const char *failure; /* what failed, for copy_failed; NULL if nothing */
} pre_data;

static bool copy_pre_data(void *arg)
{
    pre_data *p = arg;
    log_info("copying the schema (pre-data) at the snapshot");
    double t0 = mono_now();
    if (!schema_dump(p->dump) || !schema_restore_pre(p->c->dst, p->dump->path, p->owners)) {
        p->failure = "the schema copy failed";
        (void)state_auditf(p->c->state, p->c->o.name, DB_TARGET, "schema restored (pre-data)", NULL,
                           false, (mono_now() - t0) * 1000, "%s", p->failure);
        return false;
    }
    (void)state_auditf(p->c->state, p->c->o.name, DB_TARGET, "schema restored (pre-data)", NULL,
                       true, (mono_now() - t0) * 1000, "pg_dump --schema-only at the snapshot");
    failpoint("start.pre-data");
    if (!record_tables(p->c, p->plan) || !state_schema_done(p->c->state, p->c->o.name))
        p->failure = "could not record the tables in the target's state";
    return p->failure == NULL;
}

/* pgoutput: the publication, before the slot (include/slot.h). FOR ALL
 * TABLES for a superuser; else FOR TABLE with the selected tables. */
static bool create_publication(start_ctx *c)
{
    char *super = db_scalar(c->src_db, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
                            0, NULL, NULL);
    if (!super)
        return false;
    bool all = strcmp(super, "t") == 0;
    free(super);
    if (all && filter_is_empty(&c->o.filters))
        return slot_publication_create(c->src_db, c->o.name, true, NULL, NULL, 0);
    db_res *res = db_exec(c->src_db, DB_LOG, sql_publication_tables, 0, NULL);
    if (!res || !db_check_shape(c->src_db, res, 2, 0, "table list")) {
        db_res_free(res);
        return false;
    }
    int n = db_nrows(res), k = 0;
    const char **schemas = xcalloc((size_t)n + 1, sizeof *schemas);
    const char **tables = xcalloc((size_t)n + 1, sizeof *tables);
    for (int i = 0; i < n; i++) {
        if (!filter_table_selected(&c->o.filters, db_val(res, i, 0), db_val(res, i, 1)))
            continue;
        schemas[k] = db_val(res, i, 0);
        tables[k++] = db_val(res, i, 1);
    }
    bool ok = slot_publication_create(c->src_db, c->o.name, false, schemas, tables, k);
    free(schemas);
    free(tables);
    db_res_free(res);
    return ok;
}

/* pgoutput: every selected logged table of the plan (read at the snapshot)
 * is in the publication; a table created between the publication and the
 * slot would not be, and its changes would never arrive. */
static bool publication_covers(start_ctx *c, const copy_plan *plan)
{
    const char **schemas = xcalloc((size_t)plan->ntables + 1, sizeof *schemas);
    const char **tables = xcalloc((size_t)plan->ntables + 1, sizeof *tables);
    int k = 0;
    for (int i = 0; i < plan->ntables; i++) {
        if (!plan->tables[i].selected || plan->tables[i].relkind != 'r')
            continue;
        schemas[k] = plan->tables[i].schema;
        tables[k++] = plan->tables[i].name;
    }
    char *as = db_text_array(schemas, k), *at = db_text_array(tables, k);
    const char *params[] = {c->o.name, as, at};
    db_res *res = db_exec(c->snap, DB_LOG, sql_publication_missing, 3, params);
    bool ok = res && db_check_shape(c->snap, res, 1, 0, "missing tables");
    if (ok && db_nrows(res) > 0) {
        log_error("table %s was created on the source while start began and is not in the "
                  "publication %s: its changes would not be streamed; run pgbaton start "
                  "--restart",
                  db_val(res, 0, 0), c->o.name);
        ok = false;
    }
    db_res_free(res);
    free(as);
    free(at);
    free(schemas);
    free(tables);
    return ok;
}

/* Steps 3 to 6 of the story; returns an exit code (EXIT_OK: go stream). */
static int run_copy(start_ctx *c)
{
    bool pgoutput = strcmp(c->plugin, "pgoutput") == 0;
    if (pgoutput && !create_publication(c))
        return copy_failed(c, "could not create the publication on the source");
    if (pgoutput)
        (void)state_auditf(c->state, c->o.name, DB_SOURCE, "publication created", c->o.name, true,
                           NAN, NULL);
    /* the snapshot session connects while the slot is created */
    db_pending *snap = db_connect_start(c->src, DB_SOURCE, &start_conn_opts);
    bool slot_made = slot_create_exported(c->src, c->o.name, c->plugin, &c->slot);
    c->snap = db_connect_finish(snap, NULL, NULL);
    if (!slot_made)
        return copy_failed(c, "could not create the replication slot on the source");
    char clsn[LSN_STRLEN];
    (void)state_auditf(c->state, c->o.name, DB_SOURCE, "slot created", c->o.name, true, NAN,
                       "%s, consistent at %s, snapshot exported", c->plugin,
                       lsn_format(c->slot.consistent_lsn, clsn, sizeof clsn));
    failpoint("start.slot-created");
    if (!state_set_consistent_lsn(c->state, c->o.name, c->slot.consistent_lsn))
        return copy_failed(c, "could not record the slot's consistent point");
    if (!open_snapshot_session(c))
        return copy_failed(c, "could not open a source session at the snapshot");

    /* binary COPY moves text bytes unconverted: only between the same major
     * version and the same database encoding */
    bool same_major = db_server_version(c->src_db) / 10000 == db_server_version(c->state) / 10000;
    const char *dst_enc = db_parameter(c->state, "server_encoding");
    bool same_encoding = dst_enc && strcmp(c->source_encoding, dst_enc) == 0;
    if (!same_encoding)
        log_info("source encoding %s, target %s: text is converted by the target (COPY in "
                 "text format)",
                 c->source_encoding, dst_enc ? dst_enc : "unknown");
    copy_plan plan;
    if (!copy_plan_load(c->snap, filter_selected_cb, &c->o.filters, same_major && same_encoding,
                        &plan))
        return copy_failed(c, "could not read the source's tables at the snapshot");
    if (pgoutput && !publication_covers(c, &plan)) {
        copy_plan_free(&plan);
        return copy_failed(c, "a table of the migration is not in the publication");
    }
    int rc = EXIT_FAILURE_RUNTIME;
    strlist ex_schemas = {0}, ex_tables = {0};
    schema_owners owners;
    char dump[400];
    const char *tmp = getenv("TMPDIR");
    snprintf(c->tmpdir, sizeof c->tmpdir, "%s/pgbaton-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(c->tmpdir)) {
        log_error("cannot create a temporary directory in %s: %m; set TMPDIR", tmp ? tmp : "/tmp");
        c->tmpdir[0] = '\0';
        rc = copy_failed(c, "no temporary directory for the schema archive");
        goto out;
    }
    snprintf(dump, sizeof dump, "%s/schema.dump", c->tmpdir);
    if (!exclusions(c, &plan, &ex_schemas, &ex_tables) || !settle_roles(c, &owners)) {
        rc = copy_failed(c, "could not prepare the schema copy");
        goto out;
    }
    schema_dump_opts d = {.source = c->src,
                          .snapshot = c->slot.snapshot_name,
                          .path = dump,
                          .exclude_schemas = &ex_schemas,
                          .exclude_tables = &ex_tables};
    pre_data pd = {.c = c, .dump = &d, .plan = &plan, .owners = owners};
    copy_run_opts ro = {.migration = c->o.name,
                        .jobs = c->o.jobs,
                        .split_larger_than = c->o.split_larger_than,
                        .source = c->src,
                        .target = c->dst,
                        .snapshot = c->slot.snapshot_name,
                        .state = c->state,
                        .large_objects =
                            filter_is_empty(&c->o.filters) || c->o.filters.include_schema.n == 0,
                        .lo_owners = owners == SCHEMA_WITH_OWNERS,
                        .source_encoding = c->source_encoding,
                        .before_data = copy_pre_data,
                        .before_data_arg = &pd};
    if (!copy_run(&ro, &plan)) {
        /* a stop signal first: it also ends pg_dump and pg_restore, which
         * then read as a failed schema copy */
        rc = copy_failed(c, signals_stop_requested() ? "the copy was interrupted by a stop signal"
                            : pd.failure             ? pd.failure
                                                     : "the data copy failed");
        goto out;
    }
    /* every importer is done: the snapshot may go, the slot stays */
    db_close(c->snap);
    c->snap = NULL;
    slot_close_export(&c->slot);
    if (!state_set_phase(c->state, c->o.name, PHASE_INDEXING, STAMP_COPY_DONE)) {
        rc = copy_failed(c, "could not record the end of the data copy");
        goto out;
    }
    log_info("data copied; creating the remaining post-data objects (foreign keys, triggers, ...)");
    double t0 = mono_now();
    if (!schema_restore_post(c->dst, dump, c->tmpdir, &plan, c->o.jobs, owners)) {
        (void)state_auditf(c->state, c->o.name, DB_TARGET, "schema restored (post-data)", NULL,
                           false, (mono_now() - t0) * 1000,
                           "pg_restore --section=post-data failed");
        rc = post_data_failed(c);
        goto out;
    }
    (void)state_auditf(c->state, c->o.name, DB_TARGET, "schema restored (post-data)", NULL, true,
                       (mono_now() - t0) * 1000, "foreign keys, triggers and the other objects");
    if (!state_set_phase(c->state, c->o.name, PHASE_INDEXING, STAMP_INDEXES_DONE) ||
        !state_start_streaming(c->state, c->o.name)) {
        rc = copy_failed(c, "could not record the end of the copy");
        goto out;
    }
    log_info("copy complete: the target holds the source as of the snapshot");
    rc = EXIT_OK;
out:
    strlist_free(&ex_schemas);
    strlist_free(&ex_tables);
    copy_plan_free(&plan);
    return rc;
}

static int follow(start_ctx *c, const state_migration *m)
{
    /* before the first change is applied: no trigger or rule may fire on
     * the target (include/triggers.h); a resumed start records what a
     * crash may have left unrecorded, and changes nothing else */
    if (!triggers_pause(c->state, c->o.name, TRIGGERS_OWN_TXN)) {
        const char *msg = "could not switch off the user triggers and rules on the target";
        state_set_failed(c->state, c->o.name, msg);
        state_event(c->state, c->o.name, "error", msg);
        return EXIT_FAILURE_RUNTIME;
    }
    /* an error an earlier start stopped on is history now (cutover reads a
     * stored error as "start has stopped on it"); a failed migration
     * streams again */
    if (!state_resume(c->state, c->o.name))
        return EXIT_FAILURE_RUNTIME;
    /* the copy's sessions are no longer needed */
    db_close(c->src_db);
    c->src_db = NULL;
    stream_ctx sc = {.name = c->o.name,
                     .selected = filter_selected_cb,
                     .selected_arg = &c->o.filters,
                     .source = c->src,
                     .target = c->dst,
                     .slot_name = m->slot_name,
                     .plugin = m->plugin,
                     .publication = m->publication,
                     .start_lsn = m->applied_lsn,
                     .source_encoding = c->source_encoding};
    /* the copy's statistics, gathered while the stream catches up */
    analyzer *an = analyze_start(c->dst, c->o.name);
    int rc = stream_follow(&sc);
    analyze_stop(an);
    return rc;
}

static int fresh_start(start_ctx *c)
{
    check_sessions given = {.src = c->src_db, .dst = c->state};
    check_report *r = check_run(&c->o, c->src, c->dst, &given);
    if (!r) {
        log_error("start refused: the preflight could not run (see above)");
        return EXIT_PREFLIGHT;
    }
    /* as `check` prints it, before anything is copied: a WARN says what
     * this migration will not carry */
    int fails = check_report_count(r, CHECK_FAIL);
    if (fails > 0 || check_report_count(r, CHECK_WARN) > 0)
        check_report_print(r, false);
    if (fails > 0) {
        log_error("start refused: the preflight found %d blocking problem%s (FAIL above); fix "
                  "them and run pgbaton start again",
                  fails, fails == 1 ? "" : "s");
        check_report_free(r);
        return EXIT_PREFLIGHT;
    }
    snprintf(c->plugin, sizeof c->plugin, "%s", r->plugin);
    if (!*c->plugin) {
        log_error("start refused: the preflight could not choose a decoding plugin (see above)");
        check_report_free(r);
        return EXIT_PREFLIGHT;
    }
    bool created = create_row(c);
    if (created)
        preflight_events(c, r);
    check_report_free(r);
    if (!created)
        return EXIT_FAILURE_RUNTIME;
    log_info("starting migration %s with %d jobs", c->o.name, c->o.jobs);
    /* status and cutover see start alive through the copy too, and see it
     * exit */
    state_keepalive *alive = state_keepalive_start(c->dst, c->o.name);
    int rc = run_copy(c);
    state_migration m;
    if (rc == EXIT_OK && state_migration_load(c->state, c->o.name, &m) != 1)
        rc = EXIT_FAILURE_RUNTIME;
    else if (rc == EXIT_OK) {
        rc = follow(c, &m);
        state_migration_free(&m);
    }
    state_keepalive_stop(alive);
    return rc;
}

/* A row exists: decide from its phase. */
static int existing(start_ctx *c, state_migration *m)
{
    bool copy_unfinished = m->ephase == PHASE_COPYING || m->ephase == PHASE_INDEXING ||
                           (m->ephase == PHASE_FAILED && !m->copy_done);
    if (copy_unfinished) {
        if (!c->o.restart) {
            log_error("the copy of migration %s was interrupted; an exported snapshot cannot be "
                      "re-opened, so the copy must start over: run pgbaton start --restart "
                      "(drops the copied tables and the slot)",
                      c->o.name);
            return EXIT_FAILURE_RUNTIME;
        }
        if (!filters_match(&c->o, m->options))
            return EXIT_USAGE;
        if (!restart_cleanup(c, m))
            return EXIT_FAILURE_RUNTIME;
        return fresh_start(c);
    }
    if (m->ephase == PHASE_DONE) {
        log_info("migration %s is complete (cut over); nothing to do", c->o.name);
        return EXIT_OK;
    }
    if (m->ephase == PHASE_STOPPED) {
        log_error("migration %s was stopped (pgbaton abort); run pgbaton clean, then pgbaton start "
                  "for a new migration",
                  c->o.name);
        return EXIT_FAILURE_RUNTIME;
    }
    if (c->o.restart) {
        log_error("--restart only applies to an interrupted copy; migration %s has finished its "
                  "copy (phase %s): run pgbaton start without --restart to resume streaming",
                  c->o.name, m->phase);
        return EXIT_USAGE;
    }
    if (!filters_match(&c->o, m->options))
        return EXIT_USAGE;
    if (strcmp(c->o.plugin, "auto") != 0 && strcmp(c->o.plugin, m->plugin) != 0) {
        log_error("migration %s decodes with %s (its slot's plugin): --plugin %s cannot change "
                  "that; run start without --plugin to resume, or pgbaton clean and start a new "
                  "migration",
                  c->o.name, m->plugin, c->o.plugin);
        return EXIT_USAGE;
    }
    if (m->ephase == PHASE_FAILED)
        log_warn("migration %s had failed: %s; resuming streaming", c->o.name,
                 m->last_error ? m->last_error : "(no message)");
    char buf[LSN_STRLEN];
    log_info("migration %s resumes streaming (%s) at %s", c->o.name, m->plugin,
             lsn_format(m->applied_lsn, buf, sizeof buf));
    state_keepalive *alive = state_keepalive_start(c->dst, c->o.name);
    int rc = follow(c, m);
    state_keepalive_stop(alive);
    return rc;
}

int cmd_start(const pgb_options *o)
{
    start_ctx c = {.o = *o};
    if (c.o.jobs <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c.o.jobs = n < 1 ? 1 : n > 64 ? 64 : (int)n;
    }
    signals_install();
    int rc = EXIT_USAGE;
    metrics_server *metrics = NULL;
    if (!(c.src = cli_conninfo(o, DB_SOURCE)) || !(c.dst = cli_conninfo(o, DB_TARGET)))
        goto out;
    if (o->metrics) {
        char *err = NULL;
        if (!(metrics = metrics_start(o->metrics, c.src, c.dst, c.o.name, &err))) {
            log_error("%s; nothing was changed", err);
            free(err);
            goto out;
        }
    }
    rc = EXIT_FAILURE_RUNTIME;
    db_pending *src_db = db_connect_start(c.src, DB_SOURCE, &start_conn_opts);
    c.state = connect_side(c.dst, DB_TARGET);
    c.src_db = db_connect_finish(src_db, NULL, NULL);
    if (!c.state || !c.src_db)
        goto out;
    const char *enc = db_parameter(c.src_db, "server_encoding");
    snprintf(c.source_encoding, sizeof c.source_encoding, "%s", enc ? enc : "UTF8");
    if (!lock_migration(&c))
        goto out;
    state_migration m;
    int found = state_migration_load(c.state, c.o.name, &m);
    if (found < 0)
        goto out;
    if (found == 1) {
        rc = existing(&c, &m);
        state_migration_free(&m);
    } else {
        rc = fresh_start(&c);
    }
out:
    metrics_stop(metrics);
    /* with no filter options, c.o's lists are its own: empty, or adopted
     * from the first start (filter_adopt_stored); otherwise they are O's */
    if (filter_is_empty(&o->filters))
        filter_set_free(&c.o.filters);
    start_ctx_free(&c);
    return rc;
}
