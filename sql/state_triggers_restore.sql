-- Put back the recorded mode of every trigger and rule that migration
-- current_setting('pgbaton.migration') switched off (src/state_triggers.c), parents
-- before their partitions, and delete the records, in the caller's
-- transaction. The present mode is read just before each one (an ALTER of a
-- parent may have reached its partitions): an object already in its
-- recorded mode is not touched (no lock taken), one that no longer exists
-- is skipped.
DO $pgbaton$
DECLARE
    m text := pg_catalog.current_setting('pgbaton.migration');
    r record;
    now_mode text;
BEGIN
    FOR r IN
        SELECT p.kind, p.schema_name, p.table_name, p.object_name, p.mode
          FROM pgbaton.paused_trigger p
         WHERE p.migration = m
         ORDER BY p.depth, p.schema_name, p.table_name, p.kind, p.object_name
    LOOP
        SELECT o.mode INTO now_mode
          FROM (SELECT 'trigger' AS kind, tgrelid AS rel, tgname::text AS name,
                       tgenabled::text AS mode
                  FROM pg_catalog.pg_trigger
                UNION ALL
                SELECT 'rule', ev_class, rulename::text, ev_enabled::text
                  FROM pg_catalog.pg_rewrite) o
          JOIN pg_catalog.pg_class c ON c.oid = o.rel
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE o.kind = r.kind AND n.nspname = r.schema_name AND c.relname = r.table_name
           AND o.name = r.object_name;
        IF FOUND AND now_mode <> r.mode THEN
            EXECUTE pg_catalog.format('ALTER TABLE ONLY %I.%I %s %s %I', r.schema_name,
                                      r.table_name,
                                      CASE r.mode WHEN 'D' THEN 'DISABLE'
                                                  WHEN 'R' THEN 'ENABLE REPLICA'
                                                  WHEN 'A' THEN 'ENABLE ALWAYS'
                                                  ELSE 'ENABLE' END,
                                      pg_catalog.upper(r.kind), r.object_name);
        END IF;
    END LOOP;
    DELETE FROM pgbaton.paused_trigger WHERE migration = m;
END
$pgbaton$
