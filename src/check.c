/*
 * src/check.c — preflight of both servers (`pgbaton check`, and the gate of
 * `pgbaton start`).
 *
 * How it works: check_run() connects to the source and the target (quietly:
 * a connection failure becomes a FAIL item with its own message and fix;
 * `start` lends the sessions it already has),
 * then runs the checks of each side that answered, then the checks that
 * need both, then the local ones (pg_dump, pg_restore). A side that cannot
 * connect has its dependent checks skipped, never reported as PASS. Each
 * check appends one item (PASS, WARN or FAIL; a fix sentence for WARN and
 * FAIL) to the report. The only change made to a server is the temporary
 * logical slot of the wal2json probe, created in a session of its own and
 * dropped (a temporary slot also vanishes with its session).
 *
 * Catalog SQL is in sql/check_*.sql. Decisions on errors use SQLSTATEs.
 */
#include "check.h"

#include "db.h"
#include "filter.h"
#include "log.h"
#include "pgtools.h"
#include "sql_embed.h"
#include "sqlstate.h"
#include "state.h"
#include "strlist.h"
#include "strutil.h"
#include "xalloc.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Default bound on the wait for the probe slot (slot creation waits for the
 * transactions running at that moment). */
#define PROBE_SLOT_TIMEOUT_S 30
/* How many names a message lists before "and N more". */
#define MAX_NAMES_SHOWN 10

/* What the wal2json probe found. */
typedef enum probe_result {
    PROBE_NOT_RUN,
    PROBE_FAILED,     /* wal2json not installed or cannot decode */
    PROBE_NO_NUMERIC, /* works, before 2.6: NaN and infinities arrive as NULL */
    PROBE_NUMERIC,    /* works, sends numbers as strings (2.6+) */
} probe_result;

/* Everything the checks share. */
typedef struct check_ctx {
    const pgb_options *o;
    const conninfo *src_ci; /* borrowed */
    const conninfo *dst_ci; /* borrowed */
    db_conn *src;           /* NULL when the source cannot be reached; owned */
    db_conn *dst;           /* idem, target; owned */
    check_report *r;        /* the report being built; borrowed */
    bool src_logical;       /* wal_level = logical */
    bool src_can_replicate; /* REPLICATION or superuser */
    bool src_super;         /* the source role is a superuser */
    bool src_plugin_ok;     /* wal2json allowed as output plugin */
    probe_result w2j;       /* what the wal2json probe found */
    bool dst_has_state;     /* target holds pgbaton.migration row for o->name */
    char *dst_state_slot;   /* that row's slot_name, owned, or NULL */
    char *dst_role_sql;     /* target role, quoted for SQL, owned, or NULL */
    db_pending *probe;      /* the wal2json probe's session, connecting since
                             * the start; NULL once taken */
} check_ctx;

/* --- small helpers ------------------------------------------------------ */

/* printf into a new malloc'd string. */

/* Add an item whose message is built with printf; FIX may be NULL. */
static void add(check_ctx *c, const char *id, check_status st, const char *fix, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));
static void add(check_ctx *c, const char *id, check_status st, const char *fix, const char *fmt,
                ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = str_vprintf(fmt, ap);
    va_end(ap);
    check_report_add(c->r, id, st, msg, fix);
    free(msg);
}

/* The server's version as "15.20" (distributor suffix cut) in BUF. */
static const char *version_text(const db_conn *db, char *buf, size_t bufsz)
{
    const char *v = db_parameter(db, "server_version");
    snprintf(buf, bufsz, "%s", v ? v : "?");
    buf[strcspn(buf, " ")] = '\0';
    return buf;
}

static bool is_true(const db_res *res, int row, int col)
{
    return !db_isnull(res, row, col) && strcmp(db_val(res, row, col), "t") == 0;
}

/* Run a query whose result must have NCOLS columns and MINROWS rows;
 * failures are recorded as a FAIL item for check ID. */
static db_res *query(check_ctx *c, db_conn *db, const char *id, const char *sql, int nparams,
                     const char *const *params, int ncols, int minrows)
{
    db_res *res = db_exec(db, DB_QUIET, sql, nparams, params);
    if (!res) {
        add(c, id, CHECK_FAIL,
            "make sure the role may read the system catalogs, then run check again",
            "%s: could not run the check's query: %s", db_side_name(db->side),
            db_errtext(db, "unknown error"));
        return NULL;
    }
    if (db_ncols(res) != ncols || db_nrows(res) < minrows) {
        add(c, id, CHECK_FAIL, "report this as a bug in pgbaton",
            "%s: unexpected result shape (%d columns, %d rows)", db_side_name(db->side),
            db_ncols(res), db_nrows(res));
        db_res_free(res);
        return NULL;
    }
    return res;
}

/* --- the report ------------------------------------------------------------ */

void check_report_add(check_report *r, const char *id, check_status st, const char *message,
                      const char *fix)
{
    r->items = xrealloc(r->items, (size_t)(r->n + 1) * sizeof(check_item));
    check_item *it = &r->items[r->n++];
    it->id = xstrdup(id);
    it->status = st;
    it->message = log_redact(message);
    it->fix = fix ? log_redact(fix) : NULL;
}

int check_report_count(const check_report *r, check_status st)
{
    int n = 0;
    for (int i = 0; i < r->n; i++)
        if (r->items[i].status == st)
            n++;
    return n;
}

static const char *status_word(check_status st, bool lower)
{
    switch (st) {
    case CHECK_PASS:
        return lower ? "pass" : "PASS";
    case CHECK_WARN:
        return lower ? "warn" : "WARN";
    case CHECK_FAIL:
        return lower ? "fail" : "FAIL";
    }
    return "?";
}

