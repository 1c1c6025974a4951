-- status: per-table copy progress of migration $1.
SELECT schema_name, table_name, state, rows_copied, bytes_copied,
       coalesce(size_bytes, 0), coalesce(est_rows, 0), analyzed_at IS NOT NULL
  FROM pgbaton.table_state
 WHERE migration = $1
 ORDER BY schema_name, table_name
