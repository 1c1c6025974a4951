/*
 * src/apply.c — apply decoded changes to the target.
 *
 * How it works.
 *   Two target sessions: the apply session (session_replication_role =
 *   replica, non-blocking, libpq pipeline mode) and a catalog session
 *   (ordinary, for table metadata and alive_at).
 *
 *   Every I/U/D is turned into a prepared statement chosen by its shape
 *   (table, operation, the columns written and the columns that find the
 *   row): the statement is prepared (PQsendPrepare) the first time that
 *   shape is seen and executed (PQsendQueryPrepared) with the values as text
 *   parameters, so the target parses each value with the column's type.
 *   Nothing waits for a result: every command sent is pushed on a queue of
 *   expected results, and results are read whenever the socket has some,
 *   so neither side blocks on a full buffer.
 *
 *   A target transaction is opened (BEGIN, lazily) at the first change and
 *   holds whole source transactions; at a source commit it is committed
 *   when the batch is big or old enough, and when the stream goes idle.
 *   The commit is: the position update (pgbaton.migration.applied_lsn =
 *   the last source commit's nextlsn, its timestamp, counters, heartbeat),
 *   an optional lag sample, COMMIT, and a pipeline sync; the position
 *   becomes "committed" only when the sync's results show no error. That
 *   committed position is the only one the stream confirms to the source.
 *
 *   A non-transactional logical message with prefix "pgbaton" (the
 *   heartbeat) moves the position to its own LSN (the end of its record:
 *   every transaction committed before it has been seen) and records its
 *   source timestamp; one with "wake": true (verify asking for a hold,
 *   docs/verify.md) is committed at once, as the commit reads the hold;
 *   prefix "pgbaton_fence" (cutover) sets fence_applied_at in the same
 *   target transaction.
 *
 *   UPDATE/DELETE must touch exactly one row (the command tag is checked).
 *   Any rejected change stops the apply: the batch is not committed, the
 *   error names the table, the operation and the key values only.
 *
 *   Grouping. Most of the target's cost per change is per statement (bind,
 *   executor start, end), not per row. So changes are held back per table
 *   and sent as one statement over arrays (apply_sql_build, grouped):
 *   consecutive INSERTs into a table; consecutive UPDATEs by key that do not
 *   change the key (an UPDATE of a key already held replaces the held values:
 *   same columns, last one wins); consecutive DELETEs by key. A table's held
 *   changes are sent before any other kind of change to it, before a
 *   TRUNCATE, and before the commit; at most GROUP_ROWS rows or GROUP_BYTES
 *   of values wait. Why the target ends the same as applying one by one:
 *     - within a table, the order of changes is kept (INSERT ... SELECT FROM
 *       unnest inserts in array order);
 *     - changes to different tables commute inside one target transaction:
 *       the session runs with session_replication_role = replica, so
 *       foreign keys do not look across tables, and no user trigger or rule
 *       fires at all: start switches every one of them off on the target
 *       before the first change (src/triggers.c), whatever its mode;
 *     - rows of one grouped UPDATE are updated in no set order, so they
 *       must not collide on a unique index while in between: UPDATEs are
 *       grouped only on tables whose one unique index is the key (and no
 *       exclusion constraint), and only when the key does not change;
 *     - values are parsed by the array type without typmod, then assigned
 *       to the column like a parameter would be: a value too long for the
 *       target column fails in both forms (never silently cut);
 *     - a grouped UPDATE/DELETE must touch as many rows as it holds keys.
 *   When the target rejects a grouped statement, the batch is rolled back
 *   and streamed again from the committed position with grouping off up to
 *   the last change seen (APPLY_REPLAY): the error then names the one change
 *   and its key, exactly as without grouping.
 *
 * The parts (include/apply_internal.h, the struct they share):
 *   this file            the public entry points and the dispatch of each
 *                        change (B, C, I, U, D, T, M)
 *   src/apply_sql.c      statement text
 *   src/apply_pipe.c     the pipeline: expected results, sending, reading
 *   src/apply_tables.c   table cache, column mapping, statement cache
 *   src/apply_group.c    grouping and its array literals
 *   src/apply_control.c  commits and the position, the heartbeat, fence and
 *                        verify-hold messages, lag samples, alive_at
 */
