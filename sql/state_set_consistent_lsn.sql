-- start: the slot's consistent point. $1 name, $2 LSN.
UPDATE pgbaton.migration SET consistent_lsn = $2::pg_lsn, alive_at = now() WHERE name = $1
