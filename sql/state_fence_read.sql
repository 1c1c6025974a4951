-- cutover step 3/4: has the applier applied our fence (an older fence from an
-- earlier attempt does not count), how many changes came after it, and is
-- start alive (seconds since its last sign of life; NULL once it recorded its
-- exit after it). $1 name.
SELECT fence_applied_at IS NOT NULL
         AND (fence_applied_lsn IS NULL OR fence_applied_lsn >= fence_lsn),
       post_fence_changes,
       CASE WHEN exited_at >= alive_at THEN NULL
            ELSE extract(epoch FROM now() - alive_at)::float8 END
  FROM pgbaton.migration
 WHERE name = $1
