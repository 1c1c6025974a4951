-- verify: the user tables (leaf tables: partitioned parents hold no rows)
-- and their columns, with the row key (primary key, else the replica
-- identity index) and what the CRUD smoke test needs to know.
-- One row per column, in table then column order.
-- Columns: schema, table, est_rows, column, type, key_position (NULL when
-- not part of the key), generated ('s' or ''), identity ('a', 'd' or ''),
-- in_unique (part of a unique index other than the key), hash_class (how
-- the column enters the row hash, see src/verify_data.c: the base type, domains
-- resolved, for the types hashed as themselves, 'bpcharn' for character(n),
-- 'xml' for xml and domains over it (hashed as its output text: xml::text
-- would be the stored text, with an XML declaration the output drops);
-- 'text' for all others),
-- not_null, and the schema, table and column names quoted as quote_ident()
-- does, for messages ("dot.ted", "Mixed Case", "select").
-- A table is identified by (schema, table), never by a joined string.
WITH ext_owned AS (
    SELECT objid FROM pg_depend WHERE deptype = 'e' AND classid = 'pg_class'::regclass
), tab AS (
    SELECT c.oid, n.nspname, c.relname,
           CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint
                ELSE pg_relation_size(c.oid) / 8192 * 60 END AS est_rows,
           coalesce((SELECT i.indexrelid FROM pg_index i
                     WHERE i.indrelid = c.oid AND i.indisprimary),
                    (SELECT i.indexrelid FROM pg_index i
                     WHERE i.indrelid = c.oid AND i.indisreplident)) AS keyidx
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r'
      AND n.nspname NOT IN ('pgbaton', 'pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
      AND c.oid NOT IN (SELECT objid FROM ext_owned)
)
SELECT t.nspname, t.relname, t.est_rows, a.attname,
       format_type(a.atttypid, a.atttypmod),
       (SELECT k.ord FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k (attnum, ord)
        WHERE i.indexrelid = t.keyidx AND k.attnum = a.attnum),
       a.attgenerated::text, a.attidentity::text,
       EXISTS (SELECT 1 FROM pg_index u
               WHERE u.indrelid = t.oid AND u.indisunique AND u.indexrelid IS DISTINCT FROM t.keyidx
                 AND a.attnum = ANY (u.indkey)),
       CASE b.base WHEN 'bool'::regtype THEN 'bool' WHEN 'int2'::regtype THEN 'int2'
                   WHEN 'int4'::regtype THEN 'int4' WHEN 'int8'::regtype THEN 'int8'
                   WHEN 'oid'::regtype THEN 'oid' WHEN 'uuid'::regtype THEN 'uuid'
                   WHEN '"char"'::regtype THEN 'char' WHEN 'name'::regtype THEN 'name'
                   WHEN 'bpchar'::regtype THEN
                       -- character(n) itself (no domain): always n characters
                       CASE WHEN a.atttypid = 'bpchar'::regtype AND a.atttypmod >= 0
                            THEN 'bpcharn' ELSE 'bpchar' END
                   WHEN 'xml'::regtype THEN 'xml'
                   ELSE 'text' END,
       a.attnotnull,
       quote_ident(t.nspname), quote_ident(t.relname), quote_ident(a.attname)
FROM tab t
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
CROSS JOIN LATERAL (
    WITH RECURSIVE dom (typ, kind, next, depth) AS (
        SELECT ty.oid, ty.typtype, ty.typbasetype, 0 FROM pg_type ty WHERE ty.oid = a.atttypid
        UNION ALL
        SELECT ty.oid, ty.typtype, ty.typbasetype, d.depth + 1
        FROM dom d JOIN pg_type ty ON ty.oid = d.next
        WHERE d.kind = 'd' AND d.depth < 100
    )
    SELECT (SELECT typ FROM dom WHERE kind <> 'd') AS base
) b
ORDER BY t.nspname COLLATE "C", t.relname COLLATE "C", a.attnum;
