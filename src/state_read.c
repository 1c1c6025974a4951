/*
 * src/state_read.c — the state's reads for `status`, `report` and
 * `cutover` (include/state_read.h): each runs one sql/state_status_*,
 * state_report_* or state_table_names query and turns its rows into typed
 * values, so that no other module reads a pgbaton.* result column by
 * position.
 */
#include "state_read.h"

#include "sql_embed.h"
#include "xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- cells --------------------------------------------------------------- */

static char *dup_or_null(const db_res *r, int row, int col)
{
    return db_isnull(r, row, col) ? NULL : xstrdup(db_val(r, row, col));
}

static double num_or_nan(const db_res *r, int row, int col)
{
    return db_isnull(r, row, col) ? NAN : strtod(db_val(r, row, col), NULL);
}

static int64_t int_or_0(const db_res *r, int row, int col)
{
    return db_isnull(r, row, col) ? 0 : strtoll(db_val(r, row, col), NULL, 10);
}

static bool is_true(const db_res *r, int row, int col)
{
    return !db_isnull(r, row, col) && db_val(r, row, col)[0] == 't';
}

/* --- queries ------------------------------------------------------------- */

/* SQL for migration NAME, checked to have NCOLS columns (WHAT names the
 * rows in the error); NULL on error (logged). */
static db_res *run(db_conn *db, const char *sql, const char *name, int ncols, const char *what)
{
    const char *params[1] = {name};
    db_res *r = db_exec(db, DB_LOG, sql, 1, params);
    if (r && db_check_shape(db, r, ncols, 0, what))
        return r;
    db_res_free(r);
    return NULL;
}

/* Reads row ROW of R into ELEM. */
typedef void row_reader(const db_res *r, int row, void *elem);

/* run(), then its row, when there is one, through READ into OUT: 1, 0
 * when there is none, -1 on error. */
static int read_one(db_conn *db, const char *sql, const char *name, int ncols, const char *what,
                    row_reader *read, void *out)
{
    db_res *r = run(db, sql, name, ncols, what);
    if (!r)
        return -1;
    int found = db_nrows(r) == 1;
    if (found)
        read(r, 0, out);
    db_res_free(r);
    return found;
}

/* run(), then each row through READ into a new array of *N elements of
 * SIZE bytes (never NULL when there are none); NULL on error. */
static void *read_rows(db_conn *db, const char *sql, const char *name, int ncols, const char *what,
                       size_t size, row_reader *read, int *n)
{
    *n = 0;
    db_res *r = run(db, sql, name, ncols, what);
    if (!r)
        return NULL;
    int rows = db_nrows(r);
    char *elems = xcalloc((size_t)rows + 1, size);
    for (int i = 0; i < rows; i++)
        read(r, i, elems + (size_t)i * size);
    db_res_free(r);
    *n = rows;
    return elems;
}

/* --- status -------------------------------------------------------------- */

static void read_status_row(const db_res *r, int row, void *elem)
{
    state_status_row *m = elem;
    m->phase = xstrdup(db_val(r, row, 0));
    m->slot_name = xstrdup(db_val(r, row, 1));
    snprintf(m->applied_lsn, sizeof m->applied_lsn, "%s", db_val(r, row, 2));
    m->heartbeat_epoch = num_or_nan(r, row, 3);
    m->applied_epoch = num_or_nan(r, row, 4);
    m->changes_applied = int_or_0(r, row, 5);
    m->alive_age = num_or_nan(r, row, 6);
    m->frozen = is_true(r, row, 7);
    m->fence_lsn = dup_or_null(r, row, 8);
    m->last_error = dup_or_null(r, row, 9);
    m->write_unavailable_ms = num_or_nan(r, row, 10);
    m->freeze_database = dup_or_null(r, row, 11);
    m->freeze_prev_readonly = dup_or_null(r, row, 12);
    m->post_fence_changes = int_or_0(r, row, 13);
    m->target_now = num_or_nan(r, row, 14);
    m->streaming_for = num_or_nan(r, row, 15);
    m->plugin = xstrdup(db_val(r, row, 16));
    m->publication = dup_or_null(r, row, 17);
    m->alive_at = dup_or_null(r, row, 18);
    m->exited = is_true(r, row, 19);
    m->exited_at = dup_or_null(r, row, 20);
    m->exited_age = num_or_nan(r, row, 21);
    m->copy_done = is_true(r, row, 22);
}

