/*
 * src/report.c — `pgbaton report`: the final report for the change ticket.
 *
 * Everything comes from the state on the target (pgbaton.migration, event,
 * lag_sample) and from the two servers: versions, the structure migrated
 * (counted from the same catalog description verify compares), rows per
 * table, the verify and CRUD results (verify_run with the CRUD test, when
 * the phase allows a comparison: none, streaming or done; during a copy or
 * a cutover, rows are counted without comparing), phase timings and the
 * write-unavailability, lag over the run, warnings.
 *
 * Markdown (default) or JSON (--format json), on stdout or into -o FILE.
 * With Markdown into a file, the lag chart is written beside it as
 * NAME-lag.svg (a hand-written SVG line chart) and linked; JSON carries the
 * series itself. The whole text is passed through log_redact() before it is
 * written; it holds names, counts, keys and timings — never a password and
 * never a column value of a user table.
 */
#include "cli.h"
#include "log.h"
#include "sql_embed.h"
#include "state.h"
#include "state_read.h"
#include "verify.h"
#include "xalloc.h"

#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Object kinds counted in "structure migrated", as verify_schema.sql names them. */
static const char *const kinds[] = {"table",    "index",    "constraint", "trigger",
                                    "function", "sequence", "view",       "extension"};
#define NKINDS ((int)(sizeof kinds / sizeof kinds[0]))
static const char *const kind_plurals[NKINDS] = {"tables",   "indexes",   "constraints",
                                                 "triggers", "functions", "sequences",
                                                 "views",    "extensions"};

/* the state's order of phase durations (include/state_read.h) */
static const char *const phase_names[] = {"schema", "copy", "indexes", "catch-up", "cutover"};
#define NPHASES STATE_REPORT_NPHASES

/* One table's row counts (from verify, or counted directly). */
typedef struct report_table {
    char *schema, *name;          /* its identity (never a joined string); owned */
    char *display;                /* each part quoted as quote_ident() does; owned */
    long long rows_src, rows_dst; /* -1 when unknown */
} report_table;

typedef struct report {
    const pgb_options *o;
    char *phase;                                               /* NULL: no migration state */
    char *src_masked, *dst_masked, *src_version, *dst_version; /* owned */
    char *plugin;               /* the slot's decoder; owned, NULL without state */
    char *started_at, *done_at; /* owned or NULL */
    double timing[NPHASES];
    bool timing_set[NPHASES];
    double write_unavailable_ms;
    bool write_unavailable_set;
    int counts[NKINDS];
    report_table *tables; /* owned */
    int ntables;
    verify_result vr;
    bool verify_ran;
    char *verify_note;    /* why verify did not run; owned */
    state_lag_point *lag; /* owned */
    int nlag;
    strlist warnings; /* "at level message" */
    strlist unlogged; /* what the cutover did with each unlogged table: "at message" */
} report;

/* ------------------------------------------------------------------ */
/* gathering */

/* The row's fields into RP, which takes over its strings. */
static void take_migration(report *rp, state_report_row *m)
{
    rp->phase = m->phase;
    if (m->source_masked) {
        free(rp->src_masked);
        rp->src_masked = m->source_masked;
    }
    if (m->target_masked) {
        free(rp->dst_masked);
        rp->dst_masked = m->target_masked;
    }
    rp->started_at = m->started_at;
    rp->done_at = m->done_at;
    for (int i = 0; i < NPHASES; i++) {
        rp->timing_set[i] = !isnan(m->phase_seconds[i]);
        rp->timing[i] = rp->timing_set[i] ? m->phase_seconds[i] : 0;
    }
    rp->write_unavailable_set = !isnan(m->write_unavailable_ms);
    rp->write_unavailable_ms = rp->write_unavailable_set ? m->write_unavailable_ms : 0;
    rp->plugin = m->plugin;
    memset(m, 0, sizeof *m);
}

/* The events of the run: the warnings and errors, and what the cutover did
 * with each unlogged table. */
static bool read_events(report *rp, db_conn *dst)
{
    state_event_row *ev = NULL;
    int n = 0;
    if (!state_read_problems(dst, rp->o->name, &ev, &n))
        return false;
    for (int i = 0; i < n; i++)
        strlist_addf(&rp->warnings, "%s %s: %s", ev[i].at, ev[i].level, ev[i].message);
    state_events_free(ev, n);
    if (!state_read_unlogged_events(dst, rp->o->name, &ev, &n))
        return false;
    for (int i = 0; i < n; i++)
        strlist_addf(&rp->unlogged, "%s %s", ev[i].at, ev[i].message);
    state_events_free(ev, n);
    return true;
}

