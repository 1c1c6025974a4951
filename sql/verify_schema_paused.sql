-- verify on a target with pgbaton's state: the recorded modes of the
-- triggers and rules that pgbaton switched off (src/triggers.c), every
-- migration's; put by src/verify_schema.c in place of the empty "paused"
-- list of sql/verify_schema.sql.
    SELECT kind, schema_name, table_name, object_name, mode FROM pgbaton.paused_trigger
