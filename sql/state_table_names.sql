-- The migration's tables as recorded in pgbaton.table_state on the target:
-- those whose row counts the cutover compares (when there are none, it
-- compares the source's own list, sql/cutover_source_tables.sql). $1 = name.
SELECT schema_name, table_name
  FROM pgbaton.table_state
 WHERE migration = $1
 ORDER BY 1, 2