static bool read_migration(report *rp, db_conn *dst)
{
    bool exists = false;
    if (!state_schema_exists(dst, DB_LOG, &exists))
        return false;
    if (!exists)
        return true;
    state_report_row m;
    int found = state_read_report(dst, rp->o->name, &m);
    if (found < 0)
        return false;
    if (found)
        take_migration(rp, &m);
    if (!rp->phase)
        return true;
    return state_read_lag_history(dst, rp->o->name, &rp->lag, &rp->nlag) && read_events(rp, dst);
}

/* Rows I and J of RES describe the same object: the same (kind, schema,
 * name, sub). */
static bool same_object(const db_res *res, int i, int j)
{
    static const int parts[] = {VERIFY_SC_KIND, VERIFY_SC_SCHEMA, VERIFY_SC_NAME, VERIFY_SC_SUB};
    for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++)
        if (strcmp(db_val(res, i, parts[k]), db_val(res, j, parts[k])) != 0)
            return false;
    return true;
}

/* Count the source's objects by kind, and list its tables. */
static bool read_structure(report *rp, db_conn *src)
{
    db_res *res = db_exec(src, DB_LOG, sql_verify_schema, 0, NULL);
    if (!res || !db_check_shape(src, res, VERIFY_SC_NCOLS, 0, "schema description")) {
        db_res_free(res);
        return false;
    }
    int n = db_nrows(res);
    rp->tables = xcalloc((size_t)n + 1, sizeof *rp->tables);
    for (int i = 0; i < n; i++) {
        const char *kind = db_val(res, i, VERIFY_SC_KIND);
        if (i > 0 && same_object(res, i, i - 1))
            continue; /* another aspect of the same object */
        for (int k = 0; k < NKINDS; k++)
            if (strcmp(kind, kinds[k]) == 0 || (k == 6 && strcmp(kind, "materialized view") == 0))
                rp->counts[k]++;
        if (strcmp(kind, "table") == 0)
            rp->tables[rp->ntables++] =
                (report_table){.schema = xstrdup(db_val(res, i, VERIFY_SC_SCHEMA)),
                               .name = xstrdup(db_val(res, i, VERIFY_SC_NAME)),
                               .display = xstrdup(db_val(res, i, VERIFY_SC_DISPLAY)),
                               .rows_src = -1,
                               .rows_dst = -1};
    }
    db_res_free(res);
    return true;
}

static bool phase_allows_verify(const char *phase)
{
    state_phase p = state_phase_parse(phase);
    return !phase || p == PHASE_STREAMING || p == PHASE_DONE;
}

/* Verify's result for table SCHEMA.NAME, or NULL. */
static const verify_table *verify_table_of(const report *rp, const char *schema, const char *name)
{
    for (int j = 0; j < rp->vr.ntables; j++)
        if (strcmp(schema, rp->vr.tables[j].schema) == 0 &&
            strcmp(name, rp->vr.tables[j].name) == 0)
            return &rp->vr.tables[j];
    return NULL;
}

/* Rows of every table from verify's results. */
static void rows_from_verify(report *rp)
{
    for (int i = 0; i < rp->ntables; i++) {
        const verify_table *v = verify_table_of(rp, rp->tables[i].schema, rp->tables[i].name);
        if (v) {
            rp->tables[i].rows_src = v->rows_source;
            rp->tables[i].rows_dst = v->on_target ? v->rows_target : -1;
        }
    }
}

/* count(*) of table SCHEMA.NAME on DB, -1 when it fails. */
static long long count_rows(db_conn *db, const char *schema, const char *name)
{
    char *qual = db_quote_qualified(schema, name);
    char *sql = NULL;
    long long n = -1;
    if (asprintf(&sql, "SELECT count(*) FROM ONLY %s", qual) >= 0) {
        db_res *res = db_exec(db, DB_QUIET, sql, 0, NULL);
        if (res && db_nrows(res) == 1)
            n = atoll(db_val(res, 0, 0));
        db_res_free(res);
    }
    free(sql);
    free(qual);
    return n;
}

