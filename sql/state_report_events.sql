-- report: warnings and errors met on the way (from check and from the run).
-- $1 = migration name.
SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), level, message
FROM pgbaton.event
WHERE migration = $1 AND level IN ('warn', 'error')
ORDER BY at;
