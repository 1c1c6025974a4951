-- apply: start's sign of life inside a long batch, from the catalog
-- session; never waits for the row (the batch's commit locks it and writes
-- alive_at itself). $1 name.
UPDATE pgbaton.migration
   SET alive_at = clock_timestamp()
 WHERE name = (SELECT name FROM pgbaton.migration WHERE name = $1
               FOR NO KEY UPDATE SKIP LOCKED)
