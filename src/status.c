/*
 * src/status.c — `pgbaton status`: where a migration stands.
 *
 * Everything comes from the two databases: the state on the target (phase,
 * applied position, heartbeats, per-table progress, lag samples) and, on the
 * source, the current WAL position, the slot and whether a cutover session
 * is connected. No local file or process is consulted, so status runs from
 * any machine that reaches both servers while `start` runs elsewhere.
 * Definitions of lag and liveness: include/status.h.
 */
#include "status.h"

#include "cli.h"
#include "freeze.h"
#include "log.h"
#include "signals.h"
#include "sql_embed.h"
#include "state_read.h"
#include "xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* --- pure helpers -------------------------------------------------------- */

static bool phase_is(const status_snapshot *s, state_phase p)
{
    return s->ephase == p;
}

int status_health(const status_snapshot *s)
{
    if (!s->found)
        return EXIT_FAILURE_RUNTIME;
    if (phase_is(s, PHASE_DONE))
        return EXIT_OK;
    if (!s->source_ok)
        return EXIT_FAILURE_RUNTIME;
    if (phase_is(s, PHASE_CUTOVER))
        return s->cutover_running ? EXIT_OK : EXIT_FAILURE_RUNTIME;
    if ((phase_is(s, PHASE_COPYING) || phase_is(s, PHASE_INDEXING) ||
         phase_is(s, PHASE_STREAMING)) &&
        s->alive)
        return EXIT_OK;
    return EXIT_FAILURE_RUNTIME;
}

const char *status_hint(const status_snapshot *s)
{
    if (!s->found)
        return "no such migration on the target: run `pgbaton start` first (or check --name)";
    if (s->cutover_interrupted && s->frozen)
        return "cutover interrupted, source frozen: run `pgbaton cutover` to finish or "
               "`pgbaton abort` to unfreeze";
    bool copying = s->stored_ephase == PHASE_COPYING || s->stored_ephase == PHASE_INDEXING;
    if (phase_is(s, PHASE_STOPPED) && copying)
        return "`pgbaton start` stopped during the copy, which cannot resume (its snapshot is "
               "gone): run `pgbaton start --restart` to copy again";
    if (s->cutover_interrupted)
        return "cutover interrupted before the source was frozen (it is writable): run `pgbaton "
               "cutover` to start it again or `pgbaton abort` to stop the migration";
    if (phase_is(s, PHASE_STOPPED) && s->stored_ephase != PHASE_STOPPED)
        return "`pgbaton start` is not running: run it again to resume";
    if (phase_is(s, PHASE_STOPPED))
        return "the migration was stopped (aborted): run `pgbaton clean` to remove what is left";
    if (phase_is(s, PHASE_FAILED) && !s->copy_done)
        return "the copy stopped on the last error above: fix its cause, then run `pgbaton start "
               "--restart` (the copy starts over)";
    if (phase_is(s, PHASE_FAILED))
        return "start stopped on the last error above: fix its cause as it says, then run "
               "`pgbaton start` again (it resumes from the applied position)";
    if (phase_is(s, PHASE_DONE))
        return "cutover complete: the target is authoritative; run `pgbaton clean` when done";
    return NULL;
}

/* --- reading ------------------------------------------------------------- */

static double num_or_nan(const db_res *r, int row, int col)
{
    return db_isnull(r, row, col) ? NAN : strtod(db_val(r, row, col), NULL);
}

static int64_t int_or(const db_res *r, int row, int col, int64_t dflt)
{
    return db_isnull(r, row, col) ? dflt : strtoll(db_val(r, row, col), NULL, 10);
}

static bool is_true(const db_res *r, int row, int col)
{
    return !db_isnull(r, row, col) && db_val(r, row, col)[0] == 't';
}