static bool gather(report *rp, const conninfo *src_ci, const conninfo *dst_ci)
{
    db_connect_opts opts = {.application_name = "pgbaton report", .errmode = DB_LOG};
    db_conn *src = db_connect(src_ci, DB_SOURCE, &opts, NULL, NULL);
    db_conn *dst = src ? db_connect(dst_ci, DB_TARGET, &opts, NULL, NULL) : NULL;
    bool ok = dst != NULL;
    if (ok) {
        rp->src_masked = xstrdup(src_ci->masked);
        rp->dst_masked = xstrdup(dst_ci->masked);
        rp->src_version = db_scalar(src, "SHOW server_version", 0, NULL, NULL);
        rp->dst_version = db_scalar(dst, "SHOW server_version", 0, NULL, NULL);
        ok = rp->src_version && rp->dst_version && read_migration(rp, dst) &&
             read_structure(rp, src);
    }
    if (ok && phase_allows_verify(rp->phase)) {
        verify_run_opts ro = {.output = VERIFY_PRINT_NONE, .crud = true};
        int rc = verify_run(rp->o, &ro, &rp->vr);
        rp->verify_ran =
            rc == EXIT_OK || (rc == EXIT_FAILURE_RUNTIME && rp->vr.consistency && rp->vr.tables);
        if (!rp->verify_ran)
            rp->verify_note = xstrdup("verify could not complete (see the log)");
        rows_from_verify(rp);
    } else if (ok) {
        if (asprintf(&rp->verify_note, "not run: the migration is in phase %s", rp->phase) < 0)
            rp->verify_note = NULL;
    }
    for (int i = 0; ok && i < rp->ntables; i++) {
        if (rp->tables[i].rows_src < 0)
            rp->tables[i].rows_src = count_rows(src, rp->tables[i].schema, rp->tables[i].name);
        if (rp->tables[i].rows_dst < 0)
            rp->tables[i].rows_dst = count_rows(dst, rp->tables[i].schema, rp->tables[i].name);
    }
    db_close(src);
    db_close(dst);
    return ok;
}

/* ------------------------------------------------------------------ */
/* the lag chart */

static bool write_svg(const report *rp, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        log_error("cannot write the lag chart %s: %m; choose another -o directory", path);
        return false;
    }
    const double W = 800, H = 300, L = 60, R = 20, T = 30, B = 40;
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            "<text x=\"%.0f\" y=\"18\">Replication lag (seconds) over the run</text>\n",
            W, H, W, H, L);
    double tmin = rp->nlag ? rp->lag[0].epoch : 0,
           tmax = rp->nlag ? rp->lag[rp->nlag - 1].epoch : 1;
    double lmax = 0;
    for (int i = 0; i < rp->nlag; i++)
        lmax = rp->lag[i].lag_s > lmax ? rp->lag[i].lag_s : lmax;
    if (lmax <= 0)
        lmax = 1;
    if (tmax <= tmin)
        tmax = tmin + 1;
    fprintf(f,
            "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n"
            "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n"
            "<text x=\"5\" y=\"%.0f\">%.1f s</text><text x=\"5\" y=\"%.0f\">0 s</text>\n",
            L, H - B, W - R, H - B, L, T, L, H - B, T + 4, lmax, H - B);
    if (rp->nlag == 0) {
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">no lag samples recorded</text>\n", L + 20, H / 2);
    } else {
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n", L, H - 10, rp->lag[0].at);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s</text>\n", W - R, H - 10,
                rp->lag[rp->nlag - 1].at);
        fprintf(f, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"");
        for (int i = 0; i < rp->nlag; i++)
            fprintf(f, "%s%.1f,%.1f", i ? " " : "",
                    L + (rp->lag[i].epoch - tmin) / (tmax - tmin) * (W - L - R),
                    (H - B) - rp->lag[i].lag_s / lmax * (H - B - T));
        fprintf(f, "\"/>\n");
    }
    fprintf(f, "</svg>\n");
    return fclose(f) == 0;
}

/* ------------------------------------------------------------------ */
/* Markdown */

static void md_duration(FILE *f, const char *label, bool set, double s)
{
    if (set)
        fprintf(f, "| %s | %.1f s |\n", label, s);
    else
        fprintf(f, "| %s | — |\n", label);
}

