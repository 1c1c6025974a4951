-- sql/inventory_views.sql — one row per view or materialized view.
SELECT json_build_object(
           'schema', r.nspname,
           'name', r.relname,
           'kind', CASE r.relkind WHEN 'm' THEN 'materialized view' ELSE 'view' END,
           'populated', c.relispopulated,
           'definition', pg_get_viewdef(r.oid))
  FROM user_rel r
  JOIN pg_class c ON c.oid = r.oid
 WHERE r.relkind IN ('v', 'm')
 ORDER BY r.nspname, r.relname
