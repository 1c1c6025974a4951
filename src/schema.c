/*
 * src/schema.c — schema copy: pg_dump / pg_restore at the snapshot, roles.
 *
 * One pg_dump --schema-only --format=custom --snapshot=S writes the schema
 * as it was at the snapshot into a temporary archive (schema only: table
 * data never touches a file). Its pre-data section (types, tables,
 * functions, ...) is restored in one transaction before the data copy; its
 * post-data section after it, in parallel (-j), minus the indexes and key
 * constraints that the copy workers already built table by table: those
 * entries are commented out of pg_restore's list (-L), matched by the
 * catalog and object OIDs that pg_dump writes on each list line.
 */
#include "schema.h"

#include "log.h"
#include "pgtools.h"
#include "xalloc.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* a schema of the user, not a system one */
#define USER_NS(n)                                                                                 \
    n ".nspname NOT LIKE 'pg\\_%' AND " n ".nspname NOT IN ('information_schema', 'pgbaton')"

static bool find_tool(const char *name, pgtool *t)
{
    if (pgtool_find(name, 14, t))
        return true;
    log_error("%s (PostgreSQL 14 or later) was not found: install the PostgreSQL client "
              "programs (postgresql-client) of the newer of the two servers' versions",
              name);
    pgtool_free(t);
    return false;
}

bool schema_dump(const schema_dump_opts *opts)
{
    pgtool tool;
    if (!find_tool("pg_dump", &tool))
        return false;
    char *conn = pgtool_connstr(opts->source);
    strlist a = {0};
    strlist_add(&a, tool.path);
    strlist_addf(&a, "--dbname=%s", conn);
    strlist_add(&a, "--schema-only");
    strlist_add(&a, "--format=custom");
    strlist_addf(&a, "--file=%s", opts->path);
    strlist_addf(&a, "--snapshot=%s", opts->snapshot);
    strlist_add(&a, "--no-tablespaces");
    strlist_add(&a, "--no-subscriptions");
    strlist_add(&a, "--no-publications");
    strlist_add(&a, "--exclude-schema=pgbaton");
    for (int i = 0; i < opts->exclude_schemas->n; i++) {
        char *q = db_quote_ident(opts->exclude_schemas->items[i]);
        strlist_addf(&a, "--exclude-schema=%s", q);
        free(q);
    }
    for (int i = 0; i < opts->exclude_tables->n; i++)
        strlist_addf(&a, "--exclude-table=%s", opts->exclude_tables->items[i]);
    bool ok = pgtool_run((const char *const *)a.items, opts->source, -1, -1, "pg_dump (source)");
    strlist_free(&a);
    free(conn);
    pgtool_free(&tool);
    if (!ok)
        log_error("could not dump the source's schema (pg_dump's messages are above)");
    return ok;
}

static void add_owner_args(strlist *a, schema_owners owners)
{
    if (owners == SCHEMA_NO_OWNERS) {
        strlist_add(a, "--no-owner");
        strlist_add(a, "--no-privileges");
    }
}

/* pg_restore ARCHIVE into TARGET with the options OPTS (NULL-terminated),
 * then --exit-on-error and the ownership options. */
static bool run_restore(const pgtool *tool, const conninfo *target, const char *const *opts,
                        schema_owners owners, const char *archive)
{
    char *conn = pgtool_connstr(target);
    strlist a = {0};
    strlist_add(&a, tool->path);
    strlist_addf(&a, "--dbname=%s", conn);
    for (const char *const *o = opts; *o; o++)
        strlist_add(&a, *o);
    strlist_add(&a, "--exit-on-error");
    add_owner_args(&a, owners);
    strlist_add(&a, archive);
    bool ok = pgtool_run((const char *const *)a.items, target, -1, -1, "pg_restore (target)");
    strlist_free(&a);
    free(conn);
    return ok;
}

bool schema_restore_pre(const conninfo *target, const char *path, schema_owners owners)
{
    pgtool tool;
    if (!find_tool("pg_restore", &tool))
        return false;
    const char *opts[] = {"--section=pre-data", "--single-transaction", NULL};
    bool ok = run_restore(&tool, target, opts, owners, path);
    pgtool_free(&tool);
    if (!ok)
        log_error("could not create the schema on the target (pg_restore's messages are above); "
                  "nothing of it was kept");
    return ok;
}

/* Write pg_restore's list of ARCHIVE's post-data entries into OUT_PATH,
 * commenting out the entries the copy built already; *LEFT = how many are
 * still to restore. */
