-- start (pgoutput, FOR TABLE): the tables a publication for the migration
-- names: permanent tables and partition trees by their root (a partitioned
-- root brings its partitions, present and future), except pgbaton's, the
-- system's and extension members. The caller applies the table filters.
-- Unlogged tables are not decoded and cannot be published.
SELECT n.nspname, c.relname
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND c.relpersistence = 'p'
   AND NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgbaton')
   AND n.nspname NOT LIKE 'pg\_toast%'
   AND n.nspname NOT LIKE 'pg\_temp%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
 ORDER BY 1, 2
