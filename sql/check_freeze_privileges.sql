-- What the cutover's freeze needs on the source (src/freeze.c): ALTER DATABASE
-- ... SET default_transaction_read_only (database owner or superuser) and
-- ending the other sessions (pg_signal_backend; superusers' sessions can only
-- be ended by a superuser). Superusers have everything.
SELECT r.rolsuper,
       pg_catalog.pg_has_role(current_user, d.datdba, 'MEMBER') AS owner,
       pg_catalog.pg_has_role(current_user, 'pg_signal_backend', 'MEMBER') AS can_signal,
       current_user, current_database()
  FROM pg_catalog.pg_roles r, pg_catalog.pg_database d
 WHERE r.rolname = current_user AND d.datname = current_database()