#include "apply_internal.h"

#include "db_async.h"
#include "log.h"
#include "mono.h"
#include "sqlstate.h"
#include "state.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDLE_POSITION_MS 500 /* position-only commit at most this often */

/* ---------------------------------------------------------------------- */
/* one change                                                              */

static bool in_list(const int *l, int n, int v)
{
    for (int i = 0; i < n; i++)
        if (l[i] == v)
            return true;
    return false;
}

static void ensure_scratch(apply_ctx *a, int n)
{
    if (n <= a->capscratch)
        return;
    a->capscratch = n * 2;
    size_t cap = (size_t)a->capscratch;
    a->map = xrealloc(a->map, cap * sizeof(int));
    a->set = xrealloc(a->set, cap * sizeof(int));
    a->where = xrealloc(a->where, cap * sizeof(int));
    a->idmap = xrealloc(a->idmap, cap * sizeof(int));
    a->params = xrealloc(a->params, 2 * cap * sizeof(char *));
    a->gparams = xrealloc(a->gparams, 2 * cap * sizeof(char *));
    a->goff = xrealloc(a->goff, 2 * cap * sizeof(size_t));
}

/* WHERE columns of an UPDATE/DELETE from the change's identity: the key
 * columns, or (no key) every non-generated column of the old row. Fills
 * a->where and the parameters from index FIRST. */
static apply_status build_where(apply_ctx *a, apply_table *t, const pgb_change *c, int first,
                                int *nwhere, int *idmap)
{
    int n = 0;
    for (int i = 0; i < c->nidentity; i++) {
        int k = idmap[i];
        if (t->nkey > 0 ? !t->cols[k].in_key : t->cols[k].generated)
            continue;
        a->where[n] = k;
        a->params[first + n] = c->identity[i].value;
        n++;
    }
    if (t->nkey > 0 && n != t->nkey) {
        char diff[256];
        snprintf(diff, sizeof diff,
                 "the change identifies rows by other columns than the target's key (%d of %d "
                 "key columns sent)",
                 n, t->nkey);
        return apply_ddl_fail(
            a, t, c->kind, diff,
            "give the table the same primary key or replica identity as the source");
    }
    *nwhere = n;
    return APPLY_OK;
}

static apply_status apply_insert(apply_ctx *a, apply_table *t, const pgb_change *c)
{
    apply_status st = apply_map_columns(a, t, c, c->columns, c->ncolumns);
    if (st != APPLY_OK)
        return st;
    int nset = 0;
    for (int i = 0; i < c->ncolumns; i++) {
        if (t->cols[a->map[i]].generated)
            continue;
        a->set[nset] = a->map[i];
        a->params[nset++] = c->columns[i].value;
    }
    for (int k = 0; k < t->ncols; k++)
        if (!t->cols[k].generated && !in_list(a->set, nset, k)) {
            char diff[256];
            snprintf(diff, sizeof diff,
                     "column \"%s\" is on the target but not in the source's row", t->cols[k].name);
            return apply_ddl_fail(
                a, t, c->kind, diff,
                "apply the same ALTER TABLE ... DROP COLUMN (or RENAME) that was run "
                "on the source");
        }
    apply_shape s = {.op = APPLY_OP_INSERT, .set = a->set, .nset = nset};
    bool groupable = nset > 0 && apply_group_allowed(a) && apply_cols_groupable(t, a->set, nset);
    return apply_group_or_send(a, t, &s, groupable, c, c->columns, c->ncolumns, a->map);
}

