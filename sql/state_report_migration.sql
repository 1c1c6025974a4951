-- report: the migration row, with phase durations in seconds (NULL when the
-- phase has not both started and ended). $1 = migration name.
SELECT name, phase, source_masked, target_masked,
       started_at::text, done_at::text,
       extract(epoch FROM copy_started_at - started_at)::float8 AS schema_s,
       extract(epoch FROM copy_done_at - copy_started_at)::float8 AS copy_s,
       extract(epoch FROM indexes_done_at - copy_done_at)::float8 AS indexes_s,
       extract(epoch FROM cutover_started_at - coalesce(streaming_at, indexes_done_at))::float8 AS catchup_s,
       extract(epoch FROM done_at - cutover_started_at)::float8 AS cutover_s,
       write_unavailable_ms,
       coalesce(plugin, 'wal2json') AS plugin
FROM pgbaton.migration
WHERE name = $1;
