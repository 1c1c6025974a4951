-- start: the slot's consistent point, and when the slot was made. $1 name,
-- $2 LSN.
UPDATE pgbaton.migration
   SET consistent_lsn = $2::pg_lsn, slot_created_at = now(), alive_at = now()
 WHERE name = $1