static apply_status apply_update_delete(apply_ctx *a, apply_table *t, const pgb_change *c)
{
    int *idmap = a->idmap;
    apply_status st = apply_map_columns(a, t, c, c->identity, c->nidentity);
    if (st != APPLY_OK)
        goto out;
    memcpy(idmap, a->map, (size_t)c->nidentity * sizeof(int));
    if (c->kind == CHG_UPDATE) {
        st = apply_map_columns(a, t, c, c->columns, c->ncolumns);
        if (st != APPLY_OK)
            goto out;
    }
    apply_shape s = {.op = c->kind == CHG_DELETE ? APPLY_OP_DELETE : APPLY_OP_UPDATE,
                     .full_row = t->nkey == 0};
    int nset = 0;
    for (int i = 0; c->kind == CHG_UPDATE && i < c->ncolumns; i++) {
        const apply_column *col = &t->cols[a->map[i]];
        if (col->generated)
            continue;
        if (col->identity == 'a') {
            /* cannot be SET: leave it out when unchanged, else replace */
            bool unchanged = false;
            for (int j = 0; j < c->nidentity; j++)
                if (idmap[j] == a->map[i] && same_value(c->identity[j].value, c->columns[i].value))
                    unchanged = true;
            if (unchanged)
                continue;
            s.op = APPLY_OP_REPLACE;
        }
        a->set[nset] = a->map[i];
        a->params[nset++] = c->columns[i].value;
    }
    if (c->kind == CHG_UPDATE && nset == 0) {
        st = APPLY_OK; /* nothing the target stores changed (only generated columns) */
        goto out;
    }
    int nwhere = 0;
    st = build_where(a, t, c, nset, &nwhere, idmap);
    if (st != APPLY_OK)
        goto out;
    s.set = a->set;
    s.nset = nset;
    s.where = a->where;
    s.nwhere = nwhere;
    /* grouped by key: DELETEs; UPDATEs that keep the key, on a table whose
     * only unique index is the key (see the top of the file) */
    bool groupable = !s.full_row && apply_group_allowed(a) &&
                     (s.op == APPLY_OP_DELETE || (s.op == APPLY_OP_UPDATE && !t->other_unique)) &&
                     apply_cols_groupable(t, a->set, nset) &&
                     apply_cols_groupable(t, a->where, nwhere);
    for (int j = 0; groupable && s.op == APPLY_OP_UPDATE && j < nwhere; j++)
        for (int i = 0; i < nset; i++)
            if (a->set[i] == a->where[j] && !same_value(a->params[i], a->params[nset + j]))
                groupable = false; /* the key changes */
    st = apply_group_or_send(a, t, &s, groupable, c, c->identity, c->nidentity, idmap);
out:
    return st;
}

apply_status apply_flush_truncates(apply_ctx *a)
{
    if (a->ntrunc == 0)
        return APPLY_OK;
    strbuf b = {0};
    strbuf_printf(&b, "TRUNCATE ");
    for (int i = 0; i < a->ntrunc; i++)
        strbuf_printf(&b, "%s%s%s", i ? ", " : "", a->trunc[i]->relkind == 'p' ? "" : "ONLY ",
                      a->trunc[i]->qname);
    char desc[DESC_LEN];
    snprintf(desc, sizeof desc, "TRUNCATE of %s%s", a->trunc[0]->qname,
             a->ntrunc > 1 ? " and related tables" : "");
    a->ntrunc = 0;
    apply_status st = apply_send_cmd(a, b.data, desc);
    strbuf_free(&b);
    if (st == APPLY_OK) {
        a->batch_changes++;
        a->src_changes++;
    }
    return st;
}