/* The row's fields into S, which takes over its strings. */
static void take_migration(status_snapshot *s, state_status_row *m)
{
    s->found = true;
    s->stored_phase = m->phase;
    s->slot_name = m->slot_name;
    s->plugin = m->plugin;
    s->publication = m->publication;
    memcpy(s->applied_lsn, m->applied_lsn, sizeof s->applied_lsn);
    s->heartbeat_epoch = m->heartbeat_epoch;
    s->applied_epoch = m->applied_epoch;
    s->changes_applied = m->changes_applied;
    s->alive_age = m->alive_age;
    s->frozen = m->frozen;
    s->fence_lsn = m->fence_lsn;
    s->last_error = m->last_error;
    s->write_unavailable_ms = m->write_unavailable_ms;
    s->freeze_database = m->freeze_database;
    s->freeze_prev_readonly = m->freeze_prev_readonly;
    s->post_fence_changes = m->post_fence_changes;
    s->target_now = m->target_now;
    s->streaming_for = m->streaming_for;
    s->alive_at = m->alive_at;
    s->exited = m->exited;
    s->exited_at = m->exited_at;
    s->exited_age = m->exited_age;
    s->copy_done = m->copy_done;
    memset(m, 0, sizeof *m);
}

static bool read_migration(db_conn *tgt, const char *name, status_snapshot *s)
{
    state_status_row m;
    int found = state_read_status(tgt, name, &m);
    if (found == 1)
        take_migration(s, &m);
    return found >= 0;
}

/* The most a copy that has a table left to copy shows (printed "%.1f"). */
#define COPY_PERCENT_UNFINISHED 99.9

/* The copy's progress. Two byte counts that measure different things:
 * bytes_copied is the COPY data sent (text or binary rows), bytes_total the
 * source tables' size on disk (pages, free space, TOAST compressed); either
 * may be the larger. The percentage weighs each table by its size on disk:
 * a copied table counts whole, one being copied by its COPY bytes up to its
 * size. */
static bool read_tables(db_conn *tgt, const char *name, status_snapshot *s)
{
    if (!state_read_table_progress(tgt, name, &s->tables, &s->ntables))
        return false;
    int n = s->ntables;
    double done_bytes = 0;
    for (int i = 0; i < n; i++) {
        const status_table *t = &s->tables[i];
        bool copied = strcmp(t->state, "copied") == 0 || strcmp(t->state, "indexed") == 0;
        s->tables_copied += copied;
        s->tables_analyzed += t->analyzed;
        s->rows_copied += t->rows_copied;
        s->bytes_copied += t->bytes_copied;
        s->bytes_total += t->size_bytes;
        done_bytes +=
            copied ? (double)t->size_bytes
                   : (double)(t->bytes_copied < t->size_bytes ? t->bytes_copied : t->size_bytes);
    }
    if (n > 0)
        s->copy_percent = s->bytes_total > 0 ? 100.0 * done_bytes / (double)s->bytes_total
                                             : 100.0 * s->tables_copied / n;
    /* never more than 100 %, and 100 % only once every table is copied */
    if (s->copy_percent > COPY_PERCENT_UNFINISHED && s->tables_copied < n)
        s->copy_percent = COPY_PERCENT_UNFINISHED;
    return true;
}

/* apply_rate from the newest recent lag sample, ETA from the oldest and
 * newest of the last five minutes (0 when in step). */
static bool read_lag_samples(db_conn *tgt, const char *name, status_snapshot *s)
{
    state_lag_sample *l = NULL;
    int n = 0;
    if (!state_read_recent_lag(tgt, name, &l, &n))
        return false;
    s->lag_samples = n;
    if (n > 0 && l[n - 1].age_seconds <= 60)
        s->apply_rate = l[n - 1].apply_rate;
    if (s->lag_bytes >= 0 && n >= 2 && l[0].lag_known && l[n - 1].lag_known)
        s->eta_seconds =
            lag_eta(l[0].epoch, l[0].lag_bytes, l[n - 1].epoch, l[n - 1].lag_bytes, s->lag_bytes);
    if (s->in_step)
        s->eta_seconds = 0;
    free(l);
    return true;
}

