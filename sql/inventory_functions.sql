-- sql/inventory_functions.sql — one row per function, procedure, aggregate
-- or window function in a user schema that no extension owns. Functions
-- that are part of another object (the constructors PostgreSQL makes for a
-- range type: pg_depend deptype 'i') are left out.
SELECT json_build_object(
           'schema', n.nspname,
           'name', p.proname,
           'kind', CASE p.prokind
                       WHEN 'f' THEN 'function'
                       WHEN 'p' THEN 'procedure'
                       WHEN 'a' THEN 'aggregate'
                       WHEN 'w' THEN 'window'
                   END,
           'arguments', pg_get_function_identity_arguments(p.oid),
           'result', pg_get_function_result(p.oid),
           'language', l.lanname,
           'security_definer', p.prosecdef)
  FROM pg_proc p
  JOIN user_ns n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
 WHERE NOT EXISTS (SELECT 1 FROM ext_member e
                    WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                      AND d.deptype = 'i')
 ORDER BY n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)