static apply_status apply_row_change(apply_ctx *a, const pgb_change *c)
{
    apply_table *t = apply_table_get(a, c->schema, c->table);
    if (!t)
        return apply_fail(a, APPLY_RETRY, "target: cannot read the definition of %s.%s", c->schema,
                          c->table);
    if (!t->selected)
        return APPLY_OK;
    if (t->missing)
        return apply_fail(
            a, APPLY_FATAL,
            "schema change detected on the source at a %s on %s: the table is not on the "
            "target (created on the source after the copy?); nothing was applied from "
            "this transaction: create the table on the target with the same definition "
            "(and copy any rows it already had), then run `pgbaton start` again",
            apply_kind_name(c->kind), t->qname);
    ensure_scratch(a, (c->ncolumns > c->nidentity ? c->ncolumns : c->nidentity) + t->ncols + 1);
    apply_status st = apply_ensure_txn(a);
    if (st != APPLY_OK)
        return st;
    /* a TRUNCATE comes after everything held, in every table */
    if (c->kind == CHG_TRUNCATE && (st = apply_group_flush_all(a)) != APPLY_OK)
        return st;
    if (c->kind == CHG_TRUNCATE) {
        if (a->ntrunc > 0 && a->trunc_lsn != c->lsn && (st = apply_flush_truncates(a)) != APPLY_OK)
            return st;
        if (a->ntrunc == a->captrunc) {
            a->captrunc = a->captrunc ? 2 * a->captrunc : 8;
            a->trunc = xrealloc(a->trunc, (size_t)a->captrunc * sizeof(apply_table *));
        }
        a->trunc[a->ntrunc++] = t;
        a->trunc_lsn = c->lsn;
        return APPLY_OK;
    }
    if ((st = apply_flush_truncates(a)) != APPLY_OK)
        return st;
    if (c->kind == CHG_INSERT)
        return apply_insert(a, t, c);
    return apply_update_delete(a, t, c);
}

/* ---------------------------------------------------------------------- */
/* public                                                                  */

apply_status apply_change(apply_ctx *a, const pgb_change *c)
{
    if (a->failure != APPLY_OK)
        return a->failure;
    if (c->lsn != LSN_INVALID && c->lsn > a->seen_lsn)
        a->seen_lsn = c->lsn;
    if (c->nextlsn != LSN_INVALID && c->nextlsn > a->seen_lsn)
        a->seen_lsn = c->nextlsn;
    apply_status st = APPLY_OK;
    switch (c->kind) {
    case CHG_BEGIN:
        a->in_src = true;
        a->src_changes = 0;
        /* already applied (should not be sent again, but never twice) */
        a->skipping = c->nextlsn != LSN_INVALID
                          ? c->nextlsn <= a->committed_lsn
                          : c->lsn != LSN_INVALID && c->lsn < a->committed_lsn; /* pgoutput: the
                                                   commit's start only; commits do not overlap */
        return APPLY_OK;
    case CHG_COMMIT:
        if (!a->skipping) {
            if ((st = apply_flush_truncates(a)) != APPLY_OK)
                return st;
            if (c->nextlsn > a->pending_lsn)
                a->pending_lsn = c->nextlsn;
            if (a->src_changes > 0) {
                a->batch_txns++;
                snprintf(a->pending_ts, sizeof a->pending_ts, "%s",
                         c->timestamp ? c->timestamp : "");
            }
        }
        a->in_src = a->skipping = false;
        if (a->in_txn && apply_batch_full(a))
            st = apply_commit_batch(a);
        break;
    case CHG_MESSAGE:
        if (!a->skipping)
            st = apply_message(a, c);
        break;
    default:
        if (a->in_txn)
            apply_refresh_alive(a);
        if (!a->skipping) {
            st = apply_row_change(a, c);
            if (a->fence_seen)
                a->post_fence_batch++;
        }
        break;
    }
    if (st == APPLY_OK)
        st = apply_read_results(a, false);
    return st;
}

