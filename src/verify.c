/*
 * src/verify.c — `pgbaton verify`: is the target the same as the source?
 *
 * Compares schema, rows (counts and content checksums, see verify_data.c),
 * the first rows value by value, sequences, and optionally runs the CRUD
 * smoke test and the backup check (a pg_dump of the target by its role) on
 * the target (verify_crud.c). Prints one line per table and
 * the summary "verify: N tables equal, M differ; schema equal" (or --json),
 * exit 0 when all is equal, 1 when anything differs or fails, 2 on bad usage
 * or when the migration is in a phase where comparing makes no sense.
 *
 * How both sides are made comparable (the source may be moving):
 * the migration row pgbaton.migration (--name) on the target decides.
 *   (a) No such row (two quiet databases), or phase 'done' (the source was
 *       frozen at cutover): each side's control connection opens a
 *       REPEATABLE READ transaction and exports its snapshot; every worker
 *       imports it, so all readers of one side see one state.
 *   (b) Phase 'streaming' (`pgbaton start` applies the source's changes):
 *       the hold protocol.
 *         0. verify sets hold_lsn = 0/1 ("pause now") and waits for held_at:
 *            the applier commits what it has and stops where it is. Without
 *            this step the applier could already have applied transactions
 *            past the point L taken next, and no exact hold would exist.
 *         1. verify opens a replication connection to the source and runs
 *            CREATE_REPLICATION_SLOT pgbaton_verify_<pid> TEMPORARY LOGICAL
 *            wal2json (SNAPSHOT 'export'). Its consistent point L is exact:
 *            the exported snapshot sees exactly the source transactions whose
 *            commit record starts before L. The source readers import it
 *            (after step 4: it stays valid while that connection is idle).
 *         2. verify sets pgbaton.migration.hold_lsn = L (held_at = NULL).
 *         3. The applier commits every source transaction whose commit LSN
 *            is below L, pauses before any transaction (or non-transactional
 *            message) at or after L, and sets held_at = now() (applied_lsn
 *            then covers everything < L); src/stream.c hold().
 *         4. verify waits until held_at is set (NOTIFY pgbaton_state) (at most HOLD_TIMEOUT_S
 *            seconds: past that, streaming is not keeping up or `start` is
 *            not running), then opens its target snapshot (REPEATABLE READ +
 *            pg_export_snapshot) and at once clears the hold (hold_lsn =
 *            NULL, held_at = NULL): the applier resumes.
 *       After setting hold_lsn (steps 0 and 2) verify wakes the applier
 *       (wake_applier): a message streamed to it at once, which makes it
 *       commit, reading the hold, and which, being after L, is where an idle
 *       stream pauses; otherwise it would wait for the next heartbeat.
 *       Both snapshots now show the same logical state, whatever the source
 *       and the applier do afterwards. The replication connection stays
 *       idle until the end (the exported snapshot lives as long as it does);
 *       closing it drops the temporary slot. The hold is cleared on every
 *       path, failures included. Sequences are not compared in this case:
 *       they are copied at cutover.
 *   (c) Any other phase (copying, indexing, cutover, failed, stopped): verify
 *       refuses with exit 2 and one line saying why.
 */
#include "verify.h"

#include "db_async.h"
#include "log.h"
#include "mono.h"
#include "state.h"
#include "strutil.h"
#include "xalloc.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long verify waits for the applier to reach the hold point. */
#define HOLD_TIMEOUT_S 60
/* verify is woken by the applier's notification; it re-reads the hold at
 * least this often all the same (should a notification be lost). */
#define HOLD_RECHECK_MS 1000
/* Rows per checksum chunk (PGBATON_VERIFY_CHUNK_ROWS overrides, for tests). */
#define DEFAULT_CHUNK_ROWS 250000
/* A table with more rows (estimated) than this, and more than one job's
 * share of all rows, is checksummed in key ranges by all workers (see
 * src/verify_data.c); below it one sequential scan per side is cheaper. */
#define DEFAULT_SPLIT_ROWS 10000000

/* ------------------------------------------------------------------ */
/* shared helpers (declared in verify.h) */

