-- start: the pre-data schema is restored on the target (the report's
-- "schema" step ends and the data copy begins). $1 name.
UPDATE pgbaton.migration SET schema_done_at = now(), alive_at = now() WHERE name = $1
