-- The phase of one migration (no row: none). $1 name.
SELECT phase FROM pgbaton.migration WHERE name = $1
