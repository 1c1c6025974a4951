-- sql/inventory_tables.sql — one row per table (ordinary, partitioned,
-- partition, foreign) with its columns, key and replica identity.
-- A table's UPDATE/DELETE can be replicated by logical decoding when its
-- replica identity is FULL, or DEFAULT with a primary key, or USING INDEX
-- with that index present. reltuples < 0 means "never analyzed": null.
SELECT json_build_object(
           'schema', r.nspname,
           'name', r.relname,
           'kind', CASE
                       WHEN c.relkind = 'p' THEN 'partitioned'
                       WHEN c.relkind = 'f' THEN 'foreign'
                       WHEN c.relispartition THEN 'partition'
                       ELSE 'table'
                   END,
           'parent', (SELECT json_build_object('schema', pn.nspname, 'name', pc.relname)
                        FROM pg_inherits i
                        JOIN pg_class pc ON pc.oid = i.inhparent
                        JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                       WHERE i.inhrelid = c.oid AND c.relispartition),
           'estimated_rows', CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END,
           'size_bytes', pg_total_relation_size(c.oid),
           'primary_key', coalesce(
               (SELECT json_agg(a.attname ORDER BY k.ord)
                  FROM pg_index x
                 CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                 WHERE x.indrelid = c.oid AND x.indisprimary),
               '[]'::json),
           'replica_identity', CASE c.relreplident
                                   WHEN 'd' THEN 'default'
                                   WHEN 'f' THEN 'full'
                                   WHEN 'i' THEN 'index'
                                   WHEN 'n' THEN 'nothing'
                               END,
           'replica_identity_index', (SELECT ic.relname
                                        FROM pg_index x
                                        JOIN pg_class ic ON ic.oid = x.indexrelid
                                       WHERE x.indrelid = c.oid AND x.indisreplident
                                         AND c.relreplident = 'i'),
           'replicable', CASE
                             WHEN c.relkind = 'f' THEN false
                             WHEN c.relreplident = 'f' THEN true
                             WHEN c.relreplident = 'd' THEN
                                 EXISTS (SELECT 1 FROM pg_index x
                                          WHERE x.indrelid = c.oid AND x.indisprimary)
                             WHEN c.relreplident = 'i' THEN
                                 EXISTS (SELECT 1 FROM pg_index x
                                          WHERE x.indrelid = c.oid AND x.indisreplident)
                             ELSE false
                         END,
           'unlogged', c.relpersistence = 'u',
           'columns', coalesce(
               (SELECT json_agg(json_build_object(
                           'name', a.attname,
                           'position', a.attnum,
                           'type', format_type(a.atttypid, a.atttypmod),
                           'nullable', NOT a.attnotnull,
                           'default', CASE WHEN a.attgenerated = ''
                                           THEN pg_get_expr(d.adbin, d.adrelid) END,
                           'generated', CASE a.attgenerated WHEN 's' THEN 'stored' END,
                           'generation_expression', CASE WHEN a.attgenerated <> ''
                                                         THEN pg_get_expr(d.adbin, d.adrelid) END,
                           'identity', CASE a.attidentity
                                           WHEN 'a' THEN 'always'
                                           WHEN 'd' THEN 'by default'
                                       END,
                           'collation', (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
                                           FROM pg_collation co
                                           JOIN pg_namespace cn ON cn.oid = co.collnamespace
                                          WHERE co.oid = a.attcollation
                                            AND a.attcollation <> t.typcollation))
                       ORDER BY a.attnum)
                  FROM pg_attribute a
                  JOIN pg_type t ON t.oid = a.atttypid
                  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
               '[]'::json))
  FROM user_rel r
  JOIN pg_class c ON c.oid = r.oid
 WHERE r.relkind IN ('r', 'p', 'f')
 ORDER BY r.nspname, r.relname
