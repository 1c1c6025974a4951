-- Columns of one target table, for the apply: name, type (schema-qualified
-- under search_path = pg_catalog), type OID, stored generated, identity,
-- and whether the column belongs to the key that finds rows (the primary
-- key, else the replica identity index). $1 = schema, $2 = table.
SELECT a.attname,
       pg_catalog.format_type(a.atttypid, a.atttypmod),
       a.atttypid,
       a.attgenerated <> '' AS generated,
       a.attidentity::text,
       CASE WHEN pk.conkey IS NOT NULL THEN a.attnum = ANY (pk.conkey)
            WHEN ri.indkey IS NOT NULL THEN a.attnum = ANY (ri.indkey::int2[])
            ELSE false END AS in_key,
       c.relkind::text
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_catalog.pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p'
  LEFT JOIN pg_catalog.pg_index ri ON ri.indrelid = c.oid AND ri.indisreplident
 WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
 ORDER BY a.attnum
