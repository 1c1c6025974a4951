/*
 * include/catalog.h — catalog queries: the structure of a database as JSON.
 *
 * Each section of the inventory (tables, indexes, ...) is one query in
 * sql/inventory_*.sql that returns one JSON object per row; this module runs
 * them, checks the results and assembles jansson values. The shape of every
 * section is documented in src/inventory.c and docs/inventory.md.
 *
 * What is described: user schemas only — not pg_catalog, information_schema,
 * pg_toast/pg_temp schemas, nor pgbaton's own schema "pgbaton" — and no
 * object that belongs to an extension (pg_depend deptype 'e'); extensions
 * themselves are listed under "extensions".
 *
 * Used by `pgbaton inventory`, and by report and verify (schema diff).
 */
#ifndef PGBATON_CATALOG_H
#define PGBATON_CATALOG_H

#include "db.h"

#include <jansson.h>

/* The list sections of an inventory, in output order. */
typedef enum catalog_section {
    CATALOG_SCHEMAS,
    CATALOG_TABLES,
    CATALOG_INDEXES,
    CATALOG_CONSTRAINTS,
    CATALOG_TRIGGERS,
    CATALOG_FUNCTIONS,
    CATALOG_SEQUENCES,
    CATALOG_VIEWS,
    CATALOG_TYPES,
    CATALOG_EXTENSIONS,
    CATALOG_NSECTIONS
} catalog_section;

/* One section as a JSON array of objects, ordered by schema and name.
 * Returns a NEW reference (caller json_decref()s), or NULL on error (logged,
 * naming the server). Runs in whatever transaction DB is in. The session's
 * client_encoding must be UTF8, and names in definitions are qualified as
 * the session's search_path requires (catalog_inventory sets both). */
json_t *catalog_section_list(db_conn *db, catalog_section section)
    __attribute__((warn_unused_result));

/* The whole inventory of DB's database: one object with "database",
 * "server_version", "server_version_num", "encoding", "large_objects" and one
 * array per section (keyed "tables", "indexes", ...). Sets, for the session,
 * client_encoding to UTF8 and search_path to pg_catalog (so every user
 * object in a definition or a type name is schema-qualified). When DB is not inside a transaction,
 * all queries run in one REPEATABLE READ READ ONLY transaction (one consistent view), which is
 * ended before returning; otherwise they run in the caller's transaction. Returns a NEW reference
 * (caller json_decref()s), or NULL on error (logged). */
json_t *catalog_inventory(db_conn *db) __attribute__((warn_unused_result));

#endif
