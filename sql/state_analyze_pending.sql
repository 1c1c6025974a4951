-- analyze: the migration's tables still without statistics, largest
-- first: schema, table. $1 migration.
SELECT schema_name, table_name
  FROM pgbaton.table_state
 WHERE migration = $1 AND analyzed_at IS NULL
 ORDER BY size_bytes DESC NULLS LAST
