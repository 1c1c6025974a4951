-- sql/inventory_constraints.sql — one row per table constraint (NOT NULL is a
-- column property before PostgreSQL 18; domain constraints are under types).
-- "inherited": created by PostgreSQL on a partition from its parent's.
SELECT json_build_object(
           'schema', r.nspname,
           'table', r.relname,
           'name', co.conname,
           'type', CASE co.contype
                       WHEN 'p' THEN 'primary key'
                       WHEN 'f' THEN 'foreign key'
                       WHEN 'u' THEN 'unique'
                       WHEN 'c' THEN 'check'
                       WHEN 'x' THEN 'exclusion'
                       WHEN 't' THEN 'trigger'
                       ELSE co.contype::text
                   END,
           'definition', pg_get_constraintdef(co.oid),
           'references', CASE WHEN co.contype = 'f' THEN
                             (SELECT json_build_object('schema', fn.nspname, 'name', fc.relname)
                                FROM pg_class fc
                                JOIN pg_namespace fn ON fn.oid = fc.relnamespace
                               WHERE fc.oid = co.confrelid)
                         END,
           'deferrable', co.condeferrable,
           'validated', co.convalidated,
           'inherited', co.conparentid <> 0 OR NOT co.conislocal)
  FROM pg_constraint co
  JOIN user_rel r ON r.oid = co.conrelid
 ORDER BY r.nspname, r.relname, co.conname
