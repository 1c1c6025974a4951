-- cutover: the tables whose row counts are compared: the migration's tables
-- as recorded in pgbaton.table_state on the target. (When that is empty, the
-- source's own list, sql/cutover_source_tables.sql, is used.) $1 = name.
SELECT schema_name, table_name
  FROM pgbaton.table_state
 WHERE migration = $1
 ORDER BY 1, 2
