-- How many migrations the state holds (clean drops the schema at 0).
SELECT count(*) FROM pgbaton.migration
