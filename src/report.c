/*
 * src/report.c — `pgbaton report`: the final report for the change ticket.
 *
 * Everything comes from the state on the target (pgbaton.migration, event,
 * lag_sample) and from the two servers: versions, the structure migrated
 * (counted from the same catalog description verify compares), rows per
 * table, the verify, CRUD and backup-check results (verify_run with the
 * CRUD test, when the phase allows a comparison: none, streaming or done;
 * during a copy or a cutover, rows are counted without comparing), the time
 * of each step and the write-unavailability, lag over the run, warnings.
 * Names are printed as PostgreSQL quotes them (quote_ident, each part:
 * public."dot.ted", "dot.ted".name), as verify prints them.
 *
 * Each timing is named for what it measures, from the instants the state
 * records (sql/state_report_migration.sql): slot (start until the slot and
 * its snapshot exist), schema (until the pre-data schema is restored), copy
 * (the rows), indexes (the rest of post-data), catch-up (end of the copy
 * until the lag first fell below 1 s, from the lag samples), streaming
 * (end of the copy until the cutover began), cutover, total. A step under
 * way shows its time so far.
 *
 * Markdown (default) or JSON (--format json), on stdout or into -o FILE.
 * With Markdown into a file, the lag chart (src/report_chart.c) is written
 * beside it, named after it (report.md: report-lag.svg), and linked; JSON
 * carries the series and the phases' spans. The whole text is passed
 * through log_redact() before it is written; it holds names, counts, keys
 * and timings — never a password and never a column value of a user table.
 */
#include "cli.h"
#include "log.h"
#include "report_chart.h"
#include "sql_embed.h"
#include "state.h"
#include "state_read.h"
#include "verify.h"
#include "xalloc.h"

#include <jansson.h>
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

/* The timed steps: each from one recorded instant to another
 * (state_report_times, as an array by the T_* index), and the phases in
 * which it is under way (its time so far is shown then). */
enum {
    T_STARTED,
    T_SLOT,
    T_SCHEMA,
    T_COPY,
    T_INDEXES,
    T_STREAMING,
    T_CAUGHT_UP,
    T_CUTOVER,
    T_DONE,
    NTIMES
};

static const struct step {
    const char *key;      /* JSON key and the table's first column */
    const char *measures; /* what it times */
    int from, to;         /* T_* */
    unsigned running;     /* PHASE_BIT()s of the phases it is under way in */
} steps[] = {
#define PB(p) (1u << (p))
    {"slot", "start until the slot and its snapshot existed", T_STARTED, T_SLOT, PB(PHASE_COPYING)},
    {"schema",
     "then until the pre-data schema was restored (roles, table list, pg_dump, pg_restore)", T_SLOT,
     T_SCHEMA, PB(PHASE_COPYING)},
    {"copy", "then until every table's rows were copied (with each table's indexes and keys)",
     T_SCHEMA, T_COPY, PB(PHASE_COPYING)},
    {"indexes", "then until the rest of post-data was restored (foreign keys, triggers, ...)",
     T_COPY, T_INDEXES, PB(PHASE_INDEXING)},
    {"catch-up", "end of the copy until the lag first fell below 1 s", T_STREAMING, T_CAUGHT_UP,
     PB(PHASE_STREAMING)},
    {"streaming", "end of the copy until the cutover began (catch-up included)", T_STREAMING,
     T_CUTOVER, PB(PHASE_STREAMING)},
    {"cutover", "the cutover, from its start until done", T_CUTOVER, T_DONE, PB(PHASE_CUTOVER)},
    {"total", "start until the cutover completed", T_STARTED, T_DONE,
     PB(PHASE_COPYING) | PB(PHASE_INDEXING) | PB(PHASE_STREAMING) | PB(PHASE_CUTOVER)},
#undef PB
};
#define NSTEPS ((int)(sizeof steps / sizeof steps[0]))

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
    char *plugin;                     /* the slot's decoder; owned, NULL without state */
    char *started_at, *done_at;       /* owned or NULL */
    state_report_times times;         /* NAN throughout without state */
    double timing[NSTEPS];            /* seconds; NAN: not both ends recorded */
    double so_far[NSTEPS];            /* seconds of a step under way; NAN otherwise */
    report_span spans[REPORT_NSPANS]; /* the chart's phases */
    int nspans;
    double chart_t0, chart_t1; /* the chart's time axis, epoch seconds */
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
    strlist warnings;          /* "at level message" */
    strlist unlogged;          /* what the cutover did with each unlogged table: "at message" */
    state_action_row *actions; /* the audit trail (state_read_actions); owned */
    int nactions;
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
    rp->times = m->times;
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