static void print_json(const check_report *r)
{
    json_t *arr = json_array(); /* new reference, decref'd below */
    for (int i = 0; i < r->n; i++) {
        const check_item *it = &r->items[i];
        /* json_pack's "o" steals the reference made by json_string/json_null */
        json_t *obj = json_pack("{s:s, s:s, s:s, s:o}", "check", it->id, "status",
                                status_word(it->status, true), "message", it->message, "fix",
                                it->fix ? json_string(it->fix) : json_null());
        json_array_append_new(arr, obj);
    }
    char *text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("%s\n", text ? text : "[]");
    free(text);
    json_decref(arr);
}

static void print_human(const check_report *r)
{
    int width = 0;
    for (int i = 0; i < r->n; i++) {
        int w = (int)strlen(r->items[i].id);
        if (w > width)
            width = w;
    }
    for (int i = 0; i < r->n; i++) {
        const check_item *it = &r->items[i];
        printf("%s  %-*s  %s\n", status_word(it->status, false), width, it->id, it->message);
        if (it->fix)
            printf("      fix: %s\n", it->fix);
    }
    int fails = check_report_count(r, CHECK_FAIL);
    int warns = check_report_count(r, CHECK_WARN);
    printf("check: %d passed, %d warning%s, %d failed\n", check_report_count(r, CHECK_PASS), warns,
           warns == 1 ? "" : "s", fails);
}

void check_report_print(const check_report *r, bool json)
{
    if (json)
        print_json(r);
    else
        print_human(r);
    fflush(stdout);
}

char *check_item_text(const check_item *item)
{
    if (item->fix)
        return str_printf("%s: %s; fix: %s", item->id, item->message, item->fix);
    return str_printf("%s: %s", item->id, item->message);
}

void check_report_free(check_report *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n; i++) {
        free(r->items[i].id);
        free(r->items[i].message);
        free(r->items[i].fix);
    }
    free(r->items);
    free(r);
}

bool check_plugin_listed(const char *setting, const char *library)
{
    size_t want = strlen(library);
    const char *p = setting;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',' || *p == '"')
            p++;
        const char *start = p;
        while (*p && *p != ',' && *p != '"')
            p++;
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if ((size_t)(end - start) == want && strncmp(start, library, want) == 0)
            return true;
    }
    return false;
}

/* --- connections ------------------------------------------------------------ */

/* Report the session DB of SIDE as connected. */
static void report_connected(check_ctx *c, db_side side, db_conn *db)
{
    const conninfo *ci = side == DB_SOURCE ? c->src_ci : c->dst_ci;
    char ver[64];
    add(c, side == DB_SOURCE ? "source-connection" : "target-connection", CHECK_PASS, NULL,
        "connected to %s as %s (PostgreSQL %s)", ci->masked, db_user(db),
        version_text(db, ver, sizeof ver));
}

/* Connect to one side; on failure add its FAIL item and return NULL. */
static db_conn *connect_side(check_ctx *c, db_side side)
{
    const conninfo *ci = side == DB_SOURCE ? c->src_ci : c->dst_ci;
    const char *id = side == DB_SOURCE ? "source-connection" : "target-connection";
    db_connect_opts opts = {
        .mode = DB_MODE_NORMAL, .application_name = "pgbaton check", .errmode = DB_QUIET};
    db_conn_failure why;
    char *err = NULL;
    db_conn *db = db_connect(ci, side, &opts, &why, &err);
    if (db) {
        report_connected(c, side, db);
        return db;
    }
    /* db_connect's message ends with "; <hint>": the hint becomes the fix */
    const char *hint = db_conn_failure_hint(why);
    size_t len = strlen(err), hl = strlen(hint);
    if (hl > 0 && len > hl + 2 && strcmp(err + len - hl, hint) == 0 &&
        strncmp(err + len - hl - 2, "; ", 2) == 0)
        err[len - hl - 2] = '\0';
    add(c, id, CHECK_FAIL, hint, "%s (the %s's other checks are skipped)", err, db_side_name(side));
    free(err);
    return NULL;
}

/* --- source ----------------------------------------------------------------- */

static void check_source_settings(check_ctx *c)
{
    db_res *res = query(c, c->src, "source-settings", sql_check_source_settings, 0, NULL, 9, 1);
    if (!res)
        return;
    const char *wal_level = db_val(res, 0, 0);
    int max_slots = atoi(db_val(res, 0, 1));
    int used_slots = atoi(db_val(res, 0, 2));
    int max_senders = atoi(db_val(res, 0, 3));
    int used_senders = atoi(db_val(res, 0, 4));
    bool super = is_true(res, 0, 5);
    bool repl = is_true(res, 0, 6);
    const char *user = db_val(res, 0, 7);

    c->src_logical = strcmp(wal_level, "logical") == 0;
    if (c->src_logical)
        add(c, "source-wal-level", CHECK_PASS, NULL, "wal_level is logical");
    else
        add(c, "source-wal-level", CHECK_FAIL,
            "run ALTER SYSTEM SET wal_level = logical on the source and restart it",
            "wal_level is %s; logical decoding needs logical", wal_level);

    c->src_can_replicate = super || repl;
    c->src_super = super;
    if (c->src_can_replicate) {
        add(c, "source-replication-privilege", CHECK_PASS, NULL, "role %s %s", user,
            super ? "is a superuser" : "has the REPLICATION attribute");
    } else {
        char *fix = str_printf("as a superuser on the source, run ALTER ROLE %s REPLICATION",
                               db_val(res, 0, 8));
        add(c, "source-replication-privilege", CHECK_FAIL, fix,
            "role %s has neither REPLICATION nor superuser: it cannot create or read a "
            "replication slot",
            user);
        free(fix);
    }

    int free_slots = max_slots - used_slots;
    if (free_slots >= 1)
        add(c, "source-replication-slots", CHECK_PASS, NULL,
            "%d of max_replication_slots = %d free", free_slots, max_slots);
    else
        add(c, "source-replication-slots", CHECK_FAIL,
            "raise max_replication_slots on the source (restart needed) or drop an unused slot",
            "no free replication slot: %d of max_replication_slots = %d in use", used_slots,
            max_slots);

    int free_senders = max_senders - used_senders;
    if (free_senders >= 1)
        add(c, "source-wal-senders", CHECK_PASS, NULL, "%d of max_wal_senders = %d free",
            free_senders, max_senders);
    else
        add(c, "source-wal-senders", CHECK_FAIL,
            "raise max_wal_senders on the source (restart needed) or stop an idle replication "
            "client",
            "no free WAL sender: %d of max_wal_senders = %d in use", used_senders, max_senders);
    db_res_free(res);
}

