-- verify (target): ask the applier to hold before a source LSN ("0/1": where
-- it is); it sets held_at once it holds there. Only while streaming.
-- $1 name, $2 LSN.
UPDATE pgbaton.migration
   SET hold_lsn = $2::pg_lsn,
       held_at = NULL
 WHERE name = $1 AND phase = 'streaming'
