-- verify: every user sequence: schema, name (its identity: never a joined
-- string), display name (each part quoted as quote_ident() does), quoted
-- name for SQL, increment.
-- The caller then reads each one's last_value / is_called (sequence values
-- are not transactional: that is their current state). Extension-owned
-- sequences and pgbaton's own are left out.
SELECT n.nspname, c.relname,
       quote_ident(n.nspname) || '.' || quote_ident(c.relname),
       quote_ident(n.nspname) || '.' || quote_ident(c.relname),
       s.seqincrement
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_sequence s ON s.seqrelid = c.oid
WHERE c.relkind = 'S'
  AND n.nspname NOT IN ('pgbaton', 'pg_catalog', 'information_schema')
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.deptype = 'e' AND e.classid = 'pg_class'::regclass AND e.objid = c.oid)
ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C";