static bool plugin_is(const check_ctx *c, const char *plugin)
{
    return strcmp(c->o->plugin ? c->o->plugin : "auto", plugin) == 0;
}

/* output_plugin_libraries (PostgreSQL 15.19+): may wal2json be used? Only
 * --plugin wal2json needs it; otherwise pgoutput (always allowed) stands in. */
static void check_plugin_allowed(check_ctx *c)
{
    const char *id = "source-wal2json-allowed";
    if (plugin_is(c, "pgoutput"))
        return;
    db_res *res = db_exec(c->src, DB_QUIET, "SHOW output_plugin_libraries", 0, NULL);
    if (!res && db_sqlstate_is(c->src, SQLSTATE_UNDEFINED_OBJECT)) {
        c->src_plugin_ok = true;
        add(c, id, CHECK_PASS, NULL,
            "the server does not restrict output plugins (no output_plugin_libraries)");
        return;
    }
    if (!res) {
        add(c, id, CHECK_WARN, "make sure the role may read output_plugin_libraries",
            "could not read output_plugin_libraries: %s", c->src->err.text);
        c->src_plugin_ok = true; /* let the probe tell */
        return;
    }
    const char *value = db_nrows(res) == 1 ? db_val(res, 0, 0) : "";
    c->src_plugin_ok = check_plugin_listed(value, "wal2json");
    if (c->src_plugin_ok)
        add(c, id, CHECK_PASS, NULL, "output_plugin_libraries allows wal2json ('%s')", value);
    else if (plugin_is(c, "wal2json"))
        add(c, id, CHECK_FAIL,
            "set output_plugin_libraries = 'pgoutput, test_decoding, wal2json' on the source and "
            "reload it (on a managed service this is the provider's setting), or use --plugin "
            "pgoutput (always allowed)",
            "output_plugin_libraries is '%s': wal2json may not be used as an output plugin", value);
    else
        add(c, id, CHECK_PASS, NULL,
            "output_plugin_libraries is '%s': wal2json may not be used, pgoutput (always "
            "allowed) will be",
            value);
    db_res_free(res);
}

static int probe_timeout_seconds(void)
{
    const char *env = getenv("PGBATON_CHECK_SLOT_TIMEOUT");
    int v = env ? atoi(env) : 0;
    return v > 0 ? v : PROBE_SLOT_TIMEOUT_S;
}

/* Report why creating the probe slot failed. */
static void probe_slot_failed(check_ctx *c, db_conn *p, int timeout)
{
    const char *id = "source-wal2json";
    if (db_sqlstate_is(p, SQLSTATE_QUERY_CANCELED))
        add(c, id, CHECK_FAIL,
            "let that transaction finish or end it (pg_stat_activity: backend_xid IS NOT NULL, "
            "oldest xact_start first), then run check again",
            "a long-running transaction on the source blocks slot creation (waited %d s for "
            "a temporary slot)",
            timeout);
    else if (db_sqlstate_is(p, SQLSTATE_UNDEFINED_FILE) && !plugin_is(c, "wal2json"))
        add(c, id, CHECK_PASS, NULL,
            "wal2json is not installed on the source: pgoutput (built in) will be used");
    else if (db_sqlstate_is(p, SQLSTATE_UNDEFINED_FILE))
        add(c, id, CHECK_FAIL,
            "install wal2json on the source server (Debian/Ubuntu: postgresql-NN-wal2json), or "
            "use --plugin pgoutput (built in)",
            "wal2json is not installed on the source: %s", p->err.text);
    else
        add(c, id, CHECK_FAIL,
            "fix the cause named in the message, then run check again (the temporary slot is "
            "dropped automatically)",
            "could not create a temporary wal2json slot on the source: %s", p->err.text);
}

/* Peek at the probe slot with OPTION='1' (or without, when OPTION is NULL).
 * True when decoding started. */
static bool probe_peek(db_conn *p, const char *slot, const char *option)
{
    const char *params[] = {slot, option};
    db_res *res = option ? db_exec(p, DB_QUIET,
                                   "SELECT count(*) FROM pg_logical_slot_peek_changes($1, NULL, 0, "
                                   "'format-version', '2', $2, '1')",
                                   2, params)
                         : db_exec(p, DB_QUIET,
                                   "SELECT count(*) FROM pg_logical_slot_peek_changes($1, NULL, 0, "
                                   "'format-version', '2')",
                                   1, params);
    db_res_free(res);
    return res != NULL;
}

