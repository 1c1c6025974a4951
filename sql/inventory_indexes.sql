-- sql/inventory_indexes.sql — one row per index of a table or materialized view.
SELECT json_build_object(
           'schema', r.nspname,
           'table', r.relname,
           'name', i.relname,
           'definition', pg_get_indexdef(x.indexrelid),
           'unique', x.indisunique,
           'primary', x.indisprimary,
           'valid', x.indisvalid,
           'constraint', (SELECT co.conname
                            FROM pg_constraint co
                           WHERE co.conindid = x.indexrelid AND co.conrelid = x.indrelid
                             AND co.contype IN ('p', 'u', 'x')))
  FROM pg_index x
  JOIN user_rel r ON r.oid = x.indrelid
  JOIN pg_class i ON i.oid = x.indexrelid
 WHERE r.relkind IN ('r', 'p', 'm')
 ORDER BY r.nspname, r.relname, i.relname
