-- A migration's state (its tables' rows and events go with it). $1 name.
DELETE FROM pgbaton.migration WHERE name = $1