static void read_source(db_conn *src, const char *name, status_snapshot *s)
{
    char appname[128];
    snprintf(appname, sizeof appname, "%s%s", STATUS_APPNAME_CUTOVER, name);
    const char *params[3] = {s->slot_name, s->applied_lsn[0] ? s->applied_lsn : NULL, appname};
    db_res *r = db_exec(src, DB_QUIET, sql_status_source, 3, params);
    if (!r || db_ncols(r) != 8 || db_nrows(r) != 1) {
        s->source_error = xstrdup(db_errtext(src, "unexpected result shape"));
        db_res_free(r);
        return;
    }
    s->source_ok = true;
    snprintf(s->source_lsn, sizeof s->source_lsn, "%s", db_val(r, 0, 0));
    s->source_now = num_or_nan(r, 0, 1);
    s->lag_bytes = int_or(r, 0, 2, -1);
    s->slot_exists = is_true(r, 0, 3);
    s->slot_active = is_true(r, 0, 4);
    s->wal_retained = int_or(r, 0, 5, -1);
    s->cutover_running = int_or(r, 0, 6, 0) > 0;
    s->source_database = xstrdup(db_val(r, 0, 7));
    db_res_free(r);
    s->lag_seconds = lag_seconds(s->lag_bytes, s->source_now, s->heartbeat_epoch, s->applied_epoch);
    if (!isnan(s->applied_epoch))
        s->last_change_age = s->source_now - s->applied_epoch;
}

/* The phase shown: a copying/indexing/streaming migration whose start is
 * not alive (include/status.h) is "stopped". */
static void effective_phase(status_snapshot *s)
{
    state_phase p = s->stored_ephase = state_phase_parse(s->stored_phase);
    s->alive = !s->exited && !isnan(s->alive_age) && s->alive_age <= STATUS_STALE_SECONDS;
    bool running_phase = p == PHASE_COPYING || p == PHASE_INDEXING || p == PHASE_STREAMING;
    s->ephase = running_phase && !s->alive ? PHASE_STOPPED : p;
    snprintf(s->phase, sizeof s->phase, "%s",
             s->ephase != p ? state_phase_name(s->ephase) : s->stored_phase);
    s->cutover_interrupted = p == PHASE_CUTOVER && s->source_ok && !s->cutover_running;
}

bool status_read(db_conn *src, db_conn *tgt, const char *name, status_prev *prev,
                 status_snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->alive_age = s->heartbeat_epoch = s->applied_epoch = NAN;
    s->write_unavailable_ms = s->copy_percent = s->target_now = s->source_now = NAN;
    s->lag_seconds = s->last_change_age = s->apply_rate = s->eta_seconds = NAN;
    s->streaming_for = s->exited_age = NAN;
    s->lag_bytes = s->wal_retained = -1;
    s->ephase = s->stored_ephase = PHASE_UNKNOWN;

    bool exists = false;
    if (!state_schema_exists(tgt, DB_LOG, &exists))
        return false;
    if (!exists)
        return true; /* no state schema: nothing started here */
    if (!read_migration(tgt, name, s))
        return false;
    if (!s->found)
        return true;
    if (!read_tables(tgt, name, s))
        return false;
    if (src)
        read_source(src, name, s);
    /* a cutover records the freeze before applying it: ask the source */
    const char *fdb = s->freeze_database ? s->freeze_database : s->source_database;
    bool on = true;
    if (s->frozen && s->source_ok && fdb && freeze_in_effect(src, fdb, &on) && !on)
        s->frozen = false;
    effective_phase(s);
    s->in_step = s->source_ok && s->alive && lag_in_step(s->lag_bytes, s->lag_seconds);
    if (!read_lag_samples(tgt, name, s))
        return false;
    if (!s->alive) {
        s->apply_rate = 0; /* whatever the last samples say: nothing applies now */
        s->eta_seconds = NAN;
    }
    /* no recent lag sample yet (the applier writes one a second with its
     * commits): the average since streaming began */
    if (isnan(s->apply_rate) && (!prev || !prev->valid) && s->streaming_for >= 1)
        s->apply_rate = (double)s->changes_applied / s->streaming_for;
    if (prev) {
        if (isnan(s->apply_rate) && prev->valid && s->target_now > prev->at)
            s->apply_rate =
                (double)(s->changes_applied - prev->changes_applied) / (s->target_now - prev->at);
        prev->valid = true;
        prev->at = s->target_now;
        prev->changes_applied = s->changes_applied;
    }
    return true;
}

