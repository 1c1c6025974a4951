-- audit: record one action (src/state_audit.c). $1 migration, $2 server
-- (source, target), $3 action, $4 object (or NULL), $5 outcome (ok,
-- failed), $6 duration in ms (or NULL), $7 detail (or NULL; redacted by the
-- caller), $8 when it happened (epoch seconds on pgbaton's clock).
INSERT INTO pgbaton.action (migration, at, server, action, object, outcome, duration_ms, detail)
VALUES ($1, to_timestamp($8::double precision), $2, $3, $4, $5, $6::double precision, $7)
