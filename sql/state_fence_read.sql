-- cutover step 3/4: has the applier applied our fence (an older fence from an
-- earlier attempt does not count), how many changes came after it, and is
-- start alive. $1 name.
SELECT fence_applied_at IS NOT NULL
         AND (fence_applied_lsn IS NULL OR fence_applied_lsn >= fence_lsn),
       post_fence_changes,
       extract(epoch FROM now() - alive_at)::float8
  FROM pgbaton.migration
 WHERE name = $1
