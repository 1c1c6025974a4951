-- Append an event (for report). $1 migration, $2 level (info, warn,
-- error), $3 message (redacted by the caller).
INSERT INTO pgbaton.event (migration, level, message) VALUES ($1, $2, $3)
