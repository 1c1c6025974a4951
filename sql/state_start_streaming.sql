-- start: the copy is complete; streaming starts at the consistent point.
-- Only from indexing (the table of transitions). $1 name.
UPDATE pgbaton.migration
   SET phase = 'streaming',
       applied_lsn = consistent_lsn,
       streaming_at = now(),
       alive_at = now(),
       last_error = NULL
 WHERE name = $1 AND phase = 'indexing'