static void times_array(const state_report_times *t, double out[NTIMES])
{
    out[T_STARTED] = t->started;
    out[T_SLOT] = t->slot;
    out[T_SCHEMA] = t->schema_done;
    out[T_COPY] = t->copy_done;
    out[T_INDEXES] = t->indexes_done;
    out[T_STREAMING] = t->streaming;
    out[T_CAUGHT_UP] = t->caught_up;
    out[T_CUTOVER] = t->cutover;
    out[T_DONE] = t->done;
}

/* Each step's time (or time so far), and the chart's axis and phases. */
static void derive_timings(report *rp)
{
    double tv[NTIMES];
    times_array(&rp->times, tv);
    state_phase phase = state_phase_parse(rp->phase);
    bool running = state_phase_streams(phase) || phase == PHASE_COPYING || phase == PHASE_INDEXING;
    for (int i = 0; i < NSTEPS; i++) {
        double from = tv[steps[i].from], to = tv[steps[i].to];
        rp->timing[i] = !isnan(from) && !isnan(to) ? to - from : NAN;
        bool under_way = !isnan(from) && isnan(to) && phase < PHASE_UNKNOWN &&
                         (steps[i].running & (1u << phase));
        rp->so_far[i] = under_way ? rp->times.now - from : NAN;
    }
    /* the time axis: the whole migration, to now while it runs */
    double t1 = rp->times.done;
    if (isnan(t1)) {
        t1 = running ? rp->times.now : rp->times.started;
        for (int i = 0; i < NTIMES; i++)
            t1 = !isnan(tv[i]) && tv[i] > t1 ? tv[i] : t1;
        if (rp->nlag > 0 && rp->lag[rp->nlag - 1].epoch > t1)
            t1 = rp->lag[rp->nlag - 1].epoch;
    }
    rp->chart_t0 = rp->times.started;
    rp->chart_t1 = t1;
    rp->nspans = report_phase_spans(&rp->times, t1, rp->spans);
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
    if (!state_read_lag_history(dst, rp->o->name, &rp->lag, &rp->nlag) || !read_events(rp, dst) ||
        !state_read_actions(dst, rp->o->name, &rp->actions, &rp->nactions))
        return false;
    derive_timings(rp);
    return true;
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
    double *t = xcalloc((size_t)rp->nlag + 1, sizeof *t);
    double *lag = xcalloc((size_t)rp->nlag + 1, sizeof *lag);
    for (int i = 0; i < rp->nlag; i++) {
        t[i] = rp->lag[i].epoch;
        lag[i] = rp->lag[i].lag_s;
    }
    report_chart c = {.title = rp->o->name,
                      .t0 = rp->chart_t0,
                      .t1 = rp->chart_t1,
                      .t = t,
                      .lag = lag,
                      .n = rp->nlag,
                      .spans = rp->spans,
                      .nspans = rp->nspans};
    char *svg = report_chart_svg(&c);
    free(t);
    free(lag);
    FILE *f = fopen(path, "w");
    bool ok = f && fputs(svg, f) >= 0;
    if (f)
        ok = fclose(f) == 0 && ok;
    if (!ok)
        log_error("cannot write the lag chart %s: %m; choose another -o directory", path);
    free(svg);
    return ok;
}

/* The highest and the last known lag, and how many samples know it. */
static int lag_summary(const report *rp, double *max, double *last)
{
    int known = 0;
    *max = *last = 0;
    for (int i = 0; i < rp->nlag; i++) {
        double v = rp->lag[i].lag_s;
        if (isnan(v))
            continue;
        v = v < 0 ? 0 : v;
        known++;
        *max = v > *max ? v : *max;
        *last = v;
    }
    return known;
}

/* ------------------------------------------------------------------ */
/* Markdown */

/* "12.3 s", "—", "12.3 s so far". */
static void md_step(FILE *f, const report *rp, int i)
{
    if (!isnan(rp->timing[i]))
        fprintf(f, "| %s | %s | %.1f s |\n", steps[i].key, steps[i].measures, rp->timing[i]);
    else if (!isnan(rp->so_far[i]))
        fprintf(f, "| %s | %s | %.1f s so far |\n", steps[i].key, steps[i].measures, rp->so_far[i]);
    else
        fprintf(f, "| %s | %s | — |\n", steps[i].key, steps[i].measures);
}