/* Is relation (row ROW of a check_relations result) selected? A partition
 * follows its partition tree's root, which is what the filters name. */
static bool relation_selected(const check_ctx *c, const db_res *res, int row)
{
    return filter_table_selected(&c->o->filters, db_val(res, row, 3), db_val(res, row, 4));
}

/* The selected source relations that get a FAIL or a WARN, by kind. */
typedef struct source_rels {
    bool read;            /* the query ran */
    strlist identity;     /* "schema.table (why)" */
    strlist identity_fix; /* "schema.table", same order */
    strlist unlogged;
    strlist matview;
    strlist numeric;  /* tables with numeric/float columns */
    strlist notowned; /* tables (partition roots) the role does not own */
} source_rels;

static void source_rels_free(source_rels *sr)
{
    strlist_free(&sr->identity);
    strlist_free(&sr->identity_fix);
    strlist_free(&sr->unlogged);
    strlist_free(&sr->matview);
    strlist_free(&sr->numeric);
    strlist_free(&sr->notowned);
}

/* Read check_relations.sql into SR (a FAIL item when it cannot run). */
static void collect_relations(check_ctx *c, source_rels *sr)
{
    db_res *res = query(c, c->src, "replica-identity", sql_check_relations, 0, NULL, 7, 0);
    if (!res)
        return;
    sr->read = true;
    for (int i = 0; i < db_nrows(res); i++) {
        if (!relation_selected(c, res, i))
            continue;
        const char *kind = db_val(res, i, 0);
        const char *display = db_val(res, i, 5);
        if (strcmp(kind, "identity") == 0) {
            char *s = str_printf("%s (%s)", display, db_val(res, i, 6));
            strlist_add(&sr->identity, s);
            strlist_add(&sr->identity_fix, display);
            free(s);
        } else if (strcmp(kind, "unlogged") == 0) {
            strlist_add(&sr->unlogged, display);
        } else if (strcmp(kind, "matview") == 0) {
            strlist_add(&sr->matview, display);
        } else if (strcmp(kind, "numeric") == 0) {
            strlist_add(&sr->numeric, display);
        } else if (strcmp(kind, "notowned") == 0) {
            strlist_add(&sr->notowned, display);
        }
    }
    db_res_free(res);
}

/* The decoder start will use (--plugin, what the source allows, what
 * wal2json can carry exactly), as a "decoder" item; c->r->plugin. */
static void choose_plugin(check_ctx *c, const source_rels *rels)
{
    const char *id = "decoder";
    const strlist *numeric = &rels->numeric;
    char *list = strlist_join(numeric, ", ", MAX_NAMES_SHOWN);
    bool lossy = c->w2j == PROBE_NO_NUMERIC && numeric->n > 0;
    if (plugin_is(c, "pgoutput")) {
        snprintf(c->r->plugin, sizeof c->r->plugin, "pgoutput");
        add(c, id, CHECK_PASS, NULL, "start will decode with pgoutput (--plugin pgoutput)");
    } else if (plugin_is(c, "wal2json")) {
        snprintf(c->r->plugin, sizeof c->r->plugin, "wal2json");
        if (lossy && !c->o->accept_nan_as_null)
            add(c, id, CHECK_FAIL,
                "use --plugin pgoutput (or auto), which carries them exactly, or install "
                "wal2json 2.6 or later; --accept-nan-as-null accepts the loss",
                "--plugin wal2json: this wal2json (before 2.6) sends NaN and +/-Infinity in "
                "numeric, real and double precision columns as NULL, and these selected tables "
                "have such columns: %s",
                list);
        else if (lossy)
            add(c, id, CHECK_WARN,
                "use --plugin pgoutput (or auto) to carry them exactly, or install wal2json 2.6 "
                "or later",
                "start will decode with wal2json (--plugin wal2json --accept-nan-as-null): NaN "
                "and +/-Infinity written while streaming will arrive as NULL in %s",
                list);
        else
            add(c, id, CHECK_PASS, NULL, "start will decode with wal2json (--plugin wal2json)%s",
                c->w2j == PROBE_NUMERIC ? ", which sends numbers as strings" : "");
    } else if (c->src_plugin_ok && (c->w2j == PROBE_NUMERIC || c->w2j == PROBE_NO_NUMERIC) &&
               !lossy) {
        snprintf(c->r->plugin, sizeof c->r->plugin, "wal2json");
        add(c, id, CHECK_PASS, NULL, "start will decode with wal2json: it is allowed and %s",
            c->w2j == PROBE_NUMERIC ? "sends numbers as strings (numeric-data-types-as-string)"
                                    : "no selected table has a numeric, real or double precision "
                                      "column (before 2.6 it sends their NaN and infinities as "
                                      "NULL)");
    } else {
        snprintf(c->r->plugin, sizeof c->r->plugin, "pgoutput");
        if (!c->src_plugin_ok)
            add(c, id, CHECK_PASS, NULL,
                "start will decode with pgoutput: the source does not allow wal2json");
        else if (lossy)
            add(c, id, CHECK_PASS, NULL,
                "start will decode with pgoutput: this wal2json (before 2.6) would send NaN and "
                "+/-Infinity as NULL, and these selected tables have numeric, real or double "
                "precision columns: %s",
                list);
        else
            add(c, id, CHECK_PASS, NULL,
                "start will decode with pgoutput: wal2json does not work on the source");
    }
    free(list);
}

/* Create a temporary wal2json slot in a fresh session, learn whether
 * numeric-data-types-as-string is supported, drop the slot. */
