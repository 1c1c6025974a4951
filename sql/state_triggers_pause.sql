-- Switch off every user trigger and rule on the tables migration
-- current_setting('pgbaton.migration') writes (src/state_triggers.c): the tables
-- it copied, their partition ancestors and their partitions. Each one's mode
-- is recorded first (a mode already recorded is kept: it is the source's,
-- the present one is pgbaton's), then ALTER TABLE ONLY ... DISABLE; both in
-- the caller's transaction. Internal triggers (foreign keys) are left alone:
-- session_replication_role = replica already skips them.
DO $pgbaton$
DECLARE
    m text := pg_catalog.current_setting('pgbaton.migration');
    r record;
BEGIN
    WITH copied AS (
        SELECT pg_catalog.to_regclass(pg_catalog.quote_ident(ts.schema_name) || '.' ||
                                      pg_catalog.quote_ident(ts.table_name)) AS rel
          FROM pgbaton.table_state ts
         WHERE ts.migration = m),
    tabs AS (
        SELECT rel FROM copied WHERE rel IS NOT NULL
        UNION SELECT a.relid FROM copied, pg_catalog.pg_partition_ancestors(copied.rel) a
         WHERE copied.rel IS NOT NULL
        UNION SELECT t.relid FROM copied, pg_catalog.pg_partition_tree(copied.rel) t
         WHERE copied.rel IS NOT NULL),
    objs AS (
        SELECT 'trigger' AS kind, tg.tgrelid AS rel, tg.tgname::text AS name, tg.tgenabled::text AS mode
          FROM pg_catalog.pg_trigger tg
         WHERE tg.tgrelid IN (SELECT rel FROM tabs) AND NOT tg.tgisinternal
        UNION ALL
        SELECT 'rule', rw.ev_class, rw.rulename::text, rw.ev_enabled::text
          FROM pg_catalog.pg_rewrite rw
         WHERE rw.ev_class IN (SELECT rel FROM tabs) AND rw.rulename <> '_RETURN')
    INSERT INTO pgbaton.paused_trigger (migration, kind, schema_name, table_name, object_name, mode, depth)
    SELECT m, o.kind, n.nspname, c.relname, o.name, o.mode,
           (SELECT pg_catalog.count(*) FROM pg_catalog.pg_partition_ancestors(c.oid))::int
      FROM objs o
      JOIN pg_catalog.pg_class c ON c.oid = o.rel
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    ON CONFLICT DO NOTHING;

    FOR r IN
        SELECT p.kind, p.schema_name, p.table_name, p.object_name
          FROM pgbaton.paused_trigger p
          JOIN pg_catalog.pg_namespace n ON n.nspname = p.schema_name
          JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = p.table_name
         WHERE p.migration = m
           AND CASE p.kind
                 WHEN 'trigger' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_trigger tg
                                             WHERE tg.tgrelid = c.oid AND tg.tgname = p.object_name
                                               AND tg.tgenabled <> 'D')
                 ELSE EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite rw
                              WHERE rw.ev_class = c.oid AND rw.rulename = p.object_name
                                AND rw.ev_enabled <> 'D')
               END
         ORDER BY p.depth, p.schema_name, p.table_name, p.kind, p.object_name
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE ONLY %I.%I DISABLE %s %I', r.schema_name,
                                  r.table_name, pg_catalog.upper(r.kind), r.object_name);
    END LOOP;
END
$pgbaton$
