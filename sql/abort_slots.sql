-- abort/clean: pgbaton's slots of migration $2 on this source database:
-- the migration's slot ($1, may be NULL when the state is gone) and, when $3
-- is true (clean), leftovers named after it (<slot>_..., pgbaton_<name>_...,
-- or <name> itself for a wal2json slot).
SELECT slot_name, active_pid
  FROM pg_replication_slots
 WHERE database = current_database()
   AND (slot_name = $1
        OR ($3::bool AND plugin = 'wal2json'
            AND (slot_name = $2
                 OR slot_name LIKE replace(coalesce($1, $2), '_', '\_') || '\_%'
                 OR slot_name LIKE 'pgbaton\_' || replace($2, '_', '\_') || '\_%')))
 ORDER BY 1
