-- cutover step 2, on the target, BEFORE the source is frozen: the phase, the
-- moment and the setting to restore, so that a killed cutover is recoverable
-- (`pgbaton cutover` finishes it, `pgbaton abort` unfreezes). The fence of
-- any earlier attempt is forgotten. $1 name, $2 database, $3 previous
-- database-level default_transaction_read_only (NULL: none).
UPDATE pgbaton.migration
   SET phase = 'cutover',
       cutover_started_at = now(),
       frozen_at = clock_timestamp(),
       freeze_database = $2,
       freeze_prev_readonly = $3,
       fence_lsn = NULL,
       fence_applied_at = NULL,
       fence_applied_lsn = NULL,
       post_fence_changes = 0,
       last_error = NULL
 WHERE name = $1 AND phase = 'streaming'
