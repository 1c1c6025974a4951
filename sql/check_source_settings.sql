-- Preflight (check.c): the source's replication settings and the role's
-- attributes. One row; role_sql is the role's name quoted for SQL.
SELECT current_setting('wal_level') AS wal_level,
       current_setting('max_replication_slots')::int AS max_slots,
       (SELECT count(*) FROM pg_replication_slots)::int AS used_slots,
       current_setting('max_wal_senders')::int AS max_senders,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender')::int
           AS used_senders,
       r.rolsuper,
       r.rolreplication,
       current_user,
       quote_ident(current_user) AS role_sql
FROM pg_roles r
WHERE r.rolname = current_user;
