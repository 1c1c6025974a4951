-- status: lag samples of the last five minutes (oldest first), for the apply
-- rate and the ETA. $1 = migration name.
SELECT extract(epoch FROM at)::float8, lag_bytes, apply_rate,
       extract(epoch FROM now() - at)::float8 AS age
  FROM pgbaton.lag_sample
 WHERE migration = $1 AND at > now() - interval '5 minutes'
 ORDER BY at
