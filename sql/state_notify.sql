-- The start/cutover/verify protocol (src/state.c, top of file): tell the
-- waiting side that the migration's phase, fence or hold changed. Sent in
-- (or right after) the transaction that changes it: a notification is
-- delivered at commit. $1 name.
SELECT pg_catalog.pg_notify('pgbaton_state', $1)
