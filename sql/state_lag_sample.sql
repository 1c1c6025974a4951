-- apply: a lag sample (for status's ETA and the report's chart), sent in
-- the batch's transaction. $1 name, $2 lag in bytes (or NULL), $3 changes/s.
INSERT INTO pgbaton.lag_sample (migration, lag_bytes, lag_seconds, apply_rate)
SELECT name, $2::bigint, extract(epoch FROM now() - heartbeat_source_ts), $3::float8
  FROM pgbaton.migration
 WHERE name = $1
