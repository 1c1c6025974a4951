-- cutover step 3: remember the fence written on the source; the applier
-- sets fence_applied_at / fence_applied_lsn when it applies it, and counts
-- later data changes in post_fence_changes. $1 name, $2 fence LSN.
UPDATE pgbaton.migration
   SET fence_lsn = $2::pg_lsn,
       fence_applied_at = NULL,
       fence_applied_lsn = NULL,
       post_fence_changes = 0
 WHERE name = $1 AND phase = 'cutover'
