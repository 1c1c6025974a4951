-- The options start stored (filters, jobs; JSON text or NULL). $1 name.
SELECT options::text FROM pgbaton.migration WHERE name = $1
