-- Relations whose data the copy moves, read at the snapshot (search_path is
-- pg_catalog, so names come back schema-qualified where needed).
-- Columns: oid, schema, table, relkind, size_bytes (heap + toast), pages
-- (main fork), est_rows, copy column list (generated columns left out),
-- binary_ok (binary COPY is exact across servers of one major version: no
-- type whose binary form carries a type OID that differs between servers,
-- such as arrays or composites of user types, nor types without send/recv).
WITH RECURSIVE coltype (attrelid, typid) AS (
    SELECT a.attrelid, a.atttypid
    FROM pg_attribute a
    WHERE a.attnum > 0 AND NOT a.attisdropped
  UNION
    SELECT c.attrelid, t.typbasetype
    FROM coltype c JOIN pg_type t ON t.oid = c.typid
    WHERE t.typtype = 'd'
), text_only AS (
    SELECT DISTINCT c.attrelid
    FROM coltype c
    JOIN pg_type t ON t.oid = c.typid
    LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typlen = -1 AND t.typcategory = 'A'
    WHERE t.typtype <> 'd'
      AND (t.typsend = 0 OR t.typreceive = 0
           OR t.typtype = 'c'
           OR (e.oid IS NOT NULL AND e.oid >= 16384)
           OR (t.oid >= 16384 AND t.typtype <> 'e' AND e.oid IS NULL))
)
SELECT c.oid,
       n.nspname,
       c.relname,
       c.relkind,
       CASE WHEN c.relkind = 'r' THEN pg_table_size(c.oid) ELSE 0 END,
       CASE WHEN c.relkind = 'r'
            THEN pg_relation_size(c.oid) / current_setting('block_size')::bigint ELSE 0 END,
       greatest(c.reltuples, 0)::bigint,
       coalesce((SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                 FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                   AND a.attgenerated = ''), ''),
       NOT EXISTS (SELECT 1 FROM text_only x WHERE x.attrelid = c.oid)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND c.relpersistence IN ('p', 'u')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgbaton')
  AND n.nspname NOT LIKE 'pg\_toast%'
  AND n.nspname NOT LIKE 'pg\_temp%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 5 DESC, 2, 3
