-- report: lag over the run, oldest first. $1 = migration name. The lag is
-- NULL where it was not known (no heartbeat or commit applied yet); never
-- below 0 (older samples may be: the report clamps them).
SELECT extract(epoch FROM at)::float8, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       lag_seconds, coalesce(lag_bytes, 0)
FROM pgbaton.lag_sample
WHERE migration = $1
ORDER BY at;