static void check_wal2json_probe(check_ctx *c)
{
    const char *id = "source-wal2json";
    char *err = NULL;
    db_conn *p = db_connect_finish(c->probe, NULL, &err);
    c->probe = NULL;
    if (!p) {
        add(c, id, CHECK_FAIL,
            "make sure the source accepts one more connection from this role "
            "(max_connections, CONNECTION LIMIT), then run check again",
            "could not open a second session to the source for the wal2json probe: %s", err);
        free(err);
        return;
    }
    int timeout = probe_timeout_seconds();
    char slot[64], setsql[64];
    snprintf(slot, sizeof slot, "pgbaton_check_%ld", (long)getpid());
    snprintf(setsql, sizeof setsql, "SET statement_timeout = '%ds'", timeout);
    const char *params[] = {slot};
    db_res *res = db_exec(p, DB_QUIET, setsql, 0, NULL);
    db_res_free(res);
    res = db_exec(p, DB_QUIET,
                  "SELECT 1 FROM pg_create_logical_replication_slot($1, 'wal2json', true)", 1,
                  params);
    if (!res) {
        probe_slot_failed(c, p, timeout);
        c->w2j = PROBE_FAILED;
        db_close(p);
        return;
    }
    db_res_free(res);
    /* an error drops the session's temporary slots: peek with the option
     * last, and drop the slot only if it is still there */
    bool works = probe_peek(p, slot, NULL);
    if (works)
        add(c, id, CHECK_PASS, NULL,
            "wal2json works: a temporary slot was created and decoded with format-version 2");
    else
        add(c, id, plugin_is(c, "wal2json") ? CHECK_FAIL : CHECK_WARN,
            "install a working wal2json (2.5 or later) on the source, or use --plugin pgoutput",
            "wal2json could not decode with format-version 2: %s%s", p->err.text,
            plugin_is(c, "wal2json") ? "" : "; pgoutput will be used");
    bool supported = works && probe_peek(p, slot, "numeric-data-types-as-string");
    res = db_exec(p, DB_QUIET,
                  "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                  "WHERE slot_name = $1 AND temporary",
                  1, params);
    if (!res)
        log_debug("source: dropping the probe slot: %s (it goes with the session)", p->err.text);
    db_res_free(res);
    db_close(p);
    c->w2j = !works ? PROBE_FAILED : supported ? PROBE_NUMERIC : PROBE_NO_NUMERIC;
}

/* Identity, unlogged, matview: one item each. */
static void report_relations(check_ctx *c, const source_rels *sr)
{
    const strlist *identity = &sr->identity, *unlogged = &sr->unlogged, *matview = &sr->matview;
    if (!sr->read)
        return;
    if (identity->n == 0) {
        add(c, "replica-identity", CHECK_PASS, NULL,
            "every selected table has a primary key or a usable replica identity");
    } else {
        char *list = strlist_join(identity, ", ", MAX_NAMES_SHOWN);
        char *fix = str_printf("add a primary key to each, or run ALTER TABLE %s REPLICA IDENTITY "
                               "FULL (and likewise for the others)",
                               sr->identity_fix.items[0]);
        add(c, "replica-identity", CHECK_FAIL, fix,
            "%d table%s whose UPDATE and DELETE cannot be replicated: %s", identity->n,
            identity->n == 1 ? "" : "s", list);
        free(fix);
        free(list);
    }
    if (unlogged->n == 0) {
        add(c, "unlogged-tables", CHECK_PASS, NULL, "no unlogged table");
    } else {
        char *list = strlist_join(unlogged, ", ", MAX_NAMES_SHOWN);
        add(c, "unlogged-tables", CHECK_WARN,
            "make them logged (ALTER TABLE ... SET LOGGED) if their changes must follow, or "
            "exclude them",
            "unlogged tables are copied once but their changes are not replicated: %s", list);
        free(list);
    }
    if (matview->n == 0) {
        add(c, "materialized-views", CHECK_PASS, NULL, "no materialized view");
    } else {
        char *list = strlist_join(matview, ", ", MAX_NAMES_SHOWN);
        add(c, "materialized-views", CHECK_WARN,
            "nothing to do unless they are large: allow time for REFRESH MATERIALIZED VIEW at "
            "cutover",
            "materialized views are not replicated; they are refreshed on the target at cutover: "
            "%s",
            list);
        free(list);
    }
}

static void check_large_objects(check_ctx *c)
{
    db_res *res = query(c, c->src, "large-objects", "SELECT count(*) FROM pg_largeobject_metadata",
                        0, NULL, 1, 1);
    if (!res)
        return;
    long n = atol(db_val(res, 0, 0));
    if (n == 0)
        add(c, "large-objects", CHECK_PASS, NULL, "no large object");
    else
        add(c, "large-objects", CHECK_WARN,
            "avoid changing large objects during the migration, or store the data in bytea "
            "columns",
            "%ld large object%s: copied once, later changes to them are not replicated", n,
            n == 1 ? "" : "s");
    db_res_free(res);
}

