-- apply: a lag sample (for status's ETA and the report's chart), sent in
-- the batch's transaction, after its position update (so it sees the
-- heartbeat and commit timestamps that batch applied). $1 name, $2 lag in
-- bytes (or NULL), $3 changes/s. The lag in seconds is the age of the
-- newest source instant the target has applied (the last heartbeat's or
-- commit's timestamp), taken when the sample is written (clock_timestamp:
-- now() is the batch's start, earlier than what the batch applied), never
-- below 0 (the two servers' clocks may differ a little); NULL while
-- neither is known (greatest() alone would make that 0: caught up).
INSERT INTO pgbaton.lag_sample (migration, at, lag_bytes, lag_seconds, apply_rate)
SELECT name, clock_timestamp(), $2::bigint,
       CASE WHEN coalesce(heartbeat_source_ts, applied_source_ts) IS NOT NULL
            THEN greatest(0, extract(epoch FROM clock_timestamp()
                                                - greatest(heartbeat_source_ts, applied_source_ts)))
       END,
       $3::float8
  FROM pgbaton.migration
 WHERE name = $1
