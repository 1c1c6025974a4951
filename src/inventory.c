/*
 * src/inventory.c — `pgbaton inventory`: describe the source's structure.
 *
 * Reads the inventory with catalog_inventory() (one read-only transaction)
 * and prints it, as text for people or, with --json, as one JSON object.
 * With --ddl FILE it also writes the schema creation script with pg_dump
 * --schema-only --no-owner --exclude-schema=pgbaton, into a temporary file
 * beside FILE that is renamed over FILE only when pg_dump succeeded, so a
 * failure never leaves a partial script.
 *
 * Text output: a header (database, server, counts per object kind, tables
 * whose UPDATE/DELETE cannot be replicated), then one section per kind; one
 * line per table (kind, estimated rows, size, column count, primary key,
 * replica identity, notes). Column details are in --json only.
 *
 * JSON shape (--json; docs/inventory.md has the same with an example):
 * {
 *   "database": "app", "server_version": "15.20 (...)",
 *   "server_version_num": 150020, "encoding": "UTF8", "large_objects": 1,
 *   "schemas":  [{"name", "owner"}],
 *   "tables":   [{"schema", "name",
 *                 "kind": "table"|"partitioned"|"partition"|"foreign",
 *                 "parent": {"schema", "name"} | null   (partitions),
 *                 "estimated_rows": int | null          (never analyzed),
 *                 "size_bytes": int                     (pg_total_relation_size),
 *                 "primary_key": ["col", ...]           ([] when none),
 *                 "replica_identity": "default"|"full"|"index"|"nothing",
 *                 "replica_identity_index": "name" | null,
 *                 "replicable": bool     (the replica identity lets logical
 *                                         decoding carry UPDATE/DELETE: FULL,
 *                                         DEFAULT with a primary key, or INDEX),
 *                 "unlogged": bool       (an unlogged table's changes are not
 *                                         decoded at all, whatever "replicable"),
 *                 "columns": [{"name", "position", "type" (format_type),
 *                              "nullable": bool, "default": text | null,
 *                              "generated": "stored" | null,
 *                              "generation_expression": text | null,
 *                              "identity": "always"|"by default"|null,
 *                              "collation": text | null (when not the type's)}]}],
 *   "indexes":     [{"schema", "table", "name", "definition" (pg_get_indexdef),
 *                    "unique", "primary", "valid", "constraint": name | null}],
 *   "constraints": [{"schema", "table", "name",
 *                    "type": "primary key"|"foreign key"|"unique"|"check"|
 *                            "exclusion"|"trigger",
 *                    "definition" (pg_get_constraintdef),
 *                    "references": {"schema", "name"} | null (foreign keys),
 *                    "deferrable", "validated", "inherited": bool}],
 *   "triggers":    [{"schema", "table", "name", "definition" (pg_get_triggerdef),
 *                    "enabled": "enabled"|"disabled"|"replica"|"always",
 *                    "function": "schema.name", "inherited": bool}],
 *   "functions":   [{"schema", "name",
 *                    "kind": "function"|"procedure"|"aggregate"|"window",
 *                    "arguments" (identity arguments), "result": text | null,
 *                    "language", "security_definer": bool}],
 *   "sequences":   [{"schema", "name", "type", "start", "increment", "min",
 *                    "max", "cache", "cycle",
 *                    "owned_by": {"schema", "table", "column"} | null,
 *                    "identity": bool}],
 *   "views":       [{"schema", "name", "kind": "view"|"materialized view",
 *                    "populated": bool, "definition"}],
 *   "types":       [{"schema", "name", "kind": "enum"|"domain"|"composite"|
 *                    "range"|"base", and by kind: "labels": [..] (enum);
 *                    "base_type", "not_null", "default", "constraints": [..]
 *                    (domain); "attributes": [{"name", "type"}] (composite);
 *                    "subtype" (range)}],
 *   "extensions":  [{"name", "version", "schema"}]
 * }
 * Objects of the schema "pgbaton", of system schemas and of extensions are
 * never listed (see include/catalog.h).
 */