static bool write_post_list(const pgtool *tool, const conninfo *target, const char *archive,
                            const char *out_path, const copy_plan *plan, int *left)
{
    char full[4200];
    snprintf(full, sizeof full, "%s.full", out_path);
    int fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        log_error("cannot write %s: %m", full);
        return false;
    }
    const char *argv[] = {tool->path, "--section=post-data", "--list", archive, NULL};
    bool ok = pgtool_run(argv, target, -1, fd, "pg_restore --list");
    close(fd);
    if (!ok)
        return false;
    FILE *in = fopen(full, "r"), *out = fopen(out_path, "w");
    if (!in || !out) {
        log_error("cannot rewrite the restore list %s: %m", out_path);
        if (in)
            fclose(in);
        if (out)
            fclose(out);
        return false;
    }
    char line[8192];
    int skipped = 0;
    *left = 0;
    while (fgets(line, sizeof line, in)) {
        int id;
        unsigned cat, oid;
        char desc[64];
        if (line[0] != ';' && sscanf(line, "%d; %u %u %63s", &id, &cat, &oid, desc) == 4) {
            if ((strcmp(desc, "INDEX") == 0 || strcmp(desc, "CONSTRAINT") == 0) &&
                copy_plan_builds(plan, cat, oid)) {
                fputc(';', out);
                skipped++;
            } else {
                (*left)++;
            }
        }
        fputs(line, out);
    }
    fclose(in);
    bool wrote = fclose(out) == 0;
    log_debug("post-data: %d indexes and constraints already built by the copy, %d entries left",
              skipped, *left);
    return wrote;
}

bool schema_restore_post(const conninfo *target, const char *path, const char *tmpdir,
                         const copy_plan *plan, int jobs, schema_owners owners)
{
    pgtool tool;
    if (!find_tool("pg_restore", &tool))
        return false;
    char list[4096];
    snprintf(list, sizeof list, "%s/post-data.list", tmpdir);
    int left = 0;
    bool listed = write_post_list(&tool, target, path, list, plan, &left);
    if (!listed || left == 0) {
        pgtool_free(&tool);
        return listed; /* nothing left: no pg_restore to start */
    }
    char jobs_s[16];
    snprintf(jobs_s, sizeof jobs_s, "%d", jobs);
    const char *opts[] = {"--section=post-data", "--use-list", list, "--jobs", jobs_s, NULL};
    bool ok = run_restore(&tool, target, opts, owners, path);
    pgtool_free(&tool);
    if (!ok)
        log_error("could not create the post-data objects (foreign keys, triggers, ...) on the "
                  "target (pg_restore's messages are above)");
    return ok;
}

/* ---- roles ------------------------------------------------------------------ */

static bool fill_names(db_conn *db, const char *sql, int nparams, const char *const *params,
                       strlist *out)
{
    db_res *res = db_exec(db, DB_LOG, sql, nparams, params);
    if (!res)
        return false;
    bool ok = db_check_shape(db, res, 1, 0, "role list");
    for (int i = 0; ok && i < db_nrows(res); i++)
        strlist_add(out, db_val(res, i, 0));
    db_res_free(res);
    return ok;
}

bool schema_roles_used(db_conn *snap, strlist *out)
{
    static const char sql[] =
        "WITH o(oid) AS ("
        " SELECT refobjid FROM pg_shdepend WHERE refclassid = 'pg_authid'::regclass"
        "   AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " UNION SELECT nspowner FROM pg_namespace n WHERE " USER_NS(
            "n") " UNION SELECT relowner FROM pg_class c JOIN pg_namespace n ON n.oid = "
                 "c.relnamespace"
                 "   WHERE " USER_NS(
                     "n") " UNION SELECT proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = "
                          "p.pronamespace"
                          "   WHERE " USER_NS(
                              "n") " UNION SELECT typowner FROM pg_type t JOIN pg_namespace n ON "
                                   "n.oid = t.typnamespace"
                                   "   WHERE " USER_NS(
                                       "n") " UNION SELECT lomowner FROM pg_largeobject_metadata)"
                                            " SELECT r.rolname FROM pg_roles r JOIN o ON o.oid = "
                                            "r.oid"
                                            " WHERE r.rolname NOT LIKE 'pg\\_%' ORDER BY 1";
    return fill_names(snap, sql, 0, NULL, out);
}

bool schema_roles_missing(db_conn *dst, const strlist *names, strlist *missing)
{
    char *arr = db_text_array((const char *const *)names->items, names->n);
    const char *params[] = {arr};
    bool ok = fill_names(dst,
                         "SELECT n FROM unnest($1::text[]) AS n "
                         "WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = n) ORDER BY 1",
                         1, params, missing);
    free(arr);
    return ok;
}

/* CREATE ROLE for row I of RES (pg_roles columns, see below). */
static char *create_role_sql(const db_res *res, int i, const char *password)
{
    char *q = db_quote_ident(db_val(res, i, 0));
    char *pw = password ? db_quote_literal(password) : NULL;
    char *until = db_isnull(res, i, 9) ? NULL : db_quote_literal(db_val(res, i, 9));
#define FLAG(col, yes, no) (strcmp(db_val(res, i, col), "t") == 0 ? yes : no)
    size_t n = strlen(q) + (pw ? strlen(pw) : 0) + (until ? strlen(until) : 0) + 512;
    char *sql = xmalloc(n);
    snprintf(sql, n, "CREATE ROLE %s WITH %s %s %s %s %s %s %s CONNECTION LIMIT %s%s%s%s%s", q,
             FLAG(1, "SUPERUSER", "NOSUPERUSER"), FLAG(2, "INHERIT", "NOINHERIT"),
             FLAG(3, "CREATEROLE", "NOCREATEROLE"), FLAG(4, "CREATEDB", "NOCREATEDB"),
             FLAG(5, "LOGIN", "NOLOGIN"), FLAG(6, "REPLICATION", "NOREPLICATION"),
             FLAG(7, "BYPASSRLS", "NOBYPASSRLS"), db_val(res, i, 8), until ? " VALID UNTIL " : "",
             until ? until : "", pw ? " PASSWORD " : "", pw ? pw : "");
#undef FLAG
    free(q);
    free(pw);
    free(until);
    return sql;
}

