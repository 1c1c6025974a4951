/*
 * include/filter.h — which tables a migration covers.
 *
 * --include-schema / --exclude-schema / --include-table / --exclude-table
 * take patterns with * (any run of characters) and ? (one character).
 * A table pattern containing a dot is matched against "schema.table",
 * otherwise against the table name alone. A table is selected when its
 * schema is selected (no --include-schema, or one matches; and no
 * --exclude-schema matches) and the table is (no --include-table, or one
 * matches; and no --exclude-table matches). pgbaton's own schema "pgbaton"
 * and PostgreSQL's system schemas are never selected. The same rule serves
 * preflight, schema copy, data copy and streaming.
 */
#ifndef PGBATON_FILTER_H
#define PGBATON_FILTER_H

#include "strlist.h"

#include <stdbool.h>

/* The four table filter options. A zeroed set selects every user table. */
typedef struct filter_set {
    strlist include_schema, exclude_schema, include_table, exclude_table;
} filter_set;

/* Glob match with * and ?; case-sensitive (PostgreSQL names are). */
bool filter_match(const char *pattern, const char *text);

/* Is the schema selected (tables aside)? */
bool filter_schema_selected(const filter_set *f, const char *schema);

/* Is the table selected? */
bool filter_table_selected(const filter_set *f, const char *schema, const char *table);

/* The same as a selection callback for modules that do not know the
 * filters (copy_plan_load, apply_opts.selected): ARG is a filter_set. */
bool filter_selected_cb(const void *arg, const char *schema, const char *table);

/* True when no filter option was given. */
bool filter_is_empty(const filter_set *f);

/* Free F's four lists (their strings and arrays) and empty them. */
void filter_set_free(filter_set *f);

/* Add the filters of the first start (STORED: pgbaton.migration.options,
 * {"filters": {"include_schema": [...], ...}}; NULL: none) to F's lists. */
void filter_adopt_stored(filter_set *f, const char *stored);

#endif
