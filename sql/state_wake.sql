-- verify (source): wake the applier at once rather than at the next
-- heartbeat: a non-transactional "pgbaton" message naming the migration
-- (the heartbeat's kind, with "wake": true instead of a timestamp). Flushed
-- at once for the reason given in state_fence_write.sql. $1 name.
SELECT pg_catalog.pg_logical_emit_message(false, 'pgbaton',
           pg_catalog.json_build_object('name', $1::text, 'wake', true)::text),
       pg_catalog.set_config('synchronous_commit', 'local', true),
       pg_catalog.txid_current()
