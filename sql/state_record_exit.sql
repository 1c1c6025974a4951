-- start: it exits (on its own: a stop signal, an error, the cutover done),
-- after its last sign of life. $1 name.
UPDATE pgbaton.migration SET exited_at = clock_timestamp() WHERE name = $1
