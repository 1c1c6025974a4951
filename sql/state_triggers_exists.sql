-- Is there a record of paused triggers (a state from before it has none)?
SELECT pg_catalog.to_regclass('pgbaton.paused_trigger')::text
