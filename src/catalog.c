/*
 * src/catalog.c — catalog queries: the structure of a database as JSON.
 *
 * Every query returns one column of type json, one row per object, built by
 * json_build_object in SQL: the server does the type formatting
 * (format_type, pg_get_indexdef, ...) and the C side only checks the shape,
 * parses each row and collects the rows into an array. The scope (which
 * schemas and relations are described) is written once, in
 * sql/inventory_scope.sql, and prefixed to every query as a WITH clause.
 */
#include "catalog.h"

#include "log.h"
#include "sql_embed.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct section_def {
    const char *key; /* key in the inventory object */
    const char *sql; /* the query, without the scope prefix */
} section_def;

static const section_def sections[CATALOG_NSECTIONS] = {
    [CATALOG_SCHEMAS] = {"schemas", sql_inventory_schemas},
    [CATALOG_TABLES] = {"tables", sql_inventory_tables},
    [CATALOG_INDEXES] = {"indexes", sql_inventory_indexes},
    [CATALOG_CONSTRAINTS] = {"constraints", sql_inventory_constraints},
    [CATALOG_TRIGGERS] = {"triggers", sql_inventory_triggers},
    [CATALOG_FUNCTIONS] = {"functions", sql_inventory_functions},
    [CATALOG_SEQUENCES] = {"sequences", sql_inventory_sequences},
    [CATALOG_VIEWS] = {"views", sql_inventory_views},
    [CATALOG_TYPES] = {"types", sql_inventory_types},
    [CATALOG_EXTENSIONS] = {"extensions", sql_inventory_extensions},
};

/* "WITH <scope> <query>"; malloc'd. */
static char *scoped_query(const char *query)
{
    size_t len = strlen(sql_inventory_scope) + strlen(query) + 16;
    char *sql = xmalloc(len);
    snprintf(sql, len, "WITH\n%s\n%s", sql_inventory_scope, query);
    return sql;
}

/* Parse row ROW of RES (one json column) into a new object reference, or
 * NULL (logged) when it is not a JSON object. */
static json_t *parse_row(db_conn *db, const db_res *res, int row, const char *what)
{
    if (db_isnull(res, row, 0)) {
        log_error("%s: catalog query for %s returned a null row", db_side_name(db->side), what);
        return NULL;
    }
    json_error_t err;
    json_t *obj = json_loads(db_val(res, row, 0), 0, &err);
    if (!obj || !json_is_object(obj)) {
        log_error("%s: catalog query for %s returned a row that is not a JSON object: %s",
                  db_side_name(db->side), what, obj ? "another JSON value" : err.text);
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* Run SQL (complete) and collect its rows into a new array reference, or
 * NULL (logged). MINROWS: rows the query must return. */
static json_t *rows_as_array(db_conn *db, const char *sql, int minrows, const char *what)
{
    db_res *res = db_exec(db, DB_LOG, sql, 0, NULL);
    if (!res)
        return NULL;
    json_t *arr = NULL;
    if (db_check_shape(db, res, 1, minrows, what)) {
        arr = json_array();
        for (int i = 0; i < db_nrows(res); i++) {
            json_t *obj = parse_row(db, res, i, what);
            if (!obj) {
                json_decref(arr);
                arr = NULL;
                break;
            }
            json_array_append_new(arr, obj);
        }
    }
    db_res_free(res);
    return arr;
}

json_t *catalog_section_list(db_conn *db, catalog_section section)
{
    if (section < 0 || section >= CATALOG_NSECTIONS) {
        log_error("internal error: unknown catalog section %d", (int)section);
        return NULL;
    }
    char *sql = scoped_query(sections[section].sql);
    json_t *arr = rows_as_array(db, sql, 0, sections[section].key);
    free(sql);
    return arr;
}

/* The database-level object (one row); new reference or NULL. */
static json_t *database_object(db_conn *db)
{
    json_t *rows = rows_as_array(db, sql_inventory_database, 1, "database");
    if (!rows)
        return NULL;
    json_t *obj = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return obj;
}

/* Fill INV with the database object's keys and every section. */
static bool collect(db_conn *db, json_t *inv)
{
    json_t *dbobj = database_object(db);
    if (!dbobj)
        return false;
    json_object_update(inv, dbobj);
    json_decref(dbobj);
    for (int s = 0; s < CATALOG_NSECTIONS; s++) {
        json_t *arr = catalog_section_list(db, (catalog_section)s);
        if (!arr)
            return false;
        json_object_set_new(inv, sections[s].key, arr);
    }
    return true;
}

json_t *catalog_inventory(db_conn *db)
{
    /* json_loads needs UTF-8, whatever the database encoding; with only
     * pg_catalog on the search_path, every user object in a definition or a
     * type name comes schema-qualified */
    if (!db_command(db, "SET client_encoding TO 'UTF8'") ||
        !db_command(db, "SET search_path TO pg_catalog"))
        return NULL;
    bool own_txn = db_txn(db) == DB_TXN_IDLE;
    if (own_txn && !db_command(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        return NULL;

    json_t *inv = json_object();
    bool ok = collect(db, inv);
    if (own_txn && !db_command(db, ok ? "COMMIT" : "ROLLBACK"))
        ok = false;
    if (!ok) {
        json_decref(inv);
        return NULL;
    }
    return inv;
}
