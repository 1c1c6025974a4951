-- sql/inventory_extensions.sql — one row per installed extension
-- (plpgsql included: it is an extension too).
SELECT json_build_object(
           'name', e.extname,
           'version', e.extversion,
           'schema', n.nspname)
  FROM pg_extension e
  JOIN pg_namespace n ON n.oid = e.extnamespace
 ORDER BY e.extname
