-- report: lag over the run. $1 = migration name.
SELECT extract(epoch FROM at)::float8, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       coalesce(lag_seconds, 0), coalesce(lag_bytes, 0)
FROM pgbaton.lag_sample
WHERE migration = $1
ORDER BY at;