void verify_table_note(verify_table *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = str_vprintf(fmt, ap);
    va_end(ap);
    pthread_mutex_lock(t->lock);
    if (s)
        strlist_addf(&t->notes, "%s", s);
    if (t->status == VERIFY_EQUAL)
        t->status = VERIFY_DIFFERENT;
    pthread_mutex_unlock(t->lock);
    free(s);
}

bool verify_pin_settings(db_conn *db)
{
    /* UTF8 to the client: values and keys read from both sides compare as
     * the same bytes even when the two databases' encodings differ */
    return db_command(db,
                      "SET client_encoding = 'UTF8'; SET DateStyle = ISO; SET TimeZone = 'UTC'; "
                      "SET extra_float_digits = 3; "
                      "SET bytea_output = hex; SET IntervalStyle = postgres; "
                      "SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0");
}

/* --jobs default: the number of CPUs, as for start. */
static int default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (n > 64 ? 64 : (int)n) : 2;
}

static db_res *pair_wait(db_conn *db, bool sent)
{
    if (!sent) {
        db_report(db, DB_LOG, NULL, "sending a query");
        return NULL;
    }
    return db_wait_result(db, DB_LOG);
}

bool verify_pair_query(db_conn *s, const char *sql_s, db_conn *d, const char *sql_d, db_res **rs,
                       db_res **rd)
{
    *rs = *rd = NULL;
    bool sent_s = s ? db_send_script(s, sql_s) : false;
    bool sent_d = d ? db_send_script(d, sql_d) : false;
    db_res *a = s ? pair_wait(s, sent_s) : NULL;
    db_res *b = d ? pair_wait(d, sent_d) : NULL;
    if ((s && !a) || (d && !b)) {
        db_res_free(a);
        db_res_free(b);
        return false;
    }
    *rs = a;
    *rd = b;
    return true;
}

void verify_result_free(verify_result *r)
{
    strlist_free(&r->schema_diffs);
    strlist_free(&r->target_only_tables);
    for (int i = 0; i < r->ntables; i++) {
        verify_table *t = &r->tables[i];
        for (int c = 0; c < t->ncols; c++) {
            free(t->cols[c].name);
            free(t->cols[c].qname);
            free(t->cols[c].display);
            free(t->cols[c].type);
        }
        free(t->cols);
        free(t->key);
        free(t->schema);
        free(t->name);
        free(t->display);
        free(t->qname);
        free(t->row_expr);
        free(t->key_expr);
        free(t->key_order);
        free(t->key_label);
        strlist_free(&t->notes);
        strlist_free(&t->missing);
        strlist_free(&t->extra);
        strlist_free(&t->changed);
        strlist_free(&t->sample);
        free(t->crud_reason);
        if (t->lock) {
            pthread_mutex_destroy(t->lock);
            free(t->lock);
        }
    }
    free(r->tables);
    for (int i = 0; i < r->nseqs; i++) {
        free(r->seqs[i].name);
        free(r->seqs[i].source);
        free(r->seqs[i].target);
    }
    free(r->seqs);
    free(r->consistency);
    free(r->backup.role);
    free(r->backup.tool);
    free(r->backup.reason);
}

/* ------------------------------------------------------------------ */
/* consistency */

/* Connections of one run; all owned. */
typedef struct verify_conns {
    db_conn *src, *dst; /* control connections (in the snapshots) */
    db_conn *admin;     /* target, autocommit: migration row, hold, CRUD */
    db_conn *repl;      /* source replication connection (hold protocol only) */
    bool hold_set;      /* the hold must be cleared */
    bool listening;     /* admin LISTENs on STATE_CHANNEL */
    const char *name;   /* migration name */
} verify_conns;

static db_conn *connect_side(const conninfo *ci, db_side side, db_mode mode)
{
    db_connect_opts opts = {.mode = mode, .application_name = "pgbaton verify", .errmode = DB_LOG};
    db_conn *db = db_connect(ci, side, &opts, NULL, NULL);
    if (db && mode == DB_MODE_NORMAL && !verify_pin_settings(db)) {
        db_close(db);
        return NULL;
    }
    return db;
}

