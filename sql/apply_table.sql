-- Columns of one target table, for the apply: name, type (schema-qualified
-- under search_path = pg_catalog), type OID, stored generated, identity,
-- and whether the column belongs to the key that finds rows (the primary
-- key, else the replica identity index); for grouped statements: the type's
-- array type (qualified, without typmod, so that array input never applies a
-- length coercion: the column's own assignment does, as for a single row;
-- NULL when the type cannot be an element: it is an array itself) and its
-- array delimiter; and per table, whether a unique index or exclusion
-- constraint other than the key exists. (No user trigger or rule fires on
-- the target while pgbaton applies: src/triggers.c.) $1 = schema, $2 = table.
SELECT a.attname,
       pg_catalog.format_type(a.atttypid, a.atttypmod),
       a.atttypid,
       a.attgenerated <> '' AS generated,
       a.attidentity::text,
       CASE WHEN pk.conkey IS NOT NULL THEN a.attnum = ANY (pk.conkey)
            WHEN ri.indkey IS NOT NULL THEN a.attnum = ANY (ri.indkey::int2[])
            ELSE false END AS in_key,
       c.relkind::text,
       CASE WHEN ty.typarray <> 0 AND ty.typcategory <> 'A'
            THEN pg_catalog.quote_ident(an.nspname) || '.' || pg_catalog.quote_ident(aty.typname)
       END AS array_type,
       ty.typdelim::text,
       EXISTS (SELECT 1 FROM pg_catalog.pg_index ix
                WHERE ix.indrelid = c.oid AND (ix.indisunique OR ix.indisexclusion)
                  AND ix.indexrelid IS DISTINCT FROM coalesce(pk.conindid, ri.indexrelid))
         AS other_unique
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
  LEFT JOIN pg_catalog.pg_type aty ON aty.oid = ty.typarray
  LEFT JOIN pg_catalog.pg_namespace an ON an.oid = aty.typnamespace
  LEFT JOIN pg_catalog.pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p'
  LEFT JOIN pg_catalog.pg_index ri ON ri.indrelid = c.oid AND ri.indisreplident
 WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
 ORDER BY a.attnum
