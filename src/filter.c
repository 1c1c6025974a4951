/*
 * src/filter.c — table selection by schema and table patterns.
 */
#include "filter.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <jansson.h>
#include <string.h>

bool filter_match(const char *pattern, const char *text)
{
    /* iterative glob with single backtrack point for the last '*' */
    const char *star = NULL, *resume = NULL;
    while (*text) {
        if (*pattern == '*') {
            star = pattern++;
            resume = text;
        } else if (*pattern == '?' || *pattern == *text) {
            pattern++;
            text++;
        } else if (star) {
            pattern = star + 1;
            text = ++resume;
        } else {
            return false;
        }
    }
    while (*pattern == '*')
        pattern++;
    return *pattern == '\0';
}

static bool any_match(const strlist *l, const char *text)
{
    for (int i = 0; i < l->n; i++)
        if (filter_match(l->items[i], text))
            return true;
    return false;
}

static bool is_system_schema(const char *schema)
{
    return strcmp(schema, "pgbaton") == 0 || strcmp(schema, "pg_catalog") == 0 ||
           strcmp(schema, "information_schema") == 0 || strncmp(schema, "pg_toast", 8) == 0 ||
           strncmp(schema, "pg_temp", 7) == 0;
}

bool filter_schema_selected(const filter_set *f, const char *schema)
{
    if (is_system_schema(schema))
        return false;
    if (f->include_schema.n > 0 && !any_match(&f->include_schema, schema))
        return false;
    return !any_match(&f->exclude_schema, schema);
}

/* Does table pattern list L match this table? */
static bool table_matches(const strlist *l, const char *qualified, const char *table)
{
    for (int i = 0; i < l->n; i++) {
        const char *p = l->items[i];
        if (filter_match(p, strchr(p, '.') ? qualified : table))
            return true;
    }
    return false;
}

bool filter_table_selected(const filter_set *f, const char *schema, const char *table)
{
    if (!filter_schema_selected(f, schema))
        return false;
    size_t n = strlen(schema) + strlen(table) + 2;
    char *qualified = xmalloc(n);
    snprintf(qualified, n, "%s.%s", schema, table);
    bool ok = (f->include_table.n == 0 || table_matches(&f->include_table, qualified, table)) &&
              !table_matches(&f->exclude_table, qualified, table);
    free(qualified);
    return ok;
}

bool filter_is_empty(const filter_set *f)
{
    return f->include_schema.n == 0 && f->exclude_schema.n == 0 && f->include_table.n == 0 &&
           f->exclude_table.n == 0;
}

void filter_set_free(filter_set *f)
{
    strlist *lists[] = {&f->include_schema, &f->exclude_schema, &f->include_table,
                        &f->exclude_table};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        for (int j = 0; j < lists[i]->n; j++)
            free(lists[i]->items[j]);
        free(lists[i]->items);
        *lists[i] = (strlist){0};
    }
}

/* Fill list L from the JSON array A (borrowed). */
static void strlist_from_json(strlist *l, json_t *a)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v))
            continue;
        strlist_add(l, json_string_value(v));
    }
}

void filter_adopt_stored(filter_set *f, const char *stored)
{
    json_t *root = stored ? json_loads(stored, 0, NULL) : NULL; /* new reference */
    json_t *j = root ? json_object_get(root, "filters") : NULL; /* borrowed */
    if (j) {
        strlist_from_json(&f->include_schema, json_object_get(j, "include_schema"));
        strlist_from_json(&f->exclude_schema, json_object_get(j, "exclude_schema"));
        strlist_from_json(&f->include_table, json_object_get(j, "include_table"));
        strlist_from_json(&f->exclude_table, json_object_get(j, "exclude_table"));
    }
    json_decref(root);
}

bool filter_selected_cb(const void *arg, const char *schema, const char *table)
{
    return filter_table_selected(arg, schema, table);
}
