-- cutover step 7: the target is authoritative. Only when nothing came after
-- the fence. Write-unavailability runs from the start of the freeze (frozen_at,
-- target clock) to this moment. $1 name, $2 row-count time in ms (or NULL).
UPDATE pgbaton.migration
   SET phase = 'done',
       done_at = clock_timestamp(),
       count_ms = $2::float8,
       write_unavailable_ms = extract(epoch FROM clock_timestamp() - frozen_at) * 1000
 WHERE name = $1 AND phase = 'cutover' AND post_fence_changes = 0
RETURNING write_unavailable_ms
