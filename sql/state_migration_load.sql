-- start: the fields of one migration it needs to resume (plugin NULL in
-- rows from before it was recorded: wal2json). The copy is done once
-- streaming began (applied_lsn is set then, after the post-data restore;
-- copy_done_at comes before it). $1 name.
SELECT name, phase, slot_name, options::text, last_error,
       consistent_lsn::text, applied_lsn::text, applied_lsn IS NOT NULL,
       coalesce(plugin, 'wal2json'), publication
  FROM pgbaton.migration
 WHERE name = $1
