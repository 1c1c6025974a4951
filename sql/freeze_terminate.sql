-- freeze: end every other client session of this database that started
-- before the read-only default was committed ($1: that moment, epoch seconds
-- on the source's clock). Walsenders (pgbaton's own replication session) are
-- not client backends and stay. Returns how many such sessions were still
-- there; the caller repeats until none are left.
-- Without pg_read_all_stats, other roles' sessions show NULL backend_type and
-- backend_start: they are ended too (one we cannot see may have started
-- before the freeze; physical walsenders have no database and are not here).
SELECT count(*),
       count(*) FILTER (WHERE pg_terminate_backend(pid))
  FROM pg_stat_activity
 WHERE datname = current_database()
   AND (backend_type = 'client backend' OR backend_type IS NULL)
   AND pid <> pg_backend_pid()
   AND (backend_start < to_timestamp($1::float8) OR backend_start IS NULL)
