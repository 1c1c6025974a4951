-- Is there a pgbaton state on this target (the migration table)?
SELECT pg_catalog.to_regclass('pgbaton.migration') IS NOT NULL
