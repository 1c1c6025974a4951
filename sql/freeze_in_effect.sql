-- freeze: is database $1 read-only for the sessions that start now (its
-- database-level default_transaction_read_only on)? A cutover records the
-- freeze before it applies it, so a recorded freeze is checked here before
-- anyone is told that the source is frozen (src/status.c).
SELECT coalesce((SELECT substr(c, length('default_transaction_read_only=') + 1)::boolean
                   FROM pg_db_role_setting s, unnest(s.setconfig) AS c
                  WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = $1)
                    AND s.setrole = 0
                    AND c LIKE 'default\_transaction\_read\_only=%'), false)::text
