-- cutover: the materialized views the frozen source has populated, in
-- creation order (a view built on another comes after it). They are not
-- replicated: the schema copy creates them empty, the cutover refreshes them
-- on the target.
SELECT n.nspname, c.relname
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'm' AND c.relispopulated AND n.nspname <> 'pgbaton'
 ORDER BY c.oid
