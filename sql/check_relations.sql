-- Preflight (check.c): the source relations that get a FAIL or a WARN.
-- One row per (kind, relation); the caller applies the table filters (to the
-- relation or to the root of its partition tree).
--   identity  a logged leaf table whose UPDATE/DELETE wal2json cannot
--             describe: no primary key with REPLICA IDENTITY DEFAULT,
--             NOTHING, or USING INDEX on an index that is gone
--   unlogged  unlogged table: not decoded
--   matview   materialized view: refreshed at cutover
--   numeric   logged leaf table with a numeric/float4/float8 column, also
--             inside a domain, an array or a composite type: NaN and
--             infinities need wal2json >= 2.6 (or pgoutput)
--   notowned  logged table (a partition tree's root) the role does not own:
--             pgoutput's publication FOR TABLE needs ownership
-- Partitioned parents are not listed: wal2json names the leaf partitions.
-- Tables that belong to an extension are left out (CREATE EXTENSION makes
-- them).
WITH RECURSIVE lossy(oid) AS (
    SELECT t.oid FROM pg_type t
    WHERE t.oid IN ('numeric'::regtype, 'float4'::regtype, 'float8'::regtype)
    UNION
    SELECT t.oid
    FROM pg_type t
    JOIN lossy l ON (t.typtype = 'd' AND t.typbasetype = l.oid)
                 OR (t.typcategory = 'A' AND t.typelem = l.oid)
                 OR (t.typtype = 'c' AND EXISTS (
                        SELECT 1 FROM pg_attribute a
                        WHERE a.attrelid = t.typrelid AND a.attnum > 0
                          AND NOT a.attisdropped AND a.atttypid = l.oid))
),
rels AS (
    SELECT c.oid, c.relkind, c.relpersistence, c.relreplident, c.relispartition,
           pg_has_role(c.relowner, 'USAGE') AS owned,
           n.nspname, c.relname,
           coalesce(rn.nspname, n.nspname) AS root_schema,
           coalesce(rc.relname, c.relname) AS root_table
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_class rc ON c.relispartition AND rc.oid = pg_partition_root(c.oid)
    LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
    WHERE c.relkind IN ('r', 'p', 'm')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgbaton')
      AND n.nspname NOT LIKE 'pg\_toast%'
      AND n.nspname NOT LIKE 'pg\_temp%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                        AND d.deptype = 'e')
)
SELECT 'identity' AS kind, nspname, relname, root_schema, root_table,
       format('%I.%I', nspname, relname) AS display,
       CASE relreplident
           WHEN 'n' THEN 'replica identity NOTHING'
           WHEN 'd' THEN 'no primary key'
           ELSE 'replica identity index dropped'
       END AS detail
FROM rels
WHERE relkind = 'r' AND relpersistence = 'p'
  AND (relreplident = 'n'
       OR (relreplident = 'd'
           AND NOT EXISTS (SELECT 1 FROM pg_index i
                           WHERE i.indrelid = rels.oid AND i.indisprimary))
       OR (relreplident = 'i'
           AND NOT EXISTS (SELECT 1 FROM pg_index i
                           WHERE i.indrelid = rels.oid AND i.indisreplident)))
UNION ALL
SELECT 'unlogged', nspname, relname, root_schema, root_table,
       format('%I.%I', nspname, relname), ''
FROM rels
WHERE relkind IN ('r', 'p') AND relpersistence = 'u'
UNION ALL
SELECT 'matview', nspname, relname, root_schema, root_table,
       format('%I.%I', nspname, relname), ''
FROM rels
WHERE relkind = 'm'
UNION ALL
SELECT 'numeric', nspname, relname, root_schema, root_table,
       format('%I.%I', nspname, relname), ''
FROM rels
WHERE relkind = 'r' AND relpersistence = 'p'
  AND EXISTS (SELECT 1
              FROM pg_attribute a
              WHERE a.attrelid = rels.oid AND a.attnum > 0 AND NOT a.attisdropped
                AND a.atttypid IN (SELECT oid FROM lossy))
UNION ALL
SELECT 'notowned', nspname, relname, root_schema, root_table,
       format('%I.%I', nspname, relname), ''
FROM rels
WHERE relkind IN ('r', 'p') AND relpersistence = 'p' AND NOT relispartition AND NOT owned
ORDER BY 1, 6;
