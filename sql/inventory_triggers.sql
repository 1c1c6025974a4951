-- sql/inventory_triggers.sql — one row per user trigger (internal triggers,
-- such as those enforcing foreign keys, are left out).
-- "enabled": enabled (fires normally), disabled, replica (fires only when
-- session_replication_role = replica), always.
SELECT json_build_object(
           'schema', r.nspname,
           'table', r.relname,
           'name', tg.tgname,
           'definition', pg_get_triggerdef(tg.oid),
           'enabled', CASE tg.tgenabled
                          WHEN 'O' THEN 'enabled'
                          WHEN 'D' THEN 'disabled'
                          WHEN 'R' THEN 'replica'
                          WHEN 'A' THEN 'always'
                      END,
           'function', quote_ident(pn.nspname) || '.' || quote_ident(p.proname),
           'inherited', tg.tgparentid <> 0)
  FROM pg_trigger tg
  JOIN user_rel r ON r.oid = tg.tgrelid
  JOIN pg_proc p ON p.oid = tg.tgfoid
  JOIN pg_namespace pn ON pn.oid = p.pronamespace
 WHERE NOT tg.tgisinternal
 ORDER BY r.nspname, r.relname, tg.tgname
