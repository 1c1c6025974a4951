-- cutover: the unlogged tables of the migration, on the source, with their
-- size and the column list to copy (generated columns left out, as the copy
-- of `start` does). Their changes are not in the WAL: the cutover copies
-- them again in full under the freeze (src/cutover.c, step 5).
-- $1 = the migration's tables as a JSON array of [schema, table] pairs
-- (from pgbaton.table_state on the target).
SELECT n.nspname, c.relname, pg_table_size(c.oid)::text,
       (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
          FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attgenerated = '')
  FROM json_array_elements($1::json) AS t(e)
  JOIN pg_namespace n ON n.nspname = t.e ->> 0
  JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.e ->> 1
 WHERE c.relkind = 'r'
   AND c.relpersistence = 'u'
 ORDER BY 1, 2
