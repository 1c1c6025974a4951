-- apply: the position update sent, in pipeline mode, just before the
-- COMMIT of every batch (the position is exactly the data's). $1 name,
-- $2 nextlsn of the last source commit, $3 its timestamp, $4 the last
-- heartbeat's source timestamp, $5 changes, $6 transactions in the batch,
-- $7 the batch holds the fence, $8 its LSN, $9 data changes after the
-- latest fence in this batch, $10 this commit reaches verify's hold point.
-- RETURNs what the applier must know: the phase and the hold.
UPDATE pgbaton.migration
   SET applied_lsn = GREATEST(applied_lsn, $2::pg_lsn),
       applied_source_ts = coalesce($3::timestamptz, applied_source_ts),
       heartbeat_source_ts = coalesce($4::timestamptz, heartbeat_source_ts),
       changes_applied = changes_applied + $5::bigint,
       txns_applied = txns_applied + $6::bigint,
       alive_at = clock_timestamp(),
       last_error = NULL,
       fence_applied_at = CASE WHEN $7::bool THEN now() ELSE fence_applied_at END,
       fence_applied_lsn = CASE WHEN $7::bool THEN $8::pg_lsn ELSE fence_applied_lsn END,
       post_fence_changes = CASE WHEN $7::bool THEN 0 ELSE post_fence_changes END + $9::bigint,
       held_at = CASE WHEN $10::bool THEN now() ELSE held_at END
 WHERE name = $1
RETURNING phase, hold_lsn::text
