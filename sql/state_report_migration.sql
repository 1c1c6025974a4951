-- report: the migration row, with the instants of its steps as epoch
-- seconds on the target's clock (NULL: not reached, or not recorded by the
-- pgbaton that ran that step). $1 = migration name.
--   caught_up: the first lag sample since streaming began whose lag was
--     below one second (the end of the catch-up);
--   cutover: when the cutover under way, or the one that completed, began
--     (a rolled-back attempt's cutover_started_at stays, but does not count
--     once the phase is streaming again).
SELECT m.name, m.phase, m.source_masked, m.target_masked,
       m.started_at::text, m.done_at::text,
       extract(epoch FROM m.started_at)::float8 AS started,
       extract(epoch FROM m.slot_created_at)::float8 AS slot,
       extract(epoch FROM m.schema_done_at)::float8 AS schema_done,
       extract(epoch FROM m.copy_done_at)::float8 AS copy_done,
       extract(epoch FROM m.indexes_done_at)::float8 AS indexes_done,
       extract(epoch FROM m.streaming_at)::float8 AS streaming,
       extract(epoch FROM (SELECT min(s.at)
                             FROM pgbaton.lag_sample s
                            WHERE s.migration = m.name AND s.at >= m.streaming_at
                              AND s.lag_seconds < 1))::float8 AS caught_up,
       extract(epoch FROM CASE WHEN m.phase IN ('cutover', 'done')
                               THEN m.cutover_started_at END)::float8 AS cutover,
       extract(epoch FROM m.done_at)::float8 AS done,
       extract(epoch FROM now())::float8 AS target_now,
       m.write_unavailable_ms,
       coalesce(m.plugin, 'wal2json') AS plugin
  FROM pgbaton.migration m
 WHERE m.name = $1;