static void md_verify(FILE *f, const report *rp)
{
    fprintf(f, "## Verify\n\n");
    if (!rp->verify_ran) {
        fprintf(f, "%s\n\n", rp->verify_note ? rp->verify_note : "not run");
        return;
    }
    fprintf(f, "Result: **%s**. Consistency: %s.\n\n", rp->vr.equal ? "equal" : "DIFFERENCES",
            rp->vr.consistency ? rp->vr.consistency : "");
    fprintf(f, "Schema: %s\n\n", rp->vr.schema_diffs.n ? "differs" : "equal");
    for (int i = 0; i < rp->vr.schema_diffs.n; i++)
        fprintf(f, "- %s\n", rp->vr.schema_diffs.items[i]);
    for (int i = 0; i < rp->vr.nseqs; i++)
        if (rp->vr.seqs[i].behind || !rp->vr.seqs[i].target)
            fprintf(f, "- sequence %s: %s\n", rp->vr.seqs[i].name,
                    rp->vr.seqs[i].target ? "behind on target" : "missing on target");
    if (rp->vr.schema_diffs.n || rp->vr.nseqs)
        fprintf(f, "\n");
    fprintf(f, "## CRUD smoke test\n\n| table | result | reason |\n| --- | --- | --- |\n");
    for (int i = 0; i < rp->vr.ntables; i++) {
        const verify_table *t = &rp->vr.tables[i];
        fprintf(f, "| %s | %s | %s |\n", t->display, t->crud_status ? t->crud_status : "not run",
                t->crud_reason ? t->crud_reason : "");
    }
    fprintf(f, "\n");
}

static void md_rows(FILE *f, const report *rp)
{
    fprintf(f, "## Rows per table\n\n| table | source rows | target rows | verify |\n"
               "| --- | ---: | ---: | --- |\n");
    for (int i = 0; i < rp->ntables; i++) {
        const report_table *t = &rp->tables[i];
        const verify_table *v = rp->verify_ran ? verify_table_of(rp, t->schema, t->name) : NULL;
        char s[32] = "—", d[32] = "—";
        if (t->rows_src >= 0)
            snprintf(s, sizeof s, "%lld", t->rows_src);
        if (t->rows_dst >= 0)
            snprintf(d, sizeof d, "%lld", t->rows_dst);
        fprintf(f, "| %s | %s | %s | %s |\n", t->display, s, d,
                !v                          ? "—"
                : v->status == VERIFY_EQUAL ? "equal"
                : v->status == VERIFY_ERROR ? "error"
                                            : "DIFFERENT");
    }
    fprintf(f, "\n");
}

static void write_md(FILE *f, const report *rp, const char *svg_name)
{
    bool done = rp->phase && state_phase_parse(rp->phase) == PHASE_DONE;
    fprintf(f, "# pgbaton migration report: %s\n\n", rp->o->name);
    fprintf(f, "Status: **%s**%s%s%s\n\n", done ? "complete" : "IN PROGRESS",
            rp->phase ? " (phase " : " (no migration state on the target)",
            rp->phase ? rp->phase : "", rp->phase ? ")" : "");
    fprintf(f, "## Migration\n\n| | connection | version |\n| --- | --- | --- |\n");
    fprintf(f, "| source | `%s` | %s |\n| target | `%s` | %s |\n\n", rp->src_masked,
            rp->src_version, rp->dst_masked, rp->dst_version);
    if (rp->plugin)
        fprintf(f, "Changes decoded with %s.\n\n", rp->plugin);
    if (rp->started_at)
        fprintf(f, "Started %s; %s%s.\n\n", rp->started_at, rp->done_at ? "done " : "not done yet",
                rp->done_at ? rp->done_at : "");
    fprintf(f, "## Structure migrated\n\n| object | count |\n| --- | ---: |\n");
    for (int k = 0; k < NKINDS; k++)
        fprintf(f, "| %s | %d |\n", kind_plurals[k], rp->counts[k]);
    fprintf(f, "\nTables:");
    for (int i = 0; i < rp->ntables; i++)
        fprintf(f, "%s `%s`", i ? "," : "", rp->tables[i].display);
    fprintf(f, "\n\n");
    md_rows(f, rp);
    md_verify(f, rp);
    fprintf(f, "## Timings\n\n| phase | duration |\n| --- | ---: |\n");
    for (int i = 0; i < NPHASES; i++)
        md_duration(f, phase_names[i], rp->timing_set[i], rp->timing[i]);
    if (rp->write_unavailable_set)
        fprintf(f, "| write unavailability | %.0f ms |\n", rp->write_unavailable_ms);
    else
        fprintf(f, "| write unavailability | — |\n");
    fprintf(f, "\n## Lag over the run\n\n");
    double mx = 0;
    for (int i = 0; i < rp->nlag; i++)
        mx = rp->lag[i].lag_s > mx ? rp->lag[i].lag_s : mx;
    fprintf(f, "%d samples, maximum %.1f s, last %.1f s.\n\n", rp->nlag, mx,
            rp->nlag ? rp->lag[rp->nlag - 1].lag_s : 0.0);
    if (svg_name)
        fprintf(f, "![lag over the run](%s)\n\n", svg_name);
    if (rp->unlogged.n > 0) {
        fprintf(f, "## Unlogged tables\n\n");
        for (int i = 0; i < rp->unlogged.n; i++)
            fprintf(f, "- %s\n", rp->unlogged.items[i]);
        fprintf(f, "\n");
    }
    fprintf(f, "## Warnings\n\n");
    if (rp->warnings.n == 0)
        fprintf(f, "None recorded.\n");
    for (int i = 0; i < rp->warnings.n; i++)
        fprintf(f, "- %s\n", rp->warnings.items[i]);
}

