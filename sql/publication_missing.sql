-- The permanent ordinary tables among the given ones ($2 schemas, $3 names,
-- in step) that publication $1 does not publish: their changes would not
-- reach pgoutput's stream. Run at the copy's snapshot (start) and under the
-- freeze (cutover).
SELECT format('%I.%I', u.s, u.t)
  FROM unnest($2::text[], $3::text[]) AS u (s, t)
  JOIN pg_namespace n ON n.nspname = u.s
  JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = u.t
 WHERE c.relkind = 'r'
   AND c.relpersistence = 'p'
   AND NOT EXISTS (SELECT 1 FROM pg_publication_tables p
                    WHERE p.pubname = $1 AND p.schemaname = u.s AND p.tablename = u.t)
 ORDER BY 1
