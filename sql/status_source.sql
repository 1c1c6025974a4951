-- status: the source's side, all on the source's clock.
-- $1 slot name, $2 applied_lsn (text or NULL), $3 application_name of a
-- running cutover. Columns are read by position in src/status.c.
SELECT pg_current_wal_lsn()::text,
       extract(epoch FROM clock_timestamp())::float8,
       CASE WHEN $2::pg_lsn IS NULL THEN NULL
            ELSE greatest(pg_wal_lsn_diff(pg_current_wal_lsn(), $2::pg_lsn), 0)::bigint END,
       s.slot_name IS NOT NULL AS slot_exists,
       coalesce(s.active, false),
       CASE WHEN s.restart_lsn IS NULL THEN NULL
            ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint END,
       (SELECT count(*) FROM pg_stat_activity a
         WHERE a.application_name = $3 AND a.pid <> pg_backend_pid()) AS cutovers,
       current_database()
  FROM (SELECT 1) AS one
  LEFT JOIN pg_replication_slots s ON s.slot_name = $1