/* The slot name (= --name) must be free, unless it is this migration's. */
static void check_slot_name(check_ctx *c)
{
    const char *id = "slot-name";
    const char *params[] = {c->o->name};
    db_res *res = query(c, c->src, id,
                        "SELECT slot_type, coalesce(plugin, ''), active FROM "
                        "pg_replication_slots WHERE slot_name = $1",
                        1, params, 3, 0);
    if (!res)
        return;
    if (db_nrows(res) == 0) {
        add(c, id, CHECK_PASS, NULL, "no replication slot named %s on the source", c->o->name);
    } else if (c->dst_state_slot && strcmp(c->dst_state_slot, c->o->name) == 0) {
        add(c, id, CHECK_PASS, NULL,
            "slot %s belongs to migration %s (state on the target); start will resume from it",
            c->o->name, c->o->name);
    } else {
        char *fix = str_printf("choose another --name, or remove the old migration with "
                               "pgbaton clean --name %s (or SELECT pg_drop_replication_slot('%s') "
                               "on the source)",
                               c->o->name, c->o->name);
        add(c, id, CHECK_FAIL, fix,
            "a %s replication slot named %s already exists on the source%s%s%s", db_val(res, 0, 0),
            c->o->name, *db_val(res, 0, 1) ? " (plugin " : "", db_val(res, 0, 1),
            *db_val(res, 0, 1) ? ")" : "");
        free(fix);
    }
    db_res_free(res);
}

/* The cutover's freeze needs to ALTER the database and end other sessions:
 * the copy and the stream work without, so a WARN (before the window). */
static void check_freeze_privileges(check_ctx *c)
{
    const char *id = "freeze-privileges";
    db_res *res = query(c, c->src, id, sql_check_freeze_privileges, 0, NULL, 5, 1);
    if (!res)
        return;
    bool super = is_true(res, 0, 0), owner = is_true(res, 0, 1), signal = is_true(res, 0, 2);
    const char *role = db_val(res, 0, 3), *db = db_val(res, 0, 4);
    if (super || (owner && signal)) {
        add(c, id, CHECK_PASS, NULL, "the source role can freeze database %s at cutover (%s)", db,
            super ? "superuser" : "database owner with pg_signal_backend");
    } else {
        char *qrole = db_quote_ident(role), *qdb = db_quote_ident(db);
        char *alter =
            owner ? xstrdup("") : str_printf(" ALTER DATABASE %s OWNER TO %s;", qdb, qrole);
        char *grant = signal ? xstrdup("") : str_printf(" GRANT pg_signal_backend TO %s;", qrole);
        char *fix =
            str_printf("before the cutover, as a superuser (or the provider's admin role):%s%s "
                       "or run the cutover with a superuser role (sessions of superusers "
                       "can only be ended by a superuser)",
                       alter, grant);
        free(alter);
        free(grant);
        add(c, id, CHECK_WARN, fix, "the cutover cannot freeze the source with role %s: it %s%s%s",
            role, owner ? "" : "does not own the database", !owner && !signal ? " and " : "",
            signal ? "" : "cannot end other sessions (pg_signal_backend)");
        free(fix);
        free(qrole);
        free(qdb);
    }
    db_res_free(res);
}

/* pgoutput needs a publication: start creates it FOR ALL TABLES (superuser)
 * or FOR TABLE (CREATE on the database, ownership of every selected table). */
static void check_publication(check_ctx *c, const source_rels *rels)
{
    const char *id = "source-publication";
    const char *params[] = {c->o->name};
    db_res *res = query(c, c->src, id,
                        "SELECT has_database_privilege(current_database(), 'CREATE'), "
                        "EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1), "
                        "current_user, current_database()",
                        1, params, 4, 1);
    if (!res)
        return;
    bool create = is_true(res, 0, 0), exists = is_true(res, 0, 1);
    const char *role = db_val(res, 0, 2), *db = db_val(res, 0, 3);
    if (exists && !c->dst_has_state) {
        char *fix = str_printf("choose another --name, or drop it on the source (DROP PUBLICATION "
                               "%s) if it is a leftover of pgbaton",
                               c->o->name);
        add(c, id, CHECK_FAIL, fix, "a publication named %s already exists on the source",
            c->o->name);
        free(fix);
    } else if (exists) {
        add(c, id, CHECK_PASS, NULL, "publication %s belongs to migration %s", c->o->name,
            c->o->name);
    } else if (c->src_super && filter_is_empty(&c->o->filters)) {
        add(c, id, CHECK_PASS, NULL,
            "start will create publication %s FOR ALL TABLES (role %s is a superuser)", c->o->name,
            role);
    } else if (!create || rels->notowned.n > 0) {
        char *list = strlist_join(&rels->notowned, ", ", MAX_NAMES_SHOWN);
        char *qrole = db_quote_ident(role), *qdb = db_quote_ident(db);
        char *fix = !create ? str_printf("as the database's owner or a superuser: GRANT CREATE ON "
                                         "DATABASE %s TO %s; or allow wal2json on the source",
                                         qdb, qrole)
                            : str_printf("run pgbaton as the tables' owner or a superuser, or "
                                         "ALTER TABLE %s OWNER TO %s (and likewise for the "
                                         "others); or allow wal2json on the source",
                                         rels->notowned.items[0], qrole);
        add(c, id, CHECK_FAIL, fix,
            "pgoutput needs a publication and role %s cannot create it: %s%s%s%s", role,
            !create ? "it has no CREATE privilege on the database" : "",
            !create && rels->notowned.n ? "; " : "",
            rels->notowned.n ? "it does not own these selected tables: " : "",
            rels->notowned.n ? list : "");
        free(fix);
        free(list);
        free(qrole);
        free(qdb);
    } else {
        add(c, id, CHECK_PASS, NULL,
            "start will create publication %s FOR TABLE with the selected tables (role %s owns "
            "them); a table created on the source later is not in it, and the cutover refuses "
            "to finish while one is missing",
            c->o->name, role);
    }
    db_res_free(res);
}

