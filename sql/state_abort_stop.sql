-- abort: phase stopped (a running start stops), with the event saying so,
-- only from a phase the table of transitions allows before stopped.
-- $1 name, $2 the event's message, $3 the allowed phases (text[]).
WITH u AS (UPDATE pgbaton.migration SET phase = 'stopped'
            WHERE name = $1 AND phase = ANY ($3::text[])
           RETURNING name)
INSERT INTO pgbaton.event (migration, level, message)
SELECT name, 'info', $2 FROM u
