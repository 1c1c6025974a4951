-- start: the fields of one migration it needs to resume (plugin NULL in
-- rows from before it was recorded: wal2json). $1 name.
SELECT name, phase, slot_name, options::text, last_error,
       consistent_lsn::text, applied_lsn::text, copy_done_at IS NOT NULL,
       coalesce(plugin, 'wal2json'), publication
  FROM pgbaton.migration
 WHERE name = $1