static void check_source(check_ctx *c)
{
    check_source_settings(c);
    check_plugin_allowed(c);
    source_rels rels = {0};
    collect_relations(c, &rels);
    if (c->src_logical && c->src_can_replicate && c->src_plugin_ok && !plugin_is(c, "pgoutput"))
        check_wal2json_probe(c);
    if (rels.read)
        choose_plugin(c, &rels);
    if (strcmp(c->r->plugin, "pgoutput") == 0)
        check_publication(c, &rels);
    report_relations(c, &rels);
    source_rels_free(&rels);
    check_large_objects(c);
    check_slot_name(c);
    check_freeze_privileges(c);
}

/* --- target ----------------------------------------------------------------- */

/* Does the target hold pgbaton's state for this migration? Sets
 * dst_has_state and dst_state_slot; adds nothing. */
static void read_target_state(check_ctx *c)
{
    bool exists = false;
    if (!state_schema_exists(c->dst, DB_QUIET, &exists) || !exists)
        return;
    bool found = false;
    char *slot = NULL;
    if (!state_read_slot(c->dst, c->o->name, DB_QUIET, &found, &slot))
        log_debug("target: reading pgbaton.migration: %s", c->dst->err.text);
    else if (found) {
        c->dst_has_state = true;
        c->dst_state_slot = slot;
    }
}

static void check_target_privileges(check_ctx *c)
{
    const char *id = "target-create-privilege";
    db_res *res = query(c, c->dst, id, sql_check_target_privileges, 0, NULL, 7, 1);
    if (!res)
        return;
    bool super = is_true(res, 0, 0);
    bool db_create = is_true(res, 0, 1);
    bool public_create = db_isnull(res, 0, 2) ? db_create : is_true(res, 0, 2);
    const char *role = db_val(res, 0, 5), *dbname = db_val(res, 0, 6);
    free(c->dst_role_sql);
    c->dst_role_sql = xstrdup(role);
    if (super) {
        add(c, id, CHECK_PASS, NULL, "role %s is a superuser on the target", db_val(res, 0, 3));
    } else if (db_create && public_create) {
        add(c, id, CHECK_PASS, NULL,
            "role %s may create schemas in database %s and objects in schema public",
            db_val(res, 0, 3), db_val(res, 0, 4));
    } else {
        char *fix =
            str_printf("as a superuser on the target, run GRANT CREATE ON DATABASE %s TO %s; "
                       "GRANT CREATE ON SCHEMA public TO %s (or make %s the database owner)",
                       dbname, role, role, role);
        add(c, id, CHECK_FAIL, fix, "role %s lacks %s on the target", db_val(res, 0, 3),
            !db_create && !public_create ? "CREATE on the database and on schema public"
            : !db_create                 ? "CREATE on the database"
                                         : "CREATE on schema public");
        free(fix);
    }
    db_res_free(res);
}

/* SET session_replication_role = replica inside BEGIN ... ROLLBACK. */
static void check_session_replication_role(check_ctx *c)
{
    const char *id = "target-session-replication-role";
    db_res *res = db_exec(c->dst, DB_QUIET, "BEGIN", 0, NULL);
    if (!res) {
        add(c, id, CHECK_FAIL, "run check again; if it persists, see the target's server log",
            "could not start a transaction on the target: %s", c->dst->err.text);
        return;
    }
    db_res_free(res);
    res = db_exec(c->dst, DB_QUIET, "SET LOCAL session_replication_role = replica", 0, NULL);
    bool ok = res != NULL;
    bool denied = !ok && db_sqlstate_is(c->dst, SQLSTATE_INSUFFICIENT_PRIVILEGE);
    char *err = ok ? NULL : xstrdup(db_errtext(c->dst, ""));
    db_res_free(res);
    res = db_exec(c->dst, DB_QUIET, "ROLLBACK", 0, NULL);
    db_res_free(res);

    const char *user = db_user(c->dst);
    if (ok) {
        add(c, id, CHECK_PASS, NULL, "role %s may set session_replication_role = replica", user);
    } else if (denied) {
        const char *role = c->dst_role_sql ? c->dst_role_sql : user;
        char *fix = db_server_version(c->dst) >= 150000
                        ? str_printf("as a superuser on the target, run GRANT SET ON PARAMETER "
                                     "session_replication_role TO %s (or make it a superuser)",
                                     role)
                        : str_printf("make %s a superuser on the target (PostgreSQL < 15 has no "
                                     "GRANT SET ON PARAMETER)",
                                     role);
        add(c, id, CHECK_FAIL, fix,
            "role %s may not set session_replication_role = replica (needed to apply changes "
            "without firing triggers and foreign-key checks)",
            user);
        free(fix);
    } else {
        add(c, id, CHECK_FAIL, "fix the cause named in the message",
            "could not set session_replication_role on the target: %s", err);
    }
    free(err);
}

static void check_target_empty(check_ctx *c)
{
    const char *id = "target-empty";
    db_res *res = query(c, c->dst, id, sql_check_target_tables, 0, NULL, 1, 0);
    if (!res)
        return;
    int n = db_nrows(res);
    if (c->dst_has_state) {
        add(c, id, CHECK_PASS, NULL,
            "the target holds pgbaton's state for migration %s; start will resume", c->o->name);
    } else if (n == 0) {
        add(c, id, CHECK_PASS, NULL, "the target database has no user tables");
    } else {
        strlist tables = {0};
        for (int i = 0; i < n; i++)
            strlist_add(&tables, db_val(res, i, 0));
        char *list = strlist_join(&tables, ", ", MAX_NAMES_SHOWN);
        add(c, id, CHECK_FAIL,
            "point --target at an empty database (for example one made with CREATE DATABASE)",
            "the target database already has %d user table%s: %s", n, n == 1 ? "" : "s", list);
        free(list);
        strlist_free(&tables);
    }
    db_res_free(res);
}

