-- status: the migration's row on the target, with ages measured on the
-- target's clock and source-clock timestamps as epoch seconds (so that they
-- can be handed back to the source without any DateStyle/TimeZone concern).
-- Instants shown to the user are text, UTC, "YYYY-MM-DD HH:MM:SS". start
-- has exited when it recorded its exit after its last sign of life (a new
-- start's first sign of life comes after it).
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
       m.publication,
       to_char(m.alive_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS alive_at,
       m.exited_at IS NOT NULL AND (m.alive_at IS NULL OR m.exited_at >= m.alive_at) AS exited,
       to_char(m.exited_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS exited_at,
       extract(epoch FROM now() - m.exited_at)::float8 AS exited_age,
       m.applied_lsn IS NOT NULL AS copy_done
  FROM pgbaton.migration m
 WHERE m.name = $1