/* ------------------------------------------------------------------ */
/* JSON: new references throughout, owned by the root */

static json_t *json_or_null_num(bool set, double v)
{
    return set ? json_real(v) : json_null();
}

static json_t *json_verify(const report *rp)
{
    if (!rp->verify_ran)
        return json_pack("{s:b, s:s?}", "ran", 0, "note", rp->verify_note);
    json_t *v =
        json_pack("{s:b, s:b, s:s?, s:o}", "ran", 1, "equal", rp->vr.equal, "consistency",
                  rp->vr.consistency, "schema_differences", strlist_json(&rp->vr.schema_diffs));
    json_t *tables = json_array(), *crud = json_array(), *seqs = json_array();
    for (int i = 0; i < rp->vr.ntables; i++) {
        const verify_table *t = &rp->vr.tables[i];
        json_t *diffs = strlist_json(&t->notes);
        json_t *sample = strlist_json(&t->sample); /* new reference: extend does not steal it */
        json_array_extend(diffs, sample);
        json_decref(sample);
        json_array_append_new(
            tables,
            json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "table", t->display, "status",
                      t->status == VERIFY_EQUAL ? "equal" : "different", "differences", diffs,
                      "missing_on_target", strlist_json(&t->missing), "extra_on_target",
                      strlist_json(&t->extra), "changed", strlist_json(&t->changed)));
        json_array_append_new(crud, json_pack("{s:s, s:s, s:s?}", "table", t->display, "status",
                                              t->crud_status ? t->crud_status : "not run", "reason",
                                              t->crud_reason));
    }
    for (int i = 0; i < rp->vr.nseqs; i++)
        json_array_append_new(seqs, json_pack("{s:s, s:b, s:b}", "name", rp->vr.seqs[i].name,
                                              "behind", rp->vr.seqs[i].behind, "on_target",
                                              rp->vr.seqs[i].target != NULL));
    json_object_set_new(v, "tables", tables);
    json_object_set_new(v, "sequences", seqs);
    json_object_set_new(v, "crud", crud);
    return v;
}

static json_t *build_json(const report *rp)
{
    json_t *root = json_object();
    json_object_set_new(root, "name", json_string(rp->o->name));
    json_object_set_new(root, "phase", rp->phase ? json_string(rp->phase) : json_null());
    json_object_set_new(root, "plugin", rp->plugin ? json_string(rp->plugin) : json_null());
    json_object_set_new(root, "in_progress",
                        json_boolean(!rp->phase || state_phase_parse(rp->phase) != PHASE_DONE));
    json_object_set_new(
        root, "source",
        json_pack("{s:s, s:s?}", "connection", rp->src_masked, "version", rp->src_version));
    json_object_set_new(
        root, "target",
        json_pack("{s:s, s:s?}", "connection", rp->dst_masked, "version", rp->dst_version));
    json_t *st = json_object(), *tl = json_array(), *rows = json_array();
    for (int k = 0; k < NKINDS; k++) {
        json_object_set_new(st, kind_plurals[k], json_integer(rp->counts[k]));
    }
    for (int i = 0; i < rp->ntables; i++) {
        json_array_append_new(tl, json_string(rp->tables[i].display));
        json_array_append_new(
            rows,
            json_pack(
                "{s:s, s:o, s:o}", "table", rp->tables[i].display, "source",
                rp->tables[i].rows_src >= 0 ? json_integer(rp->tables[i].rows_src) : json_null(),
                "target",
                rp->tables[i].rows_dst >= 0 ? json_integer(rp->tables[i].rows_dst) : json_null()));
    }
    json_object_set_new(st, "table_list", tl);
    json_object_set_new(root, "structure", st);
    json_object_set_new(root, "rows", rows);
    json_object_set_new(root, "verify", json_verify(rp));
    json_t *tm = json_object();
    for (int i = 0; i < NPHASES; i++)
        json_object_set_new(tm, phase_names[i], json_or_null_num(rp->timing_set[i], rp->timing[i]));
    json_object_set_new(tm, "write_unavailable_ms",
                        json_or_null_num(rp->write_unavailable_set, rp->write_unavailable_ms));
    json_object_set_new(root, "timings_seconds", tm);
    json_t *lag = json_array();
    for (int i = 0; i < rp->nlag; i++)
        json_array_append_new(lag, json_pack("{s:s, s:f, s:I}", "at", rp->lag[i].at, "lag_seconds",
                                             rp->lag[i].lag_s, "lag_bytes",
                                             (json_int_t)rp->lag[i].lag_b));
    json_object_set_new(root, "lag", lag);
    json_object_set_new(root, "warnings", strlist_json(&rp->warnings));
    json_object_set_new(root, "unlogged_tables", strlist_json(&rp->unlogged));
    return root;
}