/* The backup check's line. */
static void md_backup(FILE *f, const report *rp)
{
    const verify_backup *b = &rp->vr.backup;
    fprintf(f, "## Backup check\n\n");
    if (!rp->verify_ran || !b->status)
        fprintf(f, "Not run (it runs with verify).\n\n");
    else if (strcmp(b->status, "ok") == 0)
        fprintf(f,
                "Backup by the target's role: **ok**: `%s` of the target as role `%s` completed "
                "in %.1f s (schema and data, to /dev/null).\n\n",
                b->tool, b->role, b->seconds);
    else
        fprintf(f, "Backup by the target's role: **%s** (role `%s`, after %.1f s): %s.\n\n",
                strcmp(b->status, "failed") == 0 ? "FAILED" : b->status, b->role, b->seconds,
                b->reason ? b->reason : "");
}

static void md_verify(FILE *f, const report *rp)
{
    fprintf(f, "## Verify\n\n");
    if (!rp->verify_ran) {
        fprintf(f, "%s\n\n", rp->verify_note ? rp->verify_note : "not run");
        md_backup(f, rp);
        return;
    }
    fprintf(f, "Result: **%s**. Consistency: %s.\n\n", rp->vr.same ? "equal" : "DIFFERENCES",
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
    md_backup(f, rp);
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

/* What the report says of the migration as a whole. */
static const char *status_word(const report *rp)
{
    if (!rp->phase)
        return "no migration";
    switch (state_phase_parse(rp->phase)) {
    case PHASE_DONE:
        return "complete";
    case PHASE_FAILED:
        return "FAILED";
    case PHASE_STOPPED:
        return "STOPPED";
    default:
        return "IN PROGRESS";
    }
}

static void md_timings(FILE *f, const report *rp)
{
    fprintf(f, "## Timings\n\n");
    if (!rp->phase) {
        fprintf(f, "No migration: nothing was timed.\n\n");
        return;
    }
    fprintf(f, "| step | measures | duration |\n| --- | --- | ---: |\n");
    for (int i = 0; i < NSTEPS; i++)
        md_step(f, rp, i);
    if (rp->write_unavailable_set)
        fprintf(f,
                "| write unavailability | the source refused writes (freeze to done) | %.0f ms "
                "|\n",
                rp->write_unavailable_ms);
    else
        fprintf(f, "| write unavailability | the source refused writes (freeze to done) | — |\n");
    fprintf(f, "\n");
}

static void md_lag(FILE *f, const report *rp, const char *svg_name)
{
    fprintf(f, "## Lag over the run\n\n");
    if (!rp->phase) {
        fprintf(f, "No migration: no lag was sampled.\n\n");
        return;
    }
    double mx, last;
    lag_summary(rp, &mx, &last);
    fprintf(f, "%d samples, maximum %.1f s, last %.1f s.", rp->nlag, mx, last);
    for (int i = 0; i < rp->nspans; i++)
        fprintf(f, "%s %s %.1f–%.1f s",
                i ? "," : " Phases (seconds since the start):", rp->spans[i].name,
                rp->spans[i].from - rp->chart_t0, rp->spans[i].to - rp->chart_t0);
    fprintf(f, "%s\n\n", rp->nspans ? "." : "");
    if (svg_name)
        fprintf(f, "![lag over the run](%s)\n\n", svg_name);
}

/* TEXT for a Markdown table cell: | and newlines would break the row. */
static void md_cell(FILE *f, const char *text)
{
    for (const char *p = text ? text : ""; *p; p++) {
        if (*p == '|')
            fputs("\\|", f);
        else
            fputc(*p == '\n' || *p == '\r' ? ' ' : *p, f);
    }
}

/* The audit trail: every action on either server, in order. */
static void md_actions(FILE *f, const report *rp)
{
    fprintf(f, "## Actions\n\n");
    if (rp->nactions == 0) {
        fprintf(f, "None recorded.\n\n");
        return;
    }
    fprintf(f, "| time (UTC) | server | action | object | outcome | ms | detail |\n"
               "| --- | --- | --- | --- | --- | ---: | --- |\n");
    for (int i = 0; i < rp->nactions; i++) {
        const state_action_row *a = &rp->actions[i];
        fprintf(f, "| %s | %s | ", a->at, a->server);
        md_cell(f, a->action);
        fprintf(f, " | ");
        md_cell(f, a->object ? a->object : "");
        fprintf(f, " | %s | ", a->outcome);
        if (!isnan(a->ms))
            fprintf(f, "%.0f", a->ms);
        fprintf(f, " | ");
        md_cell(f, a->detail);
        fprintf(f, " |\n");
    }
    fprintf(f, "\n");
}

static void write_md(FILE *f, const report *rp, const char *svg_name)
{
    fprintf(f, "# pgbaton migration report: %s\n\n", rp->o->name);
    if (rp->phase)
        fprintf(f, "Status: **%s** (phase %s)\n\n", status_word(rp), rp->phase);
    else
        fprintf(f,
                "Status: **no migration**: the target holds no state of a migration named "
                "\"%s\" (none was started there, or `pgbaton clean` removed it)\n\n",
                rp->o->name);
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
    md_timings(f, rp);
    md_lag(f, rp, svg_name);
    if (rp->unlogged.n > 0) {
        fprintf(f, "## Unlogged tables\n\n");
        for (int i = 0; i < rp->unlogged.n; i++)
            fprintf(f, "- %s\n", rp->unlogged.items[i]);
        fprintf(f, "\n");
    }
    md_actions(f, rp);
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
    json_object_set_new(v, "compared_equal", json_boolean(rp->vr.same));
    json_object_set_new(v, "tables", tables);
    json_object_set_new(v, "sequences", seqs);
    json_object_set_new(v, "crud", crud);
    json_object_set_new(v, "backup",
                        rp->vr.backup.status ? verify_backup_json(&rp->vr.backup) : json_null());
    return v;
}

/* The timings, the times so far of the steps under way, the phases'
 * spans. */
static void json_timings(json_t *root, const report *rp)
{
    json_t *tm = json_object(), *sofar = json_object(), *spans = json_array();
    for (int i = 0; rp->phase && i < NSTEPS; i++) {
        json_object_set_new(tm, steps[i].key,
                            json_or_null_num(!isnan(rp->timing[i]), rp->timing[i]));
        if (!isnan(rp->so_far[i]))
            json_object_set_new(sofar, steps[i].key, json_real(rp->so_far[i]));
    }
    json_object_set_new(tm, "write_unavailable_ms",
                        json_or_null_num(rp->write_unavailable_set, rp->write_unavailable_ms));
    for (int i = 0; i < rp->nspans; i++)
        json_array_append_new(spans, json_pack("{s:s, s:s, s:f, s:f}", "phase", rp->spans[i].name,
                                               "covers", rp->spans[i].about, "from_seconds",
                                               rp->spans[i].from - rp->chart_t0, "to_seconds",
                                               rp->spans[i].to - rp->chart_t0));
    json_object_set_new(root, "timings_seconds", tm);
    json_object_set_new(root, "timings_so_far_seconds", sofar);
    json_object_set_new(root, "phases", spans);
}

static json_t *build_json(const report *rp)
{
    json_t *root = json_object();
    json_object_set_new(root, "name", json_string(rp->o->name));
    json_object_set_new(root, "phase", rp->phase ? json_string(rp->phase) : json_null());
    json_object_set_new(root, "plugin", rp->plugin ? json_string(rp->plugin) : json_null());
    state_phase phase = state_phase_parse(rp->phase);
    json_object_set_new(root, "status",
                        json_string(!rp->phase               ? "none"
                                    : phase == PHASE_DONE    ? "complete"
                                    : phase == PHASE_FAILED  ? "failed"
                                    : phase == PHASE_STOPPED ? "stopped"
                                                             : "in progress"));
    json_object_set_new(root, "in_progress",
                        json_boolean(rp->phase && phase != PHASE_DONE && phase != PHASE_FAILED &&
                                     phase != PHASE_STOPPED));
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
    json_timings(root, rp);
    json_t *lag = json_array();
    for (int i = 0; i < rp->nlag; i++) {
        double v = rp->lag[i].lag_s < 0 ? 0 : rp->lag[i].lag_s;
        json_array_append_new(lag, json_pack("{s:s, s:o, s:I}", "at", rp->lag[i].at, "lag_seconds",
                                             json_or_null_num(!isnan(v), v), "lag_bytes",
                                             (json_int_t)rp->lag[i].lag_b));
    }
    json_object_set_new(root, "lag", lag);
    json_object_set_new(root, "warnings", strlist_json(&rp->warnings));
    json_object_set_new(root, "unlogged_tables", strlist_json(&rp->unlogged));
    json_object_set_new(root, "actions", state_actions_json(rp->actions, rp->nactions));
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
    state_actions_free(rp->actions, rp->nactions);
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
        /* the chart beside the report file, named after it */
        char *svg_name = NULL;
        char *svg = o->output && rp.phase ? report_chart_path(o->output, &svg_name) : NULL;
        ok = !svg || write_svg(&rp, svg);
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
        free(svg_name);
    }
    report_free(&rp);
    conninfo_free(src_ci);
    conninfo_free(dst_ci);
    return ok ? EXIT_OK : EXIT_FAILURE_RUNTIME;
}
