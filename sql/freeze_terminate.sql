-- freeze: end every other client session of this database that started
-- before the read-only default was committed ($1: that moment, epoch seconds
-- on the source's clock). Walsenders (pgbaton's own replication session) are
-- not client backends and stay. Returns how many such sessions were still
-- there; the caller repeats until none are left.
SELECT count(*),
       count(*) FILTER (WHERE pg_terminate_backend(pid))
  FROM pg_stat_activity
 WHERE datname = current_database()
   AND backend_type = 'client backend'
   AND pid <> pg_backend_pid()
   AND backend_start < to_timestamp($1::float8)
