-- audit: record one action (src/state_audit.c). $1 migration, $2 server
-- (source, target), $3 action, $4 object (or NULL), $5 outcome (ok,
-- failed), $6 duration in ms (or NULL), $7 detail (or NULL; redacted by the
-- caller).
INSERT INTO pgbaton.action (migration, server, action, object, outcome, duration_ms, detail)
VALUES ($1, $2, $3, $4, $5, $6::double precision, $7)
