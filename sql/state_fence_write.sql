-- cutover step 3 (source): write the fence, a non-transactional logical
-- message naming the migration, and return its LSN. A non-transactional
-- message is streamed only once its WAL is flushed, which the WAL writer
-- would do within wal_writer_delay (200 ms by default, while the source is
-- frozen and nothing else commits): a transaction id makes this statement's
-- commit flush it at once (synchronous_commit = local: without waiting for
-- standbys). The message comes first, before the id exists, so that it is
-- logged outside any transaction. $1 name.
SELECT pg_catalog.pg_logical_emit_message(false, 'pgbaton_fence',
           pg_catalog.json_build_object('name', $1::text, 'at', pg_catalog.clock_timestamp())::text)::text,
       pg_catalog.set_config('synchronous_commit', 'local', true),
       pg_catalog.txid_current()
