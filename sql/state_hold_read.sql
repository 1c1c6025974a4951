-- verify (target): does the applier hold, and in which phase is the
-- migration. $1 name.
SELECT held_at IS NOT NULL, phase FROM pgbaton.migration WHERE name = $1
