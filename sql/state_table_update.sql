-- copy: one table's progress; started_at/copied_at/indexed_at are set on
-- entering copying / copied / indexed (once). $1 migration, $2 schema,
-- $3 table, $4 state, $5 rows copied, $6 bytes copied.
UPDATE pgbaton.table_state
   SET state = $4,
       rows_copied = $5,
       bytes_copied = $6,
       started_at = CASE WHEN $4 <> 'pending' THEN coalesce(started_at, now()) END,
       copied_at = CASE WHEN $4 IN ('copied', 'indexed') THEN coalesce(copied_at, now()) END,
       indexed_at = CASE WHEN $4 = 'indexed' THEN coalesce(indexed_at, now()) END
 WHERE migration = $1 AND schema_name = $2 AND table_name = $3
