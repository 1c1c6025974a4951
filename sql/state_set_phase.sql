-- Change the phase, only from a phase the table of transitions allows
-- before it (src/state_phase.c). $1 name, $2 the new phase, $3 the allowed
-- phases before it (text[]), $4 which *_at column to stamp: 'copy_done',
-- 'indexes_done' or NULL.
UPDATE pgbaton.migration
   SET phase = $2,
       alive_at = now(),
       copy_done_at = CASE WHEN $4 = 'copy_done' THEN now() ELSE copy_done_at END,
       indexes_done_at = CASE WHEN $4 = 'indexes_done' THEN now() ELSE indexes_done_at END
 WHERE name = $1 AND phase = ANY ($3::text[])
