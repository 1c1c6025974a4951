-- The migration the trigger DO blocks (state_triggers_pause.sql,
-- state_triggers_restore.sql) work on, for this transaction. $1 name.
SELECT pg_catalog.set_config('pgbaton.migration', $1, true)
