-- status: the migration's row on the target, with ages measured on the
-- target's clock and source-clock timestamps as epoch seconds (so that they
-- can be handed back to the source without any DateStyle/TimeZone concern).
-- $1 = migration name. Columns are read by position in src/state_read.c.
SELECT m.phase,
       m.slot_name,
       m.applied_lsn::text,
       extract(epoch FROM m.heartbeat_source_ts)::float8,
       extract(epoch FROM m.applied_source_ts)::float8,
       m.changes_applied,
       extract(epoch FROM now() - m.alive_at)::float8 AS alive_age,
       m.frozen_at IS NOT NULL AS frozen,
       m.fence_lsn::text,
       m.last_error,
       m.write_unavailable_ms,
       m.freeze_database,
       m.freeze_prev_readonly,
       m.post_fence_changes,
       extract(epoch FROM now())::float8 AS target_now,
       extract(epoch FROM now() - m.streaming_at)::float8 AS streaming_for,
       coalesce(m.plugin, 'wal2json') AS plugin,
       m.publication
  FROM pgbaton.migration m
 WHERE m.name = $1
