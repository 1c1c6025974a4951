-- Record (or, with NULL, forget) the error `start` stopped on, without
-- changing the phase. $1 name, $2 text or NULL.
UPDATE pgbaton.migration SET last_error = $2 WHERE name = $1
