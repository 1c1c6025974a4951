-- abort: the source's sequences, as the cutover copies them
-- (cutover_sequences.sql), with their values: last_value as text, '' when
-- the sequence was never called (or this role may not read it).
SELECT n.nspname, c.relname,
       coalesce(CASE WHEN pg_catalog.has_sequence_privilege(c.oid, 'SELECT,USAGE')
                     THEN pg_catalog.pg_sequence_last_value(c.oid)::text END, '')
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'S'
   AND c.relpersistence <> 't'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgbaton')
   AND n.nspname NOT LIKE 'pg\_toast%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
 ORDER BY 1, 2
