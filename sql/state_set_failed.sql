-- start: phase failed with the error it stopped on. $1 name, $2 error.
UPDATE pgbaton.migration SET phase = 'failed', last_error = $2, alive_at = now() WHERE name = $1