static void check_target(check_ctx *c)
{
    check_target_privileges(c);
    check_session_replication_role(c);
    check_target_empty(c);
}

/* --- both sides ------------------------------------------------------------- */

static void check_versions(check_ctx *c)
{
    int sv = db_server_version(c->src), tv = db_server_version(c->dst);
    char sver[64], tver[64];
    if (tv / 10000 >= sv / 10000)
        add(c, "target-version", CHECK_PASS, NULL, "target %s is not older than source %s",
            version_text(c->dst, tver, sizeof tver), version_text(c->src, sver, sizeof sver));
    else
        add(c, "target-version", CHECK_FAIL,
            "use a target server whose major version is at least the source's",
            "target major version %d is older than the source's (%d)", tv / 10000, sv / 10000);
}

static void check_extensions(check_ctx *c)
{
    const char *id = "target-extensions";
    db_res *src = query(c, c->src, id, sql_check_source_extensions, 0, NULL, 2, 0);
    if (!src)
        return;
    db_res *dst = query(c, c->dst, id, "SELECT name FROM pg_available_extensions", 0, NULL, 1, 0);
    if (!dst) {
        db_res_free(src);
        return;
    }
    strlist missing = {0};
    for (int i = 0; i < db_nrows(src); i++) {
        const char *ext = db_val(src, i, 0);
        bool found = false;
        for (int j = 0; j < db_nrows(dst) && !found; j++)
            found = strcmp(ext, db_val(dst, j, 0)) == 0;
        if (!found)
            strlist_add(&missing, ext);
    }
    if (db_nrows(src) == 0) {
        add(c, id, CHECK_PASS, NULL, "the source uses no extension beside plpgsql");
    } else if (missing.n == 0) {
        add(c, id, CHECK_PASS, NULL, "%d source extension%s available on the target", db_nrows(src),
            db_nrows(src) == 1 ? "" : "s");
    } else {
        char *list = strlist_join(&missing, ", ", MAX_NAMES_SHOWN);
        add(c, id, CHECK_FAIL,
            "install these extensions' packages on the target server (or use a target that "
            "offers them)",
            "extensions used on the source are not available on the target: %s", list);
        free(list);
    }
    strlist_free(&missing);
    db_res_free(src);
    db_res_free(dst);
}

/* --- local client programs --------------------------------------------------- */

static void check_tool(check_ctx *c, const char *name)
{
    int major = db_server_version(c->src) / 10000;
    pgtool t;
    bool ok = pgtool_find(name, major, &t);
    if (ok) {
        add(c, name, CHECK_PASS, NULL, "%s %d.%d found (%s)", name, t.major, t.version_num % 100,
            t.path);
    } else {
        char *fix =
            str_printf("install postgresql-client-%d (or later), which provides %s", major, name);
        if (t.path)
            add(c, name, CHECK_FAIL, fix, "%s at %s is version %d, older than the source (%d)",
                name, t.path, t.major, major);
        else
            add(c, name, CHECK_FAIL, fix, "%s not found (needed: version %d or later)", name,
                major);
        free(fix);
    }
    pgtool_free(&t);
}

/* --- entry points ------------------------------------------------------------ */

check_report *check_run(const pgb_options *o, const conninfo *src, const conninfo *dst,
                        const check_sessions *given)
{
    /* the client programs' versions are asked (a process each) while the
     * servers answer */
    pgtool_prefetch("pg_dump");
    pgtool_prefetch("pg_restore");
    check_report *r = xcalloc(1, sizeof *r);
    check_ctx c = {.o = o, .src_ci = src, .dst_ci = dst, .r = r};
    db_conn *own_src = NULL, *own_dst = NULL;
    if (given && given->src)
        report_connected(&c, DB_SOURCE, c.src = given->src);
    else
        c.src = own_src = connect_side(&c, DB_SOURCE);
    /* the wal2json probe's own session connects while the other checks run */
    static const db_connect_opts probe_opts = {
        .mode = DB_MODE_NORMAL, .application_name = "pgbaton check probe", .errmode = DB_QUIET};
    if (c.src)
        c.probe = db_connect_start(src, DB_SOURCE, &probe_opts);
    if (given && given->dst)
        report_connected(&c, DB_TARGET, c.dst = given->dst);
    else
        c.dst = own_dst = connect_side(&c, DB_TARGET);
    if (c.dst)
        read_target_state(&c);
    if (c.src)
        check_source(&c);
    if (c.dst)
        check_target(&c);
    if (c.src && c.dst) {
        check_versions(&c);
        check_extensions(&c);
    }
    if (c.src) {
        check_tool(&c, "pg_dump");
        check_tool(&c, "pg_restore");
    }
    if (c.probe) /* not needed after all */
        db_close(db_connect_finish(c.probe, NULL, NULL));
    db_close(own_src);
    db_close(own_dst);
    free(c.dst_state_slot);
    free(c.dst_role_sql);
    return r;
}

int cmd_check(const pgb_options *o)
{
    conninfo *src = cli_conninfo(o, DB_SOURCE);
    if (!src)
        return EXIT_USAGE;
    conninfo *dst = cli_conninfo(o, DB_TARGET);
    if (!dst) {
        conninfo_free(src);
        return EXIT_USAGE;
    }
    check_report *r = check_run(o, src, dst, NULL);
    check_report_print(r, o->json);
    int rc = check_report_count(r, CHECK_FAIL) > 0 ? EXIT_PREFLIGHT : EXIT_OK;
    check_report_free(r);
    conninfo_free(src);
    conninfo_free(dst);
    return rc;
}
