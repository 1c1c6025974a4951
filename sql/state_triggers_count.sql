-- The triggers and rules recorded as switched off for a migration. $1 name.
SELECT count(*) FILTER (WHERE kind = 'trigger'),
       count(*) FILTER (WHERE kind = 'rule')
  FROM pgbaton.paused_trigger
 WHERE migration = $1
