-- audit: migration $1's actions in the order they were taken: time (ISO,
-- target clock, ms), server, action, object, outcome, duration (ms), detail.
SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), server, action,
       object, outcome, duration_ms, detail
  FROM pgbaton.action
 WHERE migration = $1
 ORDER BY at, ctid