#include "catalog.h"
#include "cli.h"
#include "log.h"
#include "pgtools.h"
#include "strutil.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- small accessors and formatting --------------------------------------- */

/* String member KEY of OBJ, or DEF when absent or not a string (borrowed). */
static const char *jstr(const json_t *obj, const char *key, const char *def)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : def;
}

static bool jbool(const json_t *obj, const char *key)
{
    return json_is_true(json_object_get(obj, key));
}

/* An identifier as it would be written in SQL: quoted only when needed
 * (keywords aside). Malloc'd. */
static char *display_ident(const char *name)
{
    bool plain = (name[0] >= 'a' && name[0] <= 'z') || name[0] == '_';
    for (const char *p = name; *p && plain; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '$';
    return plain ? xstrdup(name) : db_quote_ident(name);
}

/* "schema.name" for display; malloc'd. */
static char *display_qualified(const char *schema, const char *name)
{
    char *s = display_ident(schema), *n = display_ident(name);
    size_t len = strlen(s) + strlen(n) + 2;
    char *out = xmalloc(len);
    snprintf(out, len, "%s.%s", s, n);
    free(s);
    free(n);
    return out;
}

/* Qualified name of the object OBJ (keys "schema" and NAME_KEY); malloc'd. */
static char *object_name(const json_t *obj, const char *name_key)
{
    return display_qualified(jstr(obj, "schema", "?"), jstr(obj, name_key, "?"));
}

/* Bytes in the style of pg_size_pretty ("8192 bytes", "16 kB", "1.5 GB"). */
static void format_size(json_int_t bytes, char *buf, size_t len)
{
    static const char *const units[] = {"bytes", "kB", "MB", "GB", "TB", "PB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 10240 && u < 5) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%lld bytes", (long long)bytes);
    else
        snprintf(buf, len, "%.0f %s", v, units[u]);
}

/* Display width of UTF-8 text (code points). */
static int text_width(const char *s)
{
    int w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

/* --- aligned text tables --------------------------------------------------- */

#define TT_MAXCOLS 8

typedef struct text_table {
    int ncols;
    const char *head[TT_MAXCOLS]; /* column titles (static strings) */
    bool right[TT_MAXCOLS];       /* right-align (numbers) */
    char **cells;                 /* nrows * ncols, owned */
    int nrows;
} text_table;

/* Append a row; takes ownership of the NCOLS malloc'd strings in CELLS. */
static void tt_add(text_table *t, char **cells)
{
    t->cells = xrealloc(t->cells, (size_t)(t->nrows + 1) * (size_t)t->ncols * sizeof(char *));
    memcpy(t->cells + (size_t)t->nrows * (size_t)t->ncols, cells,
           (size_t)t->ncols * sizeof(char *));
    t->nrows++;
}

/* One line: cells padded to WIDTH, two spaces apart, no trailing blanks. */
static void tt_print_row(const text_table *t, const int *width, const char *const *cells)
{
    char *line = xstrdup(" ");
    for (int c = 0; c < t->ncols; c++) {
        int pad = width[c] - text_width(cells[c]);
        char *next = t->right[c] ? str_printf("%s %*s%s ", line, pad, "", cells[c])
                                 : str_printf("%s %s%*s ", line, cells[c], pad, "");
        free(line);
        line = next;
    }
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == ' ')
        line[--n] = '\0';
    printf("%s\n", line);
    free(line);
}

/* Print the table and free its cells. */
static void tt_print_free(text_table *t)
{
    int width[TT_MAXCOLS] = {0};
    for (int c = 0; c < t->ncols; c++)
        width[c] = text_width(t->head[c]);
    for (int r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols; c++) {
            int w = text_width(t->cells[r * t->ncols + c]);
            if (w > width[c])
                width[c] = w;
        }
    tt_print_row(t, width, t->head);
    for (int r = 0; r < t->nrows; r++)
        tt_print_row(t, width, (const char *const *)t->cells + r * t->ncols);
    for (int i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = 0;
}

/* --- text output ----------------------------------------------------------- */

/* Number of elements of ARRAY whose KEY equals VALUE (all when KEY is NULL). */
static size_t count_where(const json_t *array, const char *key, const char *value)
{
    size_t n = 0, i;
    json_t *el;
    json_array_foreach(array, i, el)
    {
        if (!key || strcmp(jstr(el, key, ""), value) == 0)
            n++;
    }
    return n;
}

static size_t count_true(const json_t *array, const char *key)
{
    size_t n = 0, i;
    json_t *el;
    json_array_foreach(array, i, el)
    {
        if (jbool(el, key))
            n++;
    }
    return n;
}

static void print_count(const char *label, size_t n, const char *detail)
{
    printf("  %-20s %6zu%s%s\n", label, n, detail && *detail ? "  " : "", detail ? detail : "");
}

/* Append NOTE to the comma-separated list *LIST (malloc'd, may be NULL). */
static void append_note(char **list, const char *note)
{
    char *next = *list ? str_printf("%s, %s", *list, note) : xstrdup(note);
    free(*list);
    *list = next;
}

/* Append "N WHAT" to *LIST when N > 0. */
static void append_count(char **list, size_t n, const char *what)
{
    if (n == 0)
        return;
    char *note = str_printf("%zu %s", n, what);
    append_note(list, note);
    free(note);
}

/* "(1 partitioned, 2 partitions, 1 unlogged)", or "" when all are plain
 * logged tables; malloc'd. */
static char *table_kinds(const json_t *tables)
{
    char *list = NULL;
    append_count(&list, count_where(tables, "kind", "partitioned"), "partitioned");
    append_count(&list, count_where(tables, "kind", "partition"), "partitions");
    append_count(&list, count_true(tables, "unlogged"), "unlogged");
    append_count(&list, count_where(tables, "kind", "foreign"), "foreign");
    char *out = list ? str_printf("(%s)", list) : xstrdup("");
    free(list);
    return out;
}

static void print_summary(const json_t *inv)
{
    const json_t *tables = json_object_get(inv, "tables");
    const json_t *funcs = json_object_get(inv, "functions");
    const json_t *views = json_object_get(inv, "views");
    printf("Database:  %s\n", jstr(inv, "database", "?"));
    printf("Server:    PostgreSQL %s\n", jstr(inv, "server_version", "?"));
    printf("Encoding:  %s\n\n", jstr(inv, "encoding", "?"));

    char *detail = table_kinds(tables);
    size_t ncols = 0, i;
    json_t *t;
    json_array_foreach(tables, i, t)
    {
        ncols += json_array_size(json_object_get(t, "columns"));
    }
    printf("Objects\n");
    print_count("schemas", json_array_size(json_object_get(inv, "schemas")), NULL);
    print_count("tables", json_array_size(tables), detail);
    print_count("columns", ncols, NULL);
    print_count("indexes", json_array_size(json_object_get(inv, "indexes")), NULL);
    print_count("constraints", json_array_size(json_object_get(inv, "constraints")), NULL);
    print_count("triggers", json_array_size(json_object_get(inv, "triggers")), NULL);
    print_count("functions", count_where(funcs, "kind", "function"), NULL);
    print_count("procedures", count_where(funcs, "kind", "procedure"), NULL);
    if (count_where(funcs, "kind", "aggregate") > 0)
        print_count("aggregates", count_where(funcs, "kind", "aggregate"), NULL);
    if (count_where(funcs, "kind", "window") > 0)
        print_count("window functions", count_where(funcs, "kind", "window"), NULL);
    print_count("sequences", json_array_size(json_object_get(inv, "sequences")), NULL);
    print_count("views", count_where(views, "kind", "view"), NULL);
    print_count("materialized views", count_where(views, "kind", "materialized view"), NULL);
    print_count("types", json_array_size(json_object_get(inv, "types")), NULL);
    print_count("extensions", json_array_size(json_object_get(inv, "extensions")), NULL);
    print_count("large objects", (size_t)json_integer_value(json_object_get(inv, "large_objects")),
                NULL);
    free(detail);
}

/* Tables whose UPDATE/DELETE logical decoding cannot carry. */
static void print_unreplicable(const json_t *tables)
{
    size_t n = 0, i;
    json_t *t;
    json_array_foreach(tables, i, t)
    {
        if (!jbool(t, "replicable") && strcmp(jstr(t, "kind", ""), "foreign") != 0)
            n++;
    }
    if (n == 0)
        return;
    printf("\n%zu table%s whose UPDATE/DELETE cannot be replicated (no primary key with replica "
           "identity DEFAULT, or replica identity NOTHING):\n",
           n, n == 1 ? "" : "s");
    json_array_foreach(tables, i, t)
    {
        if (jbool(t, "replicable") || strcmp(jstr(t, "kind", ""), "foreign") == 0)
            continue;
        char *name = object_name(t, "name");
        printf("  %s (replica identity %s)\n", name, jstr(t, "replica_identity", "?"));
        free(name);
    }
    printf("  fix: add a primary key, or ALTER TABLE ... REPLICA IDENTITY FULL\n");
}

/* "a, b" from a JSON array of strings, "-" when empty; malloc'd. */
static char *join_strings(const json_t *array)
{
    size_t len = 2, i;
    json_t *el;
    json_array_foreach(array, i, el)
    {
        len += strlen(json_string_value(el) ? json_string_value(el) : "") + 2;
    }
    char *out = xcalloc(1, len);
    json_array_foreach(array, i, el)
    {
        if (i > 0)
            strcat(out, ", ");
        strcat(out, json_string_value(el) ? json_string_value(el) : "");
    }
    if (!*out)
        strcpy(out, "-");
    return out;
}

/* The NOTES cell of a table's line; malloc'd. */
static char *table_notes(const json_t *t)
{
    char *notes = NULL;
    const json_t *parent = json_object_get(t, "parent");
    if (json_is_object(parent)) {
        char *name = object_name(parent, "name");
        char *note = str_printf("partition of %s", name);
        append_note(&notes, note);
        free(note);
        free(name);
    }
    if (jbool(t, "unlogged"))
        append_note(&notes, "unlogged: changes not replicated");
    if (!jbool(t, "replicable") && strcmp(jstr(t, "kind", ""), "foreign") != 0)
        append_note(&notes, "UPDATE/DELETE not replicable");
    return notes ? notes : xstrdup("");
}

static void print_tables(const json_t *tables)
{
    printf("\nTables (%zu; columns: see --json)\n", json_array_size(tables));
    if (json_array_size(tables) == 0) {
        printf("  none\n");
        return;
    }
    text_table tt = {
        .ncols = 8,
        .head = {"TABLE", "KIND", "EST. ROWS", "SIZE", "COLS", "PRIMARY KEY", "IDENTITY", "NOTES"},
        .right = {false, false, true, true, true}};
    size_t i;
    json_t *t;
    json_array_foreach(tables, i, t)
    {
        const json_t *rows = json_object_get(t, "estimated_rows");
        char size[32];
        format_size(json_integer_value(json_object_get(t, "size_bytes")), size, sizeof size);
        char *cells[8] = {
            object_name(t, "name"),
            xstrdup(jstr(t, "kind", "?")),
            json_is_integer(rows) ? str_printf("%lld", (long long)json_integer_value(rows))
                                  : xstrdup("unknown"),
            xstrdup(size),
            str_printf("%zu", json_array_size(json_object_get(t, "columns"))),
            join_strings(json_object_get(t, "primary_key")),
            xstrdup(jstr(t, "replica_identity", "?")),
            table_notes(t),
        };
        tt_add(&tt, cells);
    }
    tt_print_free(&tt);
}

/* A section title, or "none" under it; true when there is something to list. */
static bool section_title(const char *title, const json_t *array)
{
    printf("\n%s (%zu)\n", title, json_array_size(array));
    if (json_array_size(array) == 0) {
        printf("  none\n");
        return false;
    }
    return true;
}

static void print_indexes(const json_t *indexes)
{
    if (!section_title("Indexes", indexes))
        return;
    size_t i;
    json_t *x;
    json_array_foreach(indexes, i, x)
    {
        printf("  %s%s\n", jstr(x, "definition", "?"), jbool(x, "valid") ? "" : "  (INVALID)");
    }
}

static void print_constraints(const json_t *constraints)
{
    if (!section_title("Constraints", constraints))
        return;
    text_table tt = {.ncols = 4, .head = {"TABLE", "NAME", "TYPE", "DEFINITION"}};
    size_t i;
    json_t *c;
    json_array_foreach(constraints, i, c)
    {
        char *cells[4] = {object_name(c, "table"), display_ident(jstr(c, "name", "?")),
                          xstrdup(jstr(c, "type", "?")), xstrdup(jstr(c, "definition", "?"))};
        tt_add(&tt, cells);
    }
    tt_print_free(&tt);
}

static void print_triggers(const json_t *triggers)
{
    if (!section_title("Triggers", triggers))
        return;
    size_t i;
    json_t *t;
    json_array_foreach(triggers, i, t)
    {
        const char *enabled = jstr(t, "enabled", "?");
        printf("  %s", jstr(t, "definition", "?"));
        if (strcmp(enabled, "enabled") != 0)
            printf("  (%s)", enabled);
        printf("\n");
    }
}

static void print_functions(const json_t *functions)
{
    if (!section_title("Functions and procedures", functions))
        return;
    size_t i;
    json_t *f;
    json_array_foreach(functions, i, f)
    {
        char *name = object_name(f, "name");
        const char *result = jstr(f, "result", NULL);
        printf("  %-9s %s(%s)%s%s  [%s%s]\n", jstr(f, "kind", "?"), name, jstr(f, "arguments", ""),
               result ? " returns " : "", result ? result : "", jstr(f, "language", "?"),
               jbool(f, "security_definer") ? ", security definer" : "");
        free(name);
    }
}

static void print_sequences(const json_t *sequences)
{
    if (!section_title("Sequences", sequences))
        return;
    size_t i;
    json_t *s;
    json_array_foreach(sequences, i, s)
    {
        char *name = object_name(s, "name");
        const json_t *owner = json_object_get(s, "owned_by");
        printf("  %s %s", name, jstr(s, "type", "?"));
        if (json_is_object(owner)) {
            char *table = object_name(owner, "table");
            char *col = display_ident(jstr(owner, "column", "?"));
            printf(", %s %s.%s", jbool(s, "identity") ? "identity of" : "owned by", table, col);
            free(table);
            free(col);
        }
        printf("\n");
        free(name);
    }
}

static void print_views(const json_t *views)
{
    if (!section_title("Views", views))
        return;
    size_t i;
    json_t *v;
    json_array_foreach(views, i, v)
    {
        char *name = object_name(v, "name");
        bool matview = strcmp(jstr(v, "kind", ""), "materialized view") == 0;
        printf("  %-17s %s%s\n", jstr(v, "kind", "?"), name,
               matview && !jbool(v, "populated") ? "  (not populated)" : "");
        free(name);
    }
}

/* The kind-specific part of a type's line; malloc'd. */
static char *type_detail(const json_t *t)
{
    const char *kind = jstr(t, "kind", "");
    if (strcmp(kind, "enum") == 0) {
        char *labels = join_strings(json_object_get(t, "labels"));
        char *s = str_printf("(%s)", labels);
        free(labels);
        return s;
    }
    if (strcmp(kind, "domain") == 0)
        return str_printf("over %s%s", jstr(t, "base_type", "?"),
                          jbool(t, "not_null") ? " NOT NULL" : "");
    if (strcmp(kind, "range") == 0)
        return str_printf("of %s", jstr(t, "subtype", "?"));
    if (strcmp(kind, "composite") == 0) {
        size_t i;
        json_t *a;
        char *s = xstrdup("(");
        json_array_foreach(json_object_get(t, "attributes"), i, a)
        {
            char *next = str_printf("%s%s%s %s", s, i ? ", " : "", jstr(a, "name", "?"),
                                    jstr(a, "type", "?"));
            free(s);
            s = next;
        }
        char *out = str_printf("%s)", s);
        free(s);
        return out;
    }
    return xstrdup("");
}

static void print_types(const json_t *types)
{
    if (!section_title("Types", types))
        return;
    size_t i;
    json_t *t;
    json_array_foreach(types, i, t)
    {
        char *name = object_name(t, "name");
        char *detail = type_detail(t);
        printf("  %-9s %s %s\n", jstr(t, "kind", "?"), name, detail);
        free(detail);
        free(name);
    }
}

static void print_extensions(const json_t *extensions)
{
    if (!section_title("Extensions", extensions))
        return;
    size_t i;
    json_t *e;
    json_array_foreach(extensions, i, e)
    {
        printf("  %s %s (schema %s)\n", jstr(e, "name", "?"), jstr(e, "version", "?"),
               jstr(e, "schema", "?"));
    }
}

static void print_schemas(const json_t *schemas)
{
    if (!section_title("Schemas", schemas))
        return;
    size_t i;
    json_t *s;
    json_array_foreach(schemas, i, s)
    {
        char *name = display_ident(jstr(s, "name", "?"));
        printf("  %s (owner %s)\n", name, jstr(s, "owner", "?"));
        free(name);
    }
}

/* True when everything reached stdout. */
static bool print_text(const json_t *inv)
{
    print_summary(inv);
    print_unreplicable(json_object_get(inv, "tables"));
    print_schemas(json_object_get(inv, "schemas"));
    print_tables(json_object_get(inv, "tables"));
    print_indexes(json_object_get(inv, "indexes"));
    print_constraints(json_object_get(inv, "constraints"));
    print_triggers(json_object_get(inv, "triggers"));
    print_functions(json_object_get(inv, "functions"));
    print_sequences(json_object_get(inv, "sequences"));
    print_views(json_object_get(inv, "views"));
    print_types(json_object_get(inv, "types"));
    print_extensions(json_object_get(inv, "extensions"));
    if (fflush(stdout) != 0 || ferror(stdout)) {
        log_error("cannot write the inventory to standard output: %s", strerror(errno));
        return false;
    }
    return true;
}

static bool print_json(const json_t *inv)
{
    if (json_dumpf(inv, stdout, JSON_INDENT(2)) != 0 || printf("\n") < 0 || fflush(stdout) != 0) {
        log_error("cannot write the inventory to standard output: %s", strerror(errno));
        return false;
    }
    return true;
}

/* --- --ddl FILE ------------------------------------------------------------ */

typedef struct ddl_file {
    const char *path; /* the FILE given, borrowed */
    char *tmp_path;   /* temporary file beside it, owned; NULL when none */
} ddl_file;

/* Check that PATH can be written by creating the temporary file beside it.
 * False (logged) otherwise. */
static bool ddl_prepare(ddl_file *d, const char *path)
{
    d->path = path;
    d->tmp_path = NULL;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        log_error("cannot write the DDL script to \"%s\": it is a directory; give a file name "
                  "with --ddl",
                  path);
        return false;
    }
    char *tmp = str_printf("%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        log_error("cannot write the DDL script to \"%s\": %s; give a path in a writable "
                  "directory with --ddl",
                  path, strerror(errno));
        free(tmp);
        return false;
    }
    /* mkstemp makes it 0600: give the script the usual permissions */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0)
        log_debug("cannot change the mode of %s: %m", tmp);
    close(fd);
    d->tmp_path = tmp;
    return true;
}

