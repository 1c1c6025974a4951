-- The slot recorded for a migration (no row: none). $1 name.
SELECT slot_name FROM pgbaton.migration WHERE name = $1
