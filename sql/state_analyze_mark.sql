-- analyze: one table's statistics are gathered. $1 migration, $2 schema,
-- $3 table.
UPDATE pgbaton.table_state
   SET analyzed_at = now()
 WHERE migration = $1 AND schema_name = $2 AND table_name = $3