/* Remove the temporary file, if any. */
static void ddl_discard(ddl_file *d)
{
    if (d->tmp_path) {
        unlink(d->tmp_path);
        free(d->tmp_path);
        d->tmp_path = NULL;
    }
}

/* Find a pg_dump able to dump a server of major SERVER_MAJOR, or log which
 * package to install. */
static bool find_pg_dump(int server_major, pgtool *tool)
{
    if (pgtool_find("pg_dump", server_major, tool))
        return true;
    if (tool->path)
        log_error("pg_dump %d (%s) is older than the source server (PostgreSQL %d) and cannot "
                  "dump it: install postgresql-client-%d",
                  tool->major, tool->path, server_major, server_major);
    else
        log_error("pg_dump is not installed: install postgresql-client-%d to write the DDL script",
                  server_major);
    pgtool_free(tool);
    return false;
}

/* Run pg_dump into the temporary file, then rename it to the final path.
 * Returns an exit code. */
static int ddl_write(ddl_file *d, const conninfo *ci, int server_version)
{
    pgtool tool;
    if (!find_pg_dump(server_version / 10000, &tool))
        return EXIT_FAILURE_RUNTIME;

    char *connstr = pgtool_connstr(ci);
    char *file_arg = str_printf("--file=%s", d->tmp_path);
    char *db_arg = str_printf("--dbname=%s", connstr);
    const char *argv[] = {tool.path,   "--schema-only", "--no-owner", "--exclude-schema=pgbaton",
                          "--no-sync", file_arg,        db_arg,       NULL};
    log_info("writing the schema script with %s (PostgreSQL %d)", tool.path, tool.major);
    bool ok = pgtool_run(argv, ci, -1, -1, "pg_dump (source)");
    free(file_arg);
    free(db_arg);
    free(connstr);
    pgtool_free(&tool);
    if (!ok) {
        log_error("the DDL script was not written: pg_dump failed (see its messages above)");
        return EXIT_FAILURE_RUNTIME;
    }
    if (rename(d->tmp_path, d->path) != 0) {
        log_error("cannot write the DDL script to \"%s\": %s; give a writable path with --ddl",
                  d->path, strerror(errno));
        return EXIT_USAGE;
    }
    free(d->tmp_path);
    d->tmp_path = NULL;
    log_info("schema script written to %s", d->path);
    return EXIT_OK;
}

/* --- the command ----------------------------------------------------------- */

int cmd_inventory(const pgb_options *o)
{
    int rc = EXIT_FAILURE_RUNTIME;
    db_conn *db = NULL;
    json_t *inv = NULL;
    ddl_file ddl = {0};

    conninfo *ci = cli_conninfo(o, DB_SOURCE);
    if (!ci)
        return EXIT_USAGE;
    /* an unwritable --ddl path is bad input: refuse before connecting */
    if (o->ddl_file && !ddl_prepare(&ddl, o->ddl_file)) {
        rc = EXIT_USAGE;
        goto done;
    }
    db = db_connect(ci, DB_SOURCE, NULL, NULL, NULL);
    if (!db)
        goto done; /* logged, with the fix */
    inv = catalog_inventory(db);
    if (!inv)
        goto done;
    if (!(o->json ? print_json(inv) : print_text(inv)))
        goto done;
    rc = EXIT_OK;
    if (o->ddl_file)
        rc = ddl_write(&ddl, ci, db_server_version(db));

done:
    ddl_discard(&ddl);
    json_decref(inv);
    db_close(db);
    conninfo_free(ci);
    return rc;
}
