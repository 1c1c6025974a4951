-- sql/inventory_types.sql — one row per user-defined type: enum (labels in
-- order), domain (base type, NOT NULL, default, CHECK constraints),
-- composite (attributes), range (subtype), base. Array types, the row types
-- of tables and views, multiranges and extension members are left out.
-- Every row has schema, name and kind; the other keys depend on the kind.
SELECT CASE t.typtype
       WHEN 'e' THEN json_build_object(
           'schema', n.nspname, 'name', t.typname, 'kind', 'enum',
           'labels', coalesce((SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder)
                                 FROM pg_enum e WHERE e.enumtypid = t.oid), '[]'::json))
       WHEN 'd' THEN json_build_object(
           'schema', n.nspname, 'name', t.typname, 'kind', 'domain',
           'base_type', format_type(t.typbasetype, t.typtypmod),
           'not_null', t.typnotnull,
           'default', t.typdefault,
           'constraints', coalesce((SELECT json_agg(pg_get_constraintdef(co.oid) ORDER BY co.conname)
                                      FROM pg_constraint co WHERE co.contypid = t.oid),
                                   '[]'::json))
       WHEN 'c' THEN json_build_object(
           'schema', n.nspname, 'name', t.typname, 'kind', 'composite',
           'attributes', coalesce((SELECT json_agg(json_build_object(
                                              'name', a.attname,
                                              'type', format_type(a.atttypid, a.atttypmod))
                                          ORDER BY a.attnum)
                                     FROM pg_attribute a
                                    WHERE a.attrelid = t.typrelid AND a.attnum > 0
                                      AND NOT a.attisdropped),
                                  '[]'::json))
       WHEN 'r' THEN json_build_object(
           'schema', n.nspname, 'name', t.typname, 'kind', 'range',
           'subtype', (SELECT format_type(rg.rngsubtype, NULL)
                         FROM pg_range rg WHERE rg.rngtypid = t.oid))
       ELSE json_build_object(
           'schema', n.nspname, 'name', t.typname, 'kind', 'base')
       END
  FROM pg_type t
  JOIN user_ns n ON n.oid = t.typnamespace
 WHERE t.typtype IN ('b', 'c', 'd', 'e', 'r')
   AND (t.typtype <> 'c'
        OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')
   AND NOT EXISTS (SELECT 1 FROM pg_type el WHERE el.typarray = t.oid)
   AND NOT EXISTS (SELECT 1 FROM ext_member e
                    WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid)
 ORDER BY n.nspname, t.typname
