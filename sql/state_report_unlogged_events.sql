-- report: the cutover's events about unlogged tables (src/cutover.c, step
-- 5), in the columns of state_report_events.sql. $1 migration name.
SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), level, message
  FROM pgbaton.event
 WHERE migration = $1 AND level IN ('info', 'warn') AND message LIKE 'unlogged table %'
 ORDER BY at, message
