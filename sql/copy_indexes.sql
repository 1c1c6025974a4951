-- Indexes and index-backed constraints (primary key, unique, exclusion) of
-- plain, non-partition tables, read at the snapshot, built on the target as
-- soon as their table's data is in. Everything else of post-data (foreign
-- keys, triggers, rules, partitioned indexes, ...) comes from pg_restore.
-- Columns: table oid, catalog oid and object oid (as pg_dump's TOC names the
-- entry: 1259 = pg_class for an INDEX, 2606 = pg_constraint for a
-- CONSTRAINT), name, SQL to run on the target.
SELECT i.indrelid,
       'pg_class'::regclass::oid,
       i.indexrelid,
       ci.relname,
       pg_get_indexdef(i.indexrelid)
       || CASE WHEN i.indisclustered
               THEN format('; ALTER TABLE ONLY %s CLUSTER ON %I', i.indrelid::regclass, ci.relname)
               ELSE '' END
       || CASE WHEN i.indisreplident
               THEN format('; ALTER TABLE ONLY %s REPLICA IDENTITY USING INDEX %I',
                           i.indrelid::regclass, ci.relname)
               ELSE '' END
FROM pg_index i
JOIN pg_class ci ON ci.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relkind = 'r' AND NOT c.relispartition AND i.indisvalid
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                  WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                    AND k.contype IN ('p', 'u', 'x'))
  AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid
                    AND d.deptype = 'e')
UNION ALL
SELECT k.conrelid,
       'pg_constraint'::regclass::oid,
       k.oid,
       k.conname,
       format('ALTER TABLE ONLY %s ADD CONSTRAINT %I %s', k.conrelid::regclass, k.conname,
              pg_get_constraintdef(k.oid))
       || CASE WHEN ix.indisclustered
               THEN format('; ALTER TABLE ONLY %s CLUSTER ON %I', k.conrelid::regclass, k.conname)
               ELSE '' END
       || CASE WHEN ix.indisreplident
               THEN format('; ALTER TABLE ONLY %s REPLICA IDENTITY USING INDEX %I',
                           k.conrelid::regclass, k.conname)
               ELSE '' END
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_index ix ON ix.indexrelid = k.conindid
WHERE k.contype IN ('p', 'u', 'x') AND c.relkind = 'r' AND NOT c.relispartition
  AND k.conparentid = 0
ORDER BY 1, 2 DESC, 3