/* ------------------------------------------------------------------ */
/* the command */

/* Write TEXT, redacted, to -o FILE or stdout. */
static bool emit(const report *rp, const char *text)
{
    char *clean = log_redact(text);
    FILE *f = rp->o->output ? fopen(rp->o->output, "w") : stdout;
    if (!f) {
        log_error("cannot write the report to %s: %m; check the path and its directory",
                  rp->o->output);
        free(clean);
        return false;
    }
    bool ok = fputs(clean, f) >= 0;
    if (rp->o->output)
        ok = fclose(f) == 0 && ok;
    free(clean);
    if (ok && rp->o->output)
        log_info("report written to %s", rp->o->output);
    return ok;
}

/* The chart's path beside -o FILE (malloc'd) and its name for the link. */
static char *svg_path(const report *rp, const char **name_out)
{
    static char name[128];
    snprintf(name, sizeof name, "%s-lag.svg", rp->o->name);
    char *copy = xstrdup(rp->o->output);
    char *path = NULL;
    if (asprintf(&path, "%s/%s", dirname(copy), name) < 0)
        path = NULL;
    free(copy);
    *name_out = name;
    return path;
}

static void report_free(report *rp)
{
    free(rp->phase);
    free(rp->src_masked);
    free(rp->dst_masked);
    free(rp->src_version);
    free(rp->plugin);
    free(rp->dst_version);
    free(rp->started_at);
    free(rp->done_at);
    for (int i = 0; i < rp->ntables; i++) {
        free(rp->tables[i].schema);
        free(rp->tables[i].name);
        free(rp->tables[i].display);
    }
    free(rp->tables);
    verify_result_free(&rp->vr);
    free(rp->verify_note);
    state_lag_points_free(rp->lag, rp->nlag);
    strlist_free(&rp->warnings);
    strlist_free(&rp->unlogged);
}

int cmd_report(const pgb_options *o)
{
    conninfo *src_ci = cli_conninfo(o, DB_SOURCE);
    conninfo *dst_ci = src_ci ? cli_conninfo(o, DB_TARGET) : NULL;
    if (!dst_ci) {
        conninfo_free(src_ci);
        return EXIT_USAGE;
    }
    report rp = {.o = o};
    bool ok = gather(&rp, src_ci, dst_ci);
    if (ok && strcmp(o->format, "json") == 0) {
        json_t *root = build_json(&rp);
        char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(root);
        ok = text && emit(&rp, text);
        if (text && !o->output)
            fputc('\n', stdout);
        free(text);
    } else if (ok) {
        const char *svg_name = NULL;
        char *svg = o->output ? svg_path(&rp, &svg_name) : NULL;
        ok = !o->output || (svg && write_svg(&rp, svg));
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        if (ok && mem) {
            write_md(mem, &rp, svg_name);
            fclose(mem);
            ok = emit(&rp, text);
        } else if (mem) {
            fclose(mem);
        }
        free(text);
        free(svg);
    }
    report_free(&rp);
    conninfo_free(src_ci);
    conninfo_free(dst_ci);
    return ok ? EXIT_OK : EXIT_FAILURE_RUNTIME;
}
