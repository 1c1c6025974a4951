-- freeze: end every other client session of this database that started
-- before the read-only default was committed ($1: that moment, epoch seconds
-- on the source's clock), waiting (up to 1 s each) until each has exited:
-- pg_terminate_backend(pid, timeout) returns true only once the process is
-- gone, so its transaction is over. Returns how many did not end in time
-- and how many did; the caller repeats while any did not.
-- Walsenders (pgbaton's own replication session) are not client backends and
-- stay. Without pg_read_all_stats, other roles' sessions show NULL
-- backend_type and backend_start: they are ended too (one we cannot see may
-- have started before the freeze; physical walsenders have no database and
-- are not here).
SELECT count(*) FILTER (WHERE NOT ended),
       count(*) FILTER (WHERE ended)
  FROM (SELECT pg_terminate_backend(pid, 1000) AS ended
          FROM pg_stat_activity
         WHERE datname = current_database()
           AND (backend_type = 'client backend' OR backend_type IS NULL)
           AND pid <> pg_backend_pid()
           AND (backend_start < to_timestamp($1::float8) OR backend_start IS NULL)) s
