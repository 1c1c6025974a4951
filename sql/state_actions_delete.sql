-- clean: forget migration $1's audit trail (its state row goes too).
DELETE FROM pgbaton.action WHERE migration = $1
