-- start: one table of the migration. $1 migration, $2 schema, $3 table,
-- $4 size in bytes, $5 estimated rows.
INSERT INTO pgbaton.table_state (migration, schema_name, table_name, size_bytes, est_rows)
VALUES ($1, $2, $3, $4, $5)