int state_read_status(db_conn *tgt, const char *name, state_status_row *out)
{
    memset(out, 0, sizeof *out);
    return read_one(tgt, sql_state_status_migration, name, 23, "migration state", read_status_row,
                    out);
}

static void read_progress(const db_res *r, int row, void *elem)
{
    state_table_progress *t = elem;
    t->schema = xstrdup(db_val(r, row, 0));
    t->table = xstrdup(db_val(r, row, 1));
    t->state = xstrdup(db_val(r, row, 2));
    t->rows_copied = int_or_0(r, row, 3);
    t->bytes_copied = int_or_0(r, row, 4);
    t->size_bytes = int_or_0(r, row, 5);
    t->analyzed = is_true(r, row, 7);
}

bool state_read_table_progress(db_conn *tgt, const char *name, state_table_progress **tables,
                               int *n)
{
    *tables = read_rows(tgt, sql_state_status_tables, name, 8, "table progress", sizeof **tables,
                        read_progress, n);
    return *tables != NULL;
}

void state_table_progress_free(state_table_progress *tables, int n)
{
    for (int i = 0; i < n; i++) {
        free(tables[i].schema);
        free(tables[i].table);
        free(tables[i].state);
    }
    free(tables);
}

static void read_lag_sample(const db_res *r, int row, void *elem)
{
    state_lag_sample *s = elem;
    s->epoch = num_or_nan(r, row, 0);
    s->lag_known = !db_isnull(r, row, 1);
    s->lag_bytes = int_or_0(r, row, 1);
    s->apply_rate = num_or_nan(r, row, 2);
    s->age_seconds = num_or_nan(r, row, 3);
}

bool state_read_recent_lag(db_conn *tgt, const char *name, state_lag_sample **samples, int *n)
{
    *samples = read_rows(tgt, sql_state_status_lag_samples, name, 4, "lag samples",
                         sizeof **samples, read_lag_sample, n);
    return *samples != NULL;
}

/* --- report -------------------------------------------------------------- */

static void read_report_row(const db_res *r, int row, void *elem)
{
    state_report_row *m = elem;
    m->phase = dup_or_null(r, row, 1);
    m->source_masked = dup_or_null(r, row, 2);
    m->target_masked = dup_or_null(r, row, 3);
    m->started_at = dup_or_null(r, row, 4);
    m->done_at = dup_or_null(r, row, 5);
    state_report_times *t = &m->times;
    double *cols[] = {&t->started,      &t->slot,      &t->schema_done, &t->copy_done,
                      &t->indexes_done, &t->streaming, &t->caught_up,   &t->cutover,
                      &t->done,         &t->now};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        *cols[i] = num_or_nan(r, row, 6 + (int)i);
    m->write_unavailable_ms = num_or_nan(r, row, 16);
    m->plugin = dup_or_null(r, row, 17);
}

int state_read_report(db_conn *tgt, const char *name, state_report_row *out)
{
    memset(out, 0, sizeof *out);
    return read_one(tgt, sql_state_report_migration, name, 18, "migration row", read_report_row,
                    out);
}

static void read_lag_point(const db_res *r, int row, void *elem)
{
    state_lag_point *p = elem;
    p->epoch = atof(db_val(r, row, 0));
    p->at = xstrdup(db_val(r, row, 1));
    p->lag_s = num_or_nan(r, row, 2);
    p->lag_b = atoll(db_val(r, row, 3));
}

