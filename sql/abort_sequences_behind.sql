-- abort, on the target: of the source's sequences ($1 schemas, $2 names,
-- $3 their values as abort_sequences.sql gives them), those the target has
-- at another value: the cutover's step 5 did not copy them (it did not get
-- that far, or never ran). Sequences the target does not have are left out.
SELECT u.s, u.n, u.v
  FROM unnest($1::text[], $2::text[], $3::text[]) AS u (s, n, v)
  JOIN pg_catalog.pg_namespace ns ON ns.nspname = u.s
  JOIN pg_catalog.pg_class c ON c.relnamespace = ns.oid AND c.relname = u.n AND c.relkind = 'S'
 WHERE coalesce(CASE WHEN pg_catalog.has_sequence_privilege(c.oid, 'SELECT,USAGE')
                     THEN pg_catalog.pg_sequence_last_value(c.oid)::text END, '') <> u.v
 ORDER BY 1, 2
