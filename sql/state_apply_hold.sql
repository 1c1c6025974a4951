-- apply: the phase and verify's hold, re-read while held. $1 name.
SELECT phase, hold_lsn::text FROM pgbaton.migration WHERE name = $1
