-- cutover step 3: remember the fence written on the source; the applier
-- sets fence_applied_at / fence_applied_lsn when it applies it, and counts
-- later data changes in post_fence_changes. The fence is flushed at once, so
-- the applier may have committed it before this runs: what it recorded for
-- this fence (fence_applied_lsn >= $2) is kept; an earlier fence's is
-- forgotten. $1 name, $2 fence LSN.
UPDATE pgbaton.migration
   SET fence_lsn = $2::pg_lsn,
       fence_applied_at = CASE WHEN fence_applied_lsn >= $2::pg_lsn THEN fence_applied_at END,
       fence_applied_lsn = CASE WHEN fence_applied_lsn >= $2::pg_lsn THEN fence_applied_lsn END,
       post_fence_changes = CASE WHEN fence_applied_lsn >= $2::pg_lsn THEN post_fence_changes
                                 ELSE 0 END
 WHERE name = $1 AND phase = 'cutover'