void status_free(status_snapshot *s)
{
    state_table_progress_free(s->tables, s->ntables);
    free(s->stored_phase);
    free(s->slot_name);
    free(s->plugin);
    free(s->publication);
    free(s->last_error);
    free(s->fence_lsn);
    free(s->freeze_database);
    free(s->freeze_prev_readonly);
    free(s->source_error);
    free(s->source_database);
    free(s->alive_at);
    free(s->exited_at);
    memset(s, 0, sizeof *s);
}

/* --- output -------------------------------------------------------------- */

/* jansson: new references, NULL-safe for unknown values */
static json_t *jreal(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static json_t *jint(int64_t v)
{
    return v < 0 ? json_null() : json_integer(v);
}

static json_t *jstr(const char *v)
{
    return v && *v ? json_string(v) : json_null();
}

json_t *status_to_json(const char *name, const status_snapshot *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "found", json_boolean(s->found));
    json_object_set_new(o, "phase", s->found ? json_string(s->phase) : json_null());
    json_object_set_new(o, "stored_phase", jstr(s->stored_phase));
    json_object_set_new(o, "start_alive", json_boolean(s->alive));
    json_object_set_new(o, "heartbeat_age_seconds", jreal(s->alive_age));
    json_object_set_new(o, "start_last_seen_at", jstr(s->alive_at));
    json_object_set_new(o, "start_exited_at", s->exited ? jstr(s->exited_at) : json_null());
    json_object_set_new(o, "tables_total", json_integer(s->ntables));
    json_object_set_new(o, "tables_copied", json_integer(s->tables_copied));
    json_object_set_new(o, "tables_analyzed", json_integer(s->tables_analyzed));
    json_object_set_new(o, "rows_copied", json_integer(s->rows_copied));
    json_object_set_new(o, "bytes_total", json_integer(s->bytes_total));
    json_object_set_new(o, "bytes_copied", json_integer(s->bytes_copied));
    json_object_set_new(o, "copy_percent", jreal(s->copy_percent));
    json_t *tables = json_array();
    for (int i = 0; i < s->ntables; i++) {
        const status_table *t = &s->tables[i];
        json_t *jt = json_object();
        json_object_set_new(jt, "schema", json_string(t->schema));
        json_object_set_new(jt, "table", json_string(t->table));
        json_object_set_new(jt, "state", json_string(t->state));
        json_object_set_new(jt, "rows_copied", json_integer(t->rows_copied));
        json_object_set_new(jt, "bytes_copied", json_integer(t->bytes_copied));
        json_object_set_new(jt, "size_bytes", json_integer(t->size_bytes));
        json_array_append_new(tables, jt);
    }
    json_object_set_new(o, "tables", tables);
    json_object_set_new(o, "source_lsn", jstr(s->source_lsn));
    json_object_set_new(o, "applied_lsn", jstr(s->applied_lsn));
    json_object_set_new(o, "lag_bytes", jint(s->lag_bytes));
    json_object_set_new(o, "lag_seconds", jreal(s->lag_seconds));
    json_object_set_new(o, "apply_rate", jreal(s->apply_rate));
    json_object_set_new(o, "eta_seconds", jreal(s->eta_seconds));
    json_object_set_new(o, "in_step", json_boolean(s->in_step));
    json_object_set_new(o, "changes_applied", json_integer(s->changes_applied));
    json_object_set_new(o, "last_applied_change_age_seconds", jreal(s->last_change_age));
    json_object_set_new(o, "slot_name", jstr(s->slot_name));
    json_object_set_new(o, "plugin", jstr(s->plugin));
    json_object_set_new(o, "publication", jstr(s->publication));
    json_object_set_new(o, "slot_exists", json_boolean(s->slot_exists));
    json_object_set_new(o, "slot_active", json_boolean(s->slot_active));
    json_object_set_new(o, "wal_retained_bytes", jint(s->wal_retained));
    json_object_set_new(o, "source_frozen", json_boolean(s->frozen));
    json_object_set_new(o, "cutover_running", json_boolean(s->cutover_running));
    json_object_set_new(o, "cutover_interrupted", json_boolean(s->cutover_interrupted));
    json_object_set_new(o, "write_unavailable_ms", jreal(s->write_unavailable_ms));
    json_object_set_new(o, "last_error", jstr(s->last_error));
    json_object_set_new(o, "source_error", jstr(s->source_error));
    json_object_set_new(o, "hint", jstr(status_hint(s)));
    json_object_set_new(o, "healthy", json_boolean(status_health(s) == EXIT_OK));
    return o;
}