/* Begin a REPEATABLE READ transaction on DB and export its snapshot. */
static char *begin_and_export(db_conn *db)
{
    if (!db_command(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        return NULL;
    return db_scalar(db, "SELECT pg_export_snapshot()", 0, NULL, NULL);
}

static void clear_hold(verify_conns *c)
{
    if (!c->hold_set)
        return;
    state_hold_clear(c->admin, c->name); /* a failure is logged, with the way out */
    c->hold_set = false;
}

/* hold_lsn value meaning "hold where you are": below every real position. */
#define PAUSE_NOW_LSN "0/1"

/* Wait until the applier reports it holds: woken by the notification of
 * its commit of held_at (admin LISTENs, see hold_at), re-reading at least
 * every HOLD_RECHECK_MS; false on timeout or error. */
static bool wait_for_hold(verify_conns *c)
{
    double deadline = mono_now() + HOLD_TIMEOUT_S;
    for (;;) {
        bool held = false;
        state_phase phase = PHASE_UNKNOWN;
        if (!state_hold_read(c->admin, c->name, &held, &phase))
            return false;
        if (held)
            return true;
        if (phase != PHASE_STREAMING) {
            log_error("the migration left the streaming phase while verify waited: run verify "
                      "again");
            return false;
        }
        double left = deadline - mono_now();
        if (left <= 0)
            break;
        if (state_wait(c->admin, c->name,
                       left < HOLD_RECHECK_MS / 1000.0 ? left : HOLD_RECHECK_MS / 1000.0) < 0)
            return false;
    }
    log_error("streaming did not reach the verify point within %d s: \"pgbaton start\" is not "
              "running or is not keeping up; check \"pgbaton status\" and run verify again",
              HOLD_TIMEOUT_S);
    return false;
}

/* Wake the applier at once rather than at the next heartbeat
 * (state_wake_applier) on the source control connection, which must be
 * outside a transaction. The applier commits as soon as it receives it,
 * and that commit reads the hold (step 0); being after the hold point, it
 * is also where an idle stream pauses (step 2). A failure (no privilege to
 * emit it) only costs time: the next heartbeat does the same, later. */
static void wake_applier(verify_conns *c)
{
    if (!state_wake_applier(c->src, c->name))
        log_debug("verify: could not wake the applier (%s): waiting for the next heartbeat",
                  db_errtext(c->src, "error"));
}

/* Ask the applier to hold at LSN (text) and wait until it reports it does. */
static bool hold_at(verify_conns *c, const char *lsn)
{
    if (!c->listening && !(c->listening = state_listen(c->admin)))
        return false;
    bool left = false;
    bool ok = state_hold_set(c->admin, c->name, lsn, &left);
    if (left)
        log_error("the migration left the streaming phase: run verify again");
    c->hold_set = c->hold_set || ok;
    if (ok)
        wake_applier(c);
    return ok && wait_for_hold(c);
}

/* The hold protocol (top of file, case b). */
static bool hold_snapshots(verify_conns *c, const conninfo *src_ci, verify_ctx *ctx,
                           verify_result *r)
{
    /* 1. pause the applier where it is: it has then applied nothing at or
     * after the consistent point the slot below will get */
    if (!hold_at(c, PAUSE_NOW_LSN)) {
        clear_hold(c);
        return false;
    }
    c->repl = connect_side(src_ci, DB_SOURCE, DB_MODE_REPLICATION);
    if (!c->repl) {
        clear_hold(c);
        return false;
    }
    char cmd[160];
    snprintf(cmd, sizeof cmd,
             "CREATE_REPLICATION_SLOT pgbaton_verify_%ld TEMPORARY LOGICAL wal2json "
             "(SNAPSHOT 'export')",
             (long)getpid());
    db_res *res = db_exec(c->repl, DB_LOG, cmd, 0, NULL);
    if (!res || !db_check_shape(c->repl, res, 4, 1, "CREATE_REPLICATION_SLOT")) {
        db_res_free(res);
        clear_hold(c);
        return false;
    }
    char *lsn = xstrdup(db_val(res, 0, 1));
    ctx->src_snapshot = xstrdup(db_val(res, 0, 2));
    db_res_free(res);

    /* 2. let the applier advance to exactly L, then read the target there;
     * the source control connection imports the slot's snapshot only then
     * (it stays valid while the replication connection is idle), so that
     * it can wake the applier outside a transaction */
    bool ok = hold_at(c, lsn) && (ctx->dst_snapshot = begin_and_export(c->dst)) != NULL;
    clear_hold(c);
    ok = ok && db_begin_snapshot(c->src, ctx->src_snapshot);
    if (ok)
        if (asprintf(&r->consistency,
                     "streaming held at source LSN %s: the target had applied every source "
                     "transaction committed before it",
                     lsn) < 0)
            r->consistency = NULL;
    free(lsn);
    return ok;
}

/* Decide how to compare (top of file) and open the snapshots. Returns an
 * exit code: EXIT_OK to go on. */
static int open_snapshots(verify_conns *c, const conninfo *src_ci, verify_ctx *ctx,
                          verify_result *r)
{
    bool found = false;
    state_phase phase = PHASE_UNKNOWN;
    if (!state_read_phase(c->admin, c->name, &found, &phase))
        return EXIT_FAILURE_RUNTIME;
    int rc = EXIT_OK;
    if (!found || phase == PHASE_DONE) {
        ctx->src_snapshot = begin_and_export(c->src);
        ctx->dst_snapshot = ctx->src_snapshot ? begin_and_export(c->dst) : NULL;
        if (!ctx->dst_snapshot)
            rc = EXIT_FAILURE_RUNTIME;
        r->consistency = xstrdup(found ? "after cutover (source frozen): one snapshot per side"
                                       : "no migration running: one snapshot per side");
        r->seqs_checked = true;
    } else if (phase == PHASE_STREAMING) {
        if (!hold_snapshots(c, src_ci, ctx, r))
            rc = EXIT_FAILURE_RUNTIME;
    } else {
        const char *why = phase == PHASE_COPYING || phase == PHASE_INDEXING
                              ? "the copy is still running; verify after it finishes"
                          : phase == PHASE_CUTOVER
                              ? "a cutover is in progress; verify after it completes"
                              : "the migration is not running; verify during streaming (start "
                                "it again) or after a cutover";
        log_error("cannot verify migration \"%s\" in phase %s: %s", c->name,
                  state_phase_name(phase), why);
        rc = EXIT_USAGE;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* output */

typedef struct verify_counts {
    int equal, differ, seqs_behind, crud_ok, crud_skipped, crud_failed;
    bool schema_equal;
} verify_counts;

static verify_counts count_results(const verify_result *r)
{
    verify_counts n = {.schema_equal = r->schema_diffs.n == 0};
    for (int i = 0; i < r->ntables; i++) {
        const verify_table *t = &r->tables[i];
        if (t->status == VERIFY_EQUAL)
            n.equal++;
        else
            n.differ++;
        if (t->crud_status) {
            n.crud_ok += strcmp(t->crud_status, "ok") == 0;
            n.crud_skipped += strcmp(t->crud_status, "skipped") == 0;
            n.crud_failed += strcmp(t->crud_status, "failed") == 0;
        }
    }
    n.differ += r->target_only_tables.n;
    for (int i = 0; i < r->nseqs; i++)
        n.seqs_behind += r->seqs[i].behind;
    return n;
}

static bool backup_failed(const verify_result *r)
{
    return r->backup.status && strcmp(r->backup.status, "failed") == 0;
}

static char *summary_line(const verify_result *r, const verify_counts *n, bool crud)
{
    char *s = NULL;
    if (asprintf(&s, "verify: %d tables equal, %d differ; %s", n->equal, n->differ,
                 n->schema_equal ? "schema equal" : "schema differs") < 0)
        return NULL;
    char *more = NULL;
    if (n->seqs_behind && asprintf(&more, "%s; %d sequences behind", s, n->seqs_behind) >= 0) {
        free(s);
        s = more;
    }
    if (crud && asprintf(&more, "%s; crud: %d ok, %d skipped, %d failed", s, n->crud_ok,
                         n->crud_skipped, n->crud_failed) >= 0) {
        free(s);
        s = more;
    }
    if (backup_failed(r) && asprintf(&more, "%s; backup failed", s) >= 0) {
        free(s);
        s = more;
    }
    return s;
}

static void print_list(const char *label, const strlist *l, bool *first)
{
    if (l->n == 0)
        return;
    printf("%s%s: ", *first ? "" : "; ", label);
    for (int i = 0; i < l->n; i++)
        printf("%s%s", i ? ", " : "", l->items[i]);
    *first = false;
}

static void print_table(const verify_table *t)
{
    if (t->status == VERIFY_EQUAL) {
        printf("table %s: equal (%" PRId64 " rows)\n", t->display, t->rows_source);
        return;
    }
    printf("table %s: %s: ", t->display, t->status == VERIFY_ERROR ? "ERROR" : "DIFFERENT");
    bool first = true;
    for (int i = 0; i < t->notes.n; i++, first = false)
        printf("%s%s", first ? "" : "; ", t->notes.items[i]);
    print_list("missing on target", &t->missing, &first);
    print_list("extra on target", &t->extra, &first);
    print_list("changed", &t->changed, &first);
    print_list("first rows", &t->sample, &first);
    printf("\n");
}

static void print_human(const verify_result *r, const verify_counts *n, bool crud)
{
    printf("consistency: %s\n", r->consistency ? r->consistency : "");
    if (n->schema_equal)
        printf("schema: equal\n");
    else
        printf("schema: %d differences\n", r->schema_diffs.n);
    for (int i = 0; i < r->schema_diffs.n; i++)
        printf("  %s\n", r->schema_diffs.items[i]);
    for (int i = 0; i < r->ntables; i++)
        print_table(&r->tables[i]);
    for (int i = 0; i < r->target_only_tables.n; i++)
        printf("table %s: DIFFERENT: exists only on target\n", r->target_only_tables.items[i]);
    if (!r->seqs_checked)
        printf("sequences: not compared while streaming (they are copied at cutover)\n");
    for (int i = 0; i < r->nseqs; i++) {
        const verify_sequence *q = &r->seqs[i];
        if (!q->target)
            printf("sequence %s: missing on target\n", q->name);
        else if (q->behind)
            printf("sequence %s: BEHIND: next value %s on source, %s on target\n", q->name,
                   q->source, q->target);
    }
    for (int i = 0; crud && i < r->ntables; i++) {
        const verify_table *t = &r->tables[i];
        printf("crud %s: %s%s%s\n", t->display, t->crud_status ? t->crud_status : "not run",
               t->crud_reason ? ": " : "", t->crud_reason ? t->crud_reason : "");
    }
    const verify_backup *b = &r->backup;
    if (b->status && strcmp(b->status, "ok") == 0)
        printf("backup: ok: %s of the target as role %s, schema and data, in %.1f s\n", b->tool,
               b->role, b->seconds);
    else if (b->status)
        printf("backup: %s: %s\n", b->status, b->reason ? b->reason : "");
    char *line = summary_line(r, n, crud);
    printf("%s\n", line ? line : "verify: summary unavailable");
    free(line);
}

/* New reference: a JSON array of the list's strings. */
/* New reference: one table's results. */
static json_t *json_table(const verify_table *t, bool crud)
{
    static const char *const status[] = {"equal", "different", "error"};
    /* how the checksum is taken, and how a difference is narrowed to keys */
    static const char *const method[] = {"whole table (no key)",
                                         "whole table, narrowed by key ranges", "whole table"};
    json_t *o = json_object();
    json_object_set_new(o, "schema", json_string(t->schema));
    json_object_set_new(o, "table", json_string(t->name));
    json_object_set_new(o, "status", json_string(status[t->status]));
    json_object_set_new(o, "rows_source", json_integer(t->rows_source));
    json_object_set_new(o, "rows_target", json_integer(t->rows_target));
    json_object_set_new(o, "key", t->key_label ? json_string(t->key_label) : json_null());
    json_object_set_new(o, "checksum_method",
                        json_string(t->split ? "key ranges" : method[t->key_kind]));
    json_object_set_new(o, "differences", strlist_json(&t->notes));
    json_object_set_new(o, "missing_on_target", strlist_json(&t->missing));
    json_object_set_new(o, "extra_on_target", strlist_json(&t->extra));
    json_object_set_new(o, "changed", strlist_json(&t->changed));
    json_object_set_new(o, "sample_differences", strlist_json(&t->sample));
    if (crud) {
        json_t *c = json_object();
        json_object_set_new(c, "status", json_string(t->crud_status ? t->crud_status : "not run"));
        json_object_set_new(c, "reason",
                            t->crud_reason ? json_string(t->crud_reason) : json_null());
        json_object_set_new(o, "crud", c);
    }
    return o;
}

json_t *verify_backup_json(const verify_backup *b)
{
    return json_pack("{s:s, s:s?, s:s?, s:f, s:s?}", "status", b->status, "role", b->role, "tool",
                     b->tool, "seconds", b->seconds, "reason", b->reason);
}

static void print_json(const verify_result *r, const verify_counts *n, bool crud)
{
    json_t *root = json_object();
    json_object_set_new(root, "consistency", json_string(r->consistency ? r->consistency : ""));
    json_t *schema = json_object();
    json_object_set_new(schema, "equal", json_boolean(n->schema_equal));
    json_object_set_new(schema, "differences", strlist_json(&r->schema_diffs));
    json_object_set_new(root, "schema", schema);
    json_t *tables = json_array();
    for (int i = 0; i < r->ntables; i++)
        json_array_append_new(tables, json_table(&r->tables[i], crud));
    json_object_set_new(root, "tables", tables);
    json_object_set_new(root, "tables_only_on_target", strlist_json(&r->target_only_tables));
    json_t *seqs = json_array();
    for (int i = 0; i < r->nseqs; i++) {
        json_t *q = json_object();
        json_object_set_new(q, "name", json_string(r->seqs[i].name));
        json_object_set_new(q, "source_next", json_string(r->seqs[i].source));
        json_object_set_new(q, "target_next",
                            r->seqs[i].target ? json_string(r->seqs[i].target) : json_null());
        json_object_set_new(q, "behind", json_boolean(r->seqs[i].behind));
        json_array_append_new(seqs, q);
    }
    json_object_set_new(root, "sequences", seqs);
    json_object_set_new(root, "sequences_checked", json_boolean(r->seqs_checked));
    if (r->backup.status)
        json_object_set_new(root, "backup", verify_backup_json(&r->backup));
    json_t *sum = json_object();
    char *line = summary_line(r, n, crud);
    json_object_set_new(sum, "line", json_string(line ? line : ""));
    free(line);
    json_object_set_new(sum, "tables_equal", json_integer(n->equal));
    json_object_set_new(sum, "tables_differ", json_integer(n->differ));
    json_object_set_new(sum, "schema_equal", json_boolean(n->schema_equal));
    json_object_set_new(sum, "sequences_behind", json_integer(n->seqs_behind));
    if (crud) {
        json_object_set_new(sum, "crud_ok", json_integer(n->crud_ok));
        json_object_set_new(sum, "crud_skipped", json_integer(n->crud_skipped));
        json_object_set_new(sum, "crud_failed", json_integer(n->crud_failed));
    }
    json_object_set_new(sum, "equal",
                        json_boolean(n->differ == 0 && n->schema_equal && n->seqs_behind == 0 &&
                                     n->crud_failed == 0 && !backup_failed(r)));
    json_object_set_new(root, "summary", sum);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("%s\n", text ? text : "{}");
    free(text);
    json_decref(root);
}

/* ------------------------------------------------------------------ */
/* the command */

static int64_t chunk_rows_setting(void)
{
    const char *env = getenv("PGBATON_VERIFY_CHUNK_ROWS");
    long long v = env ? atoll(env) : 0;
    return v > 0 ? v : DEFAULT_CHUNK_ROWS;
}

/* Rows from which a table may be checksummed in key ranges by all workers
 * (PGBATON_VERIFY_SPLIT_ROWS overrides, for tests). */
static int64_t split_rows_setting(void)
{
    const char *env = getenv("PGBATON_VERIFY_SPLIT_ROWS");
    long long v = env ? atoll(env) : 0;
    return v > 0 ? v : DEFAULT_SPLIT_ROWS;
}

/* Everything after the snapshots are open; returns an exit code. */
static int compare(verify_conns *c, verify_ctx *ctx, verify_result *r, const verify_run_opts *ro)
{
    double t0 = mono_now();
    bool ok = verify_schema(ctx, r) && verify_load_tables(ctx, r);
    double t1 = mono_now();
    ok = ok && verify_data(ctx, r);
    double t2 = mono_now();
    ok = ok && verify_samples(ctx, r) && (!r->seqs_checked || verify_sequences(ctx, r));
    if (!ok) {
        log_error("verify could not complete: see the errors above");
        return EXIT_FAILURE_RUNTIME;
    }
    log_debug("verify: schema and table list %.3f s, row checksums %.3f s, first rows and "
              "sequences %.3f s",
              t1 - t0, t2 - t1, mono_now() - t2);
    /* the snapshots are no longer needed: end them before the CRUD test */
    if (!db_command(c->src, "COMMIT") || !db_command(c->dst, "COMMIT"))
        return EXIT_FAILURE_RUNTIME;
    if (ro->crud && !verify_crud(c->admin, r)) {
        log_error("the CRUD smoke test could not complete: see the errors above");
        return EXIT_FAILURE_RUNTIME;
    }
    r->crud_run = ro->crud;
    if (ro->crud)
        verify_backup_check(c->admin, ctx->dst_ci, &r->backup);
    verify_counts n = count_results(r);
    if (ro->output == VERIFY_PRINT_JSON)
        print_json(r, &n, ro->crud);
    else if (ro->output == VERIFY_PRINT_HUMAN)
        print_human(r, &n, ro->crud);
    bool missing_seq = false;
    for (int i = 0; i < r->nseqs; i++)
        missing_seq = missing_seq || !r->seqs[i].target;
    r->same = n.differ == 0 && n.schema_equal && n.seqs_behind == 0 && !missing_seq;
    r->equal = r->same && n.crud_failed == 0 && !backup_failed(r);
    return r->equal ? EXIT_OK : EXIT_FAILURE_RUNTIME;
}

int verify_run(const pgb_options *o, const verify_run_opts *ro, verify_result *r)
{
    double start = mono_now();
    conninfo *src_ci = cli_conninfo(o, DB_SOURCE);
    conninfo *dst_ci = src_ci ? cli_conninfo(o, DB_TARGET) : NULL;
    if (!dst_ci) {
        conninfo_free(src_ci);
        return EXIT_USAGE;
    }
    verify_conns c = {.name = o->name};
    verify_ctx ctx = {.src_ci = src_ci,
                      .dst_ci = dst_ci,
                      .jobs = o->jobs > 0 ? o->jobs : default_jobs(),
                      .sample = o->sample,
                      .chunk_rows = chunk_rows_setting(),
                      .split_rows = split_rows_setting()};
    int rc = EXIT_FAILURE_RUNTIME;

    c.src = connect_side(src_ci, DB_SOURCE, DB_MODE_NORMAL);
    c.dst = c.src ? connect_side(dst_ci, DB_TARGET, DB_MODE_NORMAL) : NULL;
    c.admin = c.dst ? connect_side(dst_ci, DB_TARGET, DB_MODE_NORMAL) : NULL;
    if (c.admin) {
        ctx.src = c.src;
        ctx.dst = c.dst;
        double t0 = mono_now();
        rc = open_snapshots(&c, src_ci, &ctx, r);
        if (rc == EXIT_OK) {
            log_debug("verify: connected in %.3f s, snapshots open in %.3f s", t0 - start,
                      mono_now() - t0);
            log_info("verify: %s", r->consistency ? r->consistency : "");
            rc = compare(&c, &ctx, r, ro);
        }
    }
    clear_hold(&c);
    db_close(c.repl); /* drops the temporary slot */
    db_close(c.src);
    db_close(c.dst);
    db_close(c.admin);
    free(ctx.src_snapshot);
    free(ctx.dst_snapshot);
    conninfo_free(src_ci);
    conninfo_free(dst_ci);
    return rc;
}

int cmd_verify(const pgb_options *o)
{
    verify_run_opts ro = {.output = o->json ? VERIFY_PRINT_JSON : VERIFY_PRINT_HUMAN,
                          .crud = o->crud};
    verify_result r = {0};
    int rc = verify_run(o, &ro, &r);
    verify_result_free(&r);
    return rc;
}