/* Password hashes of the roles in ARR (text[] literal), or NULL when the
 * source role may not read pg_authid. */
static db_res *read_hashes(db_conn *src, const char *arr)
{
    const char *params[] = {arr};
    db_res *res = db_exec(src, DB_QUIET,
                          "SELECT rolname, rolpassword FROM pg_authid WHERE rolname = "
                          "ANY($1::text[])",
                          1, params);
    if (!res)
        return NULL;
    for (int i = 0; i < db_nrows(res); i++)
        if (!db_isnull(res, i, 1))
            log_add_secret(db_val(res, i, 1));
    return res;
}

static const char *hash_of(const db_res *hashes, const char *role)
{
    for (int i = 0; hashes && i < db_nrows(hashes); i++)
        if (strcmp(db_val(hashes, i, 0), role) == 0)
            return db_isnull(hashes, i, 1) ? NULL : db_val(hashes, i, 1);
    return NULL;
}

static bool grant_memberships(db_conn *src, db_conn *dst, const char *arr)
{
    const char *params[] = {arr};
    db_res *res = db_exec(src, DB_LOG,
                          "SELECT g.rolname, m.rolname, am.admin_option FROM pg_auth_members am "
                          "JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = "
                          "am.member WHERE m.rolname = ANY($1::text[]) "
                          "AND (g.rolname = ANY($1::text[]) OR g.rolname LIKE 'pg\\_%')",
                          1, params);
    if (!res)
        return false;
    bool ok = db_check_shape(src, res, 3, 0, "role memberships");
    for (int i = 0; ok && i < db_nrows(res); i++) {
        char *g = db_quote_ident(db_val(res, i, 0));
        char *m = db_quote_ident(db_val(res, i, 1));
        char sql[1024];
        snprintf(sql, sizeof sql, "GRANT %s TO %s%s", g, m,
                 strcmp(db_val(res, i, 2), "t") == 0 ? " WITH ADMIN OPTION" : "");
        ok = db_command(dst, sql);
        free(g);
        free(m);
    }
    db_res_free(res);
    return ok;
}

bool schema_copy_roles(db_conn *src, db_conn *dst, const strlist *names, strlist *no_password)
{
    char *arr = db_text_array((const char *const *)names->items, names->n);
    const char *params[] = {arr};
    /* the roles and, transitively, the roles they are members of */
    db_res *res = db_exec(
        src, DB_LOG,
        "WITH RECURSIVE r(oid) AS (SELECT oid FROM pg_roles WHERE rolname = ANY($1::text[]) "
        " UNION SELECT m.roleid FROM pg_auth_members m JOIN r ON m.member = r.oid) "
        "SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, "
        "rolreplication, rolbypassrls, rolconnlimit, rolvaliduntil FROM pg_roles "
        "WHERE oid IN (SELECT oid FROM r) AND rolname NOT LIKE 'pg\\_%' ORDER BY 1",
        1, params);
    free(arr);
    if (!res)
        return false;
    if (!db_check_shape(src, res, 10, 0, "roles")) {
        db_res_free(res);
        return false;
    }
    strlist all = {0};
    for (int i = 0; i < db_nrows(res); i++)
        strlist_add(&all, db_val(res, i, 0));
    strlist missing = {0};
    bool ok = schema_roles_missing(dst, &all, &missing);
    char *all_arr = db_text_array((const char *const *)all.items, all.n);
    db_res *hashes = ok ? read_hashes(src, all_arr) : NULL;
    for (int i = 0; ok && i < db_nrows(res); i++) {
        const char *role = db_val(res, i, 0);
        bool is_missing = false;
        for (int j = 0; j < missing.n; j++)
            is_missing |= strcmp(missing.items[j], role) == 0;
        if (!is_missing)
            continue;
        const char *hash = hash_of(hashes, role);
        if (!hashes && strcmp(db_val(res, i, 5), "t") == 0)
            strlist_add(no_password, role);
        char *sql = create_role_sql(res, i, hash);
        ok = db_command(dst, sql);
        free(sql);
        if (ok)
            log_info("created role %s on the target%s", role,
                     hash ? " (with its password hash)" : "");
    }
    ok = ok && grant_memberships(src, dst, all_arr);
    db_res_free(hashes);
    db_res_free(res);
    free(all_arr);
    strlist_free(&all);
    strlist_free(&missing);
    return ok;
}
