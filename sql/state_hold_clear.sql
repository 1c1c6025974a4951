-- verify (target): lift the hold; the applier resumes. $1 name.
UPDATE pgbaton.migration SET hold_lsn = NULL, held_at = NULL WHERE name = $1
