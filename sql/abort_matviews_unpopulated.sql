-- abort, on the target: of the materialized views the source has populated
-- ($1 schemas, $2 names, in the source's creation order: cutover_matviews.sql),
-- those the target has and has not populated (the schema copy creates them
-- empty; the cutover's step 5 refreshes them), in that order.
SELECT u.s, u.n
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u (s, n, i)
  JOIN pg_catalog.pg_namespace ns ON ns.nspname = u.s
  JOIN pg_catalog.pg_class c ON c.relnamespace = ns.oid AND c.relname = u.n AND c.relkind = 'm'
 WHERE NOT c.relispopulated
 ORDER BY u.i
