-- verify on a target with pgbaton's state: the recorded modes of the
-- triggers and rules that pgbaton switched off (src/triggers.c), every
-- migration's; given by state_triggers_paused_sql() (src/state_triggers.c)
-- to src/verify_schema.c, which puts it in place of the empty "paused"
-- list of sql/verify_schema.sql.
    SELECT kind, schema_name, table_name, object_name, mode FROM pgbaton.paused_trigger