apply_status apply_poll(apply_ctx *a, bool idle)
{
    apply_status st = apply_read_results(a, false);
    if (st != APPLY_OK || a->in_src)
        return st;
    double since = (mono_now() - a->last_commit) * 1000.0;
    bool moved = a->pending_lsn > a->committed_lsn || a->pending_hb_ts[0] || a->pending_fence;
    bool aged = (mono_now() - a->batch_started) * 1000.0 >= a->opts.batch_ms / 10.0;
    if ((a->in_txn && ((idle && aged) || apply_batch_full(a))) ||
        (idle && moved && since >= IDLE_POSITION_MS) || since >= ALIVE_MS)
        st = apply_commit_batch(a);
    return st;
}

apply_status apply_finish(apply_ctx *a)
{
    if (a->failure != APPLY_OK)
        return a->failure;
    if (a->in_src) {
        /* a partial source transaction: drop the whole batch, it is sent again */
        log_info("rolling back the open batch (a source transaction was only partly received)");
        a->in_txn = false; /* closing the session rolls it back */
        return APPLY_OK;
    }
    return apply_commit_batch(a);
}

static bool setup_session(apply_ctx *a)
{
    db_conn *db = a->db;
    if (!db_command(db, "SET session_replication_role = replica") ||
        !db_command(db, "SET synchronous_commit = on"))
        return false;
    if (!db_command(a->catalog, "SET search_path = pg_catalog"))
        return false;
    if (!db_pipeline_begin(db)) {
        db_report(db, DB_LOG, NULL, "entering pipeline mode");
        return false;
    }
    return true;
}

apply_ctx *apply_open(const apply_opts *opts, apply_status *st)
{
    apply_ctx *a = xcalloc(1, sizeof *a);
    a->opts = *opts;
    if (a->opts.batch_changes <= 0)
        a->opts.batch_changes = 5000;
    if (a->opts.batch_txns <= 0)
        a->opts.batch_txns = 500;
    if (a->opts.batch_ms <= 0)
        a->opts.batch_ms = 200;
    a->queue = xcalloc(QUEUE_CAP, sizeof(pending));
    a->last_commit = a->last_sample = a->last_alive = mono_now();
    *st = APPLY_RETRY;
    db_connect_opts co = {.mode = DB_MODE_NORMAL,
                          .application_name = "pgbaton apply",
                          .errmode = DB_LOG,
                          .client_encoding = opts->source_encoding};
    a->db = db_connect(opts->target, DB_TARGET, &co, NULL, NULL);
    co.application_name = "pgbaton catalog";
    co.client_encoding = NULL;
    a->catalog = a->db ? db_connect(opts->target, DB_TARGET, &co, NULL, NULL) : NULL;
    if (!a->catalog)
        goto fail;
    if (!apply_read_position(a)) {
        *st = APPLY_FATAL;
        goto fail;
    }
    if (!setup_session(a)) {
        *st = db_sqlstate_is(a->db, SQLSTATE_INSUFFICIENT_PRIVILEGE) ? APPLY_FATAL : APPLY_RETRY;
        if (*st == APPLY_FATAL)
            log_error("target: the role needs superuser or `GRANT SET ON PARAMETER "
                      "session_replication_role` to apply changes without firing triggers");
        goto fail;
    }
    ensure_scratch(a, 64);
    *st = APPLY_OK;
    return a;
fail:
    apply_close(a);
    return NULL;
}

void apply_close(apply_ctx *a)
{
    if (!a)
        return;
    db_close(a->db);
    db_close(a->catalog);
    apply_tables_free(a);
    free(a->queue);
    free(a->trunc);
    free(a->map);
    free(a->set);
    free(a->where);
    free(a->idmap);
    free(a->params);
    free(a->gparams);
    free(a->goff);
    free(a->gvals);
    free(a->held);
    strbuf_free(&a->arrays);
    free(a->error);
    free(a);
}

lsn_t apply_committed_lsn(const apply_ctx *a)
{
    return a->committed_lsn;
}

int apply_socket(const apply_ctx *a)
{
    return db_socket(a->db);
}

bool apply_wants_write(const apply_ctx *a)
{
    return db_flush(a->db) == 1;
}

const char *apply_error(const apply_ctx *a)
{
    return a->error;
}