bool state_read_lag_history(db_conn *tgt, const char *name, state_lag_point **points, int *n)
{
    *points = read_rows(tgt, sql_state_report_lag, name, 4, "lag samples", sizeof **points,
                        read_lag_point, n);
    return *points != NULL;
}

void state_lag_points_free(state_lag_point *points, int n)
{
    for (int i = 0; i < n; i++)
        free(points[i].at);
    free(points);
}

static void read_event(const db_res *r, int row, void *elem)
{
    state_event_row *e = elem;
    e->at = xstrdup(db_val(r, row, 0));
    e->level = xstrdup(db_val(r, row, 1));
    e->message = xstrdup(db_val(r, row, 2));
}

static bool read_events(db_conn *tgt, const char *sql, const char *name, const char *what,
                        state_event_row **events, int *n)
{
    *events = read_rows(tgt, sql, name, 3, what, sizeof **events, read_event, n);
    return *events != NULL;
}

bool state_read_problems(db_conn *tgt, const char *name, state_event_row **events, int *n)
{
    return read_events(tgt, sql_state_report_events, name, "events", events, n);
}

bool state_read_unlogged_events(db_conn *tgt, const char *name, state_event_row **events, int *n)
{
    return read_events(tgt, sql_state_report_unlogged_events, name, "unlogged table events", events,
                       n);
}

void state_events_free(state_event_row *events, int n)
{
    for (int i = 0; i < n; i++) {
        free(events[i].at);
        free(events[i].level);
        free(events[i].message);
    }
    free(events);
}

/* --- cutover ------------------------------------------------------------- */

static void read_relname(const db_res *r, int row, void *elem)
{
    state_relname *t = elem;
    t->schema = xstrdup(db_val(r, row, 0));
    t->table = xstrdup(db_val(r, row, 1));
}

bool state_read_table_names(db_conn *tgt, const char *name, state_relname **tables, int *n)
{
    *tables = read_rows(tgt, sql_state_table_names, name, 2, "table list", sizeof **tables,
                        read_relname, n);
    return *tables != NULL;
}

bool state_analyze_pending(db_conn *db, const char *migration, state_relname **tables, int *n)
{
    *tables = read_rows(db, sql_state_analyze_pending, migration, 2, "tables to analyze",
                        sizeof **tables, read_relname, n);
    return *tables != NULL;
}

void state_relnames_free(state_relname *tables, int n)
{
    for (int i = 0; i < n; i++) {
        free(tables[i].schema);
        free(tables[i].table);
    }
    free(tables);
}

/* --- the audit trail ------------------------------------------------------ */

static void read_action(const db_res *r, int row, void *elem)
{
    state_action_row *a = elem;
    a->at = xstrdup(db_val(r, row, 0));
    a->server = xstrdup(db_val(r, row, 1));
    a->action = xstrdup(db_val(r, row, 2));
    a->object = dup_or_null(r, row, 3);
    a->outcome = xstrdup(db_val(r, row, 4));
    a->ms = num_or_nan(r, row, 5);
    a->detail = dup_or_null(r, row, 6);
}

bool state_read_actions(db_conn *tgt, const char *name, state_action_row **rows, int *n)
{
    *rows = read_rows(tgt, sql_state_actions_list, name, 7, "audit trail", sizeof **rows,
                      read_action, n);
    return *rows != NULL;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *state_actions_json(const state_action_row *rows, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        const state_action_row *r = &rows[i];
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:o}", "at", r->at, "server", r->server,
                         "action", r->action, "object", str_or_null(r->object), "outcome",
                         r->outcome, "duration_ms", isnan(r->ms) ? json_null() : json_real(r->ms),
                         "detail", str_or_null(r->detail)));
    }
    return a;
}

void state_actions_free(state_action_row *rows, int n)
{
    for (int i = 0; i < n; i++) {
        free(rows[i].at);
        free(rows[i].server);
        free(rows[i].action);
        free(rows[i].object);
        free(rows[i].outcome);
        free(rows[i].detail);
    }
    free(rows);
}
