-- The migration's tables as a JSON array of [schema, table]. $1 name.
SELECT coalesce(json_agg(json_build_array(schema_name, table_name)), '[]')::text
  FROM pgbaton.table_state
 WHERE migration = $1
