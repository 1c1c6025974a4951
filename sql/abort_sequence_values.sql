-- abort, on either side: the value of each named sequence ($1 schemas, $2
-- names: the source's, as cutover_sequences.sql lists them) that this side
-- has, in that order: last_value as text, '' when it was never called (or
-- this role may not read it).
SELECT u.s, u.n,
       coalesce(CASE WHEN pg_catalog.has_sequence_privilege(c.oid, 'SELECT,USAGE')
                     THEN pg_catalog.pg_sequence_last_value(c.oid)::text END, '')
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u (s, n, i)
  JOIN pg_catalog.pg_namespace ns ON ns.nspname = u.s
  JOIN pg_catalog.pg_class c ON c.relnamespace = ns.oid AND c.relname = u.n AND c.relkind = 'S'
 ORDER BY u.i
