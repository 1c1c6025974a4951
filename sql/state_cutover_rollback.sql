-- cutover failed after the freeze and the source was unfrozen: back to
-- streaming, with the reason. $1 name, $2 reason.
UPDATE pgbaton.migration
   SET phase = 'streaming',
       frozen_at = NULL,
       fence_lsn = NULL,
       fence_applied_at = NULL,
       fence_applied_lsn = NULL,
       post_fence_changes = 0,
       last_error = $2
 WHERE name = $1 AND phase = 'cutover'
