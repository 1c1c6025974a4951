-- sql/inventory_schemas.sql — one row per user schema.
SELECT json_build_object(
           'name', u.nspname,
           'owner', pg_get_userbyid(n.nspowner))
  FROM user_ns u
  JOIN pg_namespace n ON n.oid = u.oid
 ORDER BY u.nspname