static void fmt_bytes(int64_t b, char *buf, size_t n)
{
    static const char *units[] = {"bytes", "kB", "MB", "GB", "TB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, n, "%lld bytes", (long long)b);
    else
        snprintf(buf, n, "%.1f %s", v, units[u]);
}

static void fmt_secs(double s, char *buf, size_t n)
{
    if (isnan(s))
        snprintf(buf, n, "unknown");
    else if (s < 120)
        snprintf(buf, n, "%.1f s", s);
    else if (s < 7200)
        snprintf(buf, n, "%.0f min", s / 60);
    else
        snprintf(buf, n, "%.1f h", s / 3600);
}

static void print_copy(FILE *f, const status_snapshot *s)
{
    char a[32], b[32];
    fmt_bytes(s->bytes_copied, a, sizeof a);
    fmt_bytes(s->bytes_total, b, sizeof b);
    fprintf(f, "tables:          %d of %d copied, %lld rows", s->tables_copied, s->ntables,
            (long long)s->rows_copied);
    if (!isnan(s->copy_percent))
        fprintf(f, ", %.1f%% done (weighed by the tables' size on disk)", s->copy_percent);
    fprintf(f,
            "\ndata:            %s sent as COPY data; the tables take %s on disk on the source\n",
            a, b);
    if (s->tables_copied == s->ntables && s->tables_analyzed < s->ntables)
        fprintf(f,
                "statistics:      ANALYZE done on %d of %d tables (start runs it beside the "
                "stream; cutover finishes it before the freeze)\n",
                s->tables_analyzed, s->ntables);
    bool detail = s->stored_ephase == PHASE_COPYING || s->stored_ephase == PHASE_INDEXING;
    for (int i = 0; detail && i < s->ntables; i++) {
        const status_table *t = &s->tables[i];
        fmt_bytes(t->bytes_copied, a, sizeof a);
        fmt_bytes(t->size_bytes, b, sizeof b);
        fprintf(f, "  %-40s %-8s %12lld rows  %s sent, %s on disk\n", t->table, t->state,
                (long long)t->rows_copied, a, b);
    }
}

/* Whether start runs, and since when it does not (include/status.h). */
static void print_liveness(FILE *f, const status_snapshot *s)
{
    char age[32];
    if (s->alive) {
        fmt_secs(s->alive_age, age, sizeof age);
        fprintf(f, "start alive, last sign of life %s ago", age);
    } else if (s->exited && s->exited_at) {
        fmt_secs(s->exited_age, age, sizeof age);
        fprintf(f, "start stopped at %s UTC, %s ago", s->exited_at, age);
    } else if (s->alive_at) {
        fmt_secs(s->alive_age, age, sizeof age);
        fprintf(f, "no sign of life from start since %s UTC, %s ago", s->alive_at, age);
    } else {
        fprintf(f, "no sign of life from start yet");
    }
}

static void print_eta(FILE *f, const status_snapshot *s)
{
    char a[32];
    fmt_secs(s->eta_seconds, a, sizeof a);
    fprintf(f, "ETA to zero lag: ");
    if (s->stored_ephase == PHASE_DONE)
        fprintf(f, "none: the cutover is done\n");
    else if (!s->alive)
        fprintf(f, "none: start is not running\n");
    else if (s->in_step)
        fprintf(f,
                "none needed: the target is in step with the source (every change committed "
                "more than %.0f s ago is applied)\n",
                LAG_HEARTBEAT_FRESH);
    else if (!isnan(s->eta_seconds))
        fprintf(f, "%s\n", a);
    else if (s->lag_bytes < 0)
        fprintf(f, "unknown (nothing applied yet)\n");
    else if (s->lag_samples < 2)
        fprintf(f, "unknown (not enough lag samples yet)\n");
    else
        fprintf(f, "unknown (lag not shrinking)\n");
}

static void print_human(FILE *f, const char *name, const status_snapshot *s)
{
    char a[32], b[32];
    if (!s->found) {
        fprintf(f, "migration %s: not found on the target\n", name);
        fprintf(f, "hint: %s\n", status_hint(s));
        return;
    }
    fprintf(f, "migration:       %s\n", name);
    fprintf(f, "phase:           %s (", s->phase);
    if (s->ephase != s->stored_ephase)
        fprintf(f, "recorded as %s; ", s->stored_phase);
    print_liveness(f, s);
    fprintf(f, ")\n");
    if (s->cutover_interrupted)
        fprintf(f, "cutover:         INTERRUPTED, source %s\n",
                s->frozen ? "frozen" : "not frozen (writable)");
    else if (s->cutover_running)
        fprintf(f, "cutover:         running\n");
    if (s->ntables > 0)
        print_copy(f, s);
    if (s->source_ok) {
        fmt_secs(s->lag_seconds, b, sizeof b);
        fprintf(f, "source LSN:      %s\napplied LSN:     %s\n", s->source_lsn,
                s->applied_lsn[0] ? s->applied_lsn : "none yet");
        if (s->lag_bytes >= 0) {
            fmt_bytes(s->lag_bytes, a, sizeof a);
            fprintf(f, "lag:             %s, %s (source clock)\n", a, b);
        } else {
            fprintf(f, "lag:             unknown (nothing applied yet)\n");
        }
        fmt_bytes(s->wal_retained, a, sizeof a);
        fprintf(f, "decoder:         %s%s%s\n", s->plugin, s->publication ? ", publication " : "",
                s->publication ? s->publication : "");
        fprintf(f, "slot:            %s, %s", s->slot_name,
                !s->slot_exists  ? "missing"
                : s->slot_active ? "active"
                                 : "inactive");
        if (s->wal_retained >= 0)
            fprintf(f, ", retains %s of WAL", a);
        fprintf(f, "\n");
        fmt_secs(s->last_change_age, a, sizeof a);
        if (isnan(s->last_change_age))
            fprintf(f, "last applied:    nothing applied yet\n");
        else
            fprintf(f, "last applied:    change committed %s ago (source clock)\n", a);
    } else {
        fprintf(f, "source:          unreachable: %s\n", s->source_error ? s->source_error : "?");
    }
    if (isnan(s->apply_rate))
        fprintf(f, "apply rate:      unknown\n");
    else
        fprintf(f, "apply rate:      %.1f changes/s%s\n", s->apply_rate,
                s->alive ? "" : " (start is not running)");
    print_eta(f, s);
    if (!isnan(s->write_unavailable_ms))
        fprintf(f, "write-unavailable during cutover: %.0f ms\n", s->write_unavailable_ms);
    fprintf(f, "last error:      %s\n", s->last_error ? s->last_error : "none");
    const char *hint = status_hint(s);
    if (hint)
        fprintf(f, "hint: %s\n", hint);
}

/* --- the command --------------------------------------------------------- */

/* status --events: the audit trail, one action a line. */
static void print_actions(FILE *f, const state_action_row *a, int n)
{
    fprintf(f, "\nactions (%d):\n", n);
    for (int i = 0; i < n; i++) {
        fprintf(f, "  %s  %-6s %s%s%s: %s", a[i].at, a[i].server, a[i].action,
                a[i].object ? " " : "", a[i].object ? a[i].object : "", a[i].outcome);
        if (!isnan(a[i].ms))
            fprintf(f, " (%.0f ms)", a[i].ms);
        if (a[i].detail)
            fprintf(f, "; %s", a[i].detail);
        fprintf(f, "\n");
    }
}

/* One refresh; returns the exit code for it. */
static int status_once(const pgb_options *o, const conninfo *sci, db_conn *tgt, status_prev *prev)
{
    db_conn_failure why;
    char *err = NULL;
    db_connect_opts copts = {.application_name = "pgbaton status", .errmode = DB_QUIET};
    db_conn *src = db_connect(sci, DB_SOURCE, &copts, &why, &err);
    status_snapshot s;
    if (!status_read(src, tgt, o->name, prev, &s)) {
        db_close(src);
        free(err);
        return EXIT_FAILURE_RUNTIME;
    }
    if (!src && s.found) {
        s.source_error = err;
        err = NULL;
    }
    free(err);
    db_close(src);
    int rc = status_health(&s);
    state_action_row *actions = NULL;
    int nactions = 0;
    if (o->events && s.found && !state_read_actions(tgt, o->name, &actions, &nactions))
        rc = EXIT_FAILURE_RUNTIME;
    if (o->json) {
        json_t *j = status_to_json(o->name, &s);
        if (o->events)
            json_object_set_new(j, "actions", state_actions_json(actions, nactions));
        char *text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
        printf("%s\n", text);
        free(text);
        json_decref(j);
    } else {
        if (o->watch && isatty(STDOUT_FILENO))
            printf("\033[H\033[2J");
        print_human(stdout, o->name, &s);
        if (o->events)
            print_actions(stdout, actions, nactions);
        if (o->watch)
            printf("\n(refreshing every %d s; Ctrl-C to stop)\n", o->watch);
    }
    fflush(stdout);
    state_actions_free(actions, nactions);
    status_free(&s);
    return rc;
}

int cmd_status(const pgb_options *o)
{
    conninfo *sci = cli_conninfo(o, DB_SOURCE);
    if (!sci)
        return EXIT_USAGE;
    conninfo *tci = cli_conninfo(o, DB_TARGET);
    if (!tci) {
        conninfo_free(sci);
        return EXIT_USAGE;
    }
    db_connect_opts copts = {.application_name = "pgbaton status"};
    db_conn *tgt = db_connect(tci, DB_TARGET, &copts, NULL, NULL);
    int rc = EXIT_FAILURE_RUNTIME;
    if (tgt) {
        status_prev prev = {0};
        if (o->watch)
            signals_install();
        for (;;) {
            rc = status_once(o, sci, tgt, &prev);
            if (!o->watch || signals_stop_requested())
                break;
            struct timespec ts = {.tv_sec = o->watch};
            nanosleep(&ts, NULL); /* a signal cuts it short */
            if (signals_stop_requested())
                break;
        }
    }
    db_close(tgt);
    conninfo_free(sci);
    conninfo_free(tci);
    return rc;
}
